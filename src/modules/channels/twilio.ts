import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ChannelProvider, Delivery } from './provider.ts';
import { PermanentDeliveryError } from './provider.ts';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string;
  baseUrl: string;
  /** where the carrier posts status callbacks (absent: no callbacks requested) */
  statusCallbackUrl?: string;
}

const REQUEST_TIMEOUT_MS = 15_000;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Form fields of a Messages.json or Calls.json request. */
export function twilioRequestFields(delivery: Delivery, settings: TwilioSettings): Record<string, string> {
  const fields: Record<string, string> = { To: delivery.to, From: settings.from };
  // the message's own id, so a callback that beats the worker's record of the send still finds it
  if (settings.statusCallbackUrl) fields.StatusCallback = `${settings.statusCallbackUrl}?message=${encodeURIComponent(delivery.messageId)}`;
  if (delivery.channel === 'text') return { ...fields, Body: delivery.content };
  fields.Twiml = `<Response><Say>${escapeXml(delivery.content)}</Say></Response>`;
  // wait for the answering machine's beep, then the same TwiML speaks the message as a voicemail
  if (delivery.voicemailEnabled) fields.MachineDetection = 'DetectMessageEnd';
  if (settings.statusCallbackUrl) fields.StatusCallbackEvent = 'completed';
  return fields;
}

/**
 * A form POST over a keep-alive agent. node:http rather than fetch: at outbox rates the
 * per-request cost of the client is most of the worker's CPU.
 */
function postForm(url: URL, agent: HttpAgent, headers: Record<string, string>, form: string): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { method: 'POST', agent, timeout: REQUEST_TIMEOUT_MS, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url.host} within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(form);
  });
}

/** SMS and calls over Twilio's REST API, or anything speaking it (TWILIO_BASE_URL). */
export function twilioProvider(settings: TwilioSettings): ChannelProvider {
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
  const base = `${settings.baseUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}`;
  const agent = base.startsWith('https:') ? new HttpsAgent({ keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  return {
    name: 'twilio',
    async send(delivery) {
      const resource = delivery.channel === 'call' ? 'Calls.json' : 'Messages.json';
      const response = await postForm(
        new URL(`${base}/${resource}`),
        agent,
        { authorization, 'i-twilio-idempotency-token': delivery.idempotencyKey },
        new URLSearchParams(twilioRequestFields(delivery, settings)).toString(),
      );
      if (response.status < 200 || response.status >= 300) {
        const problem = `twilio ${resource} answered ${response.status}: ${response.text.slice(0, 300)}`;
        // 4xx means the request itself is wrong (number, auth); 429 and 5xx are worth retrying
        if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new PermanentDeliveryError(problem);
        throw new Error(problem);
      }
      const body = JSON.parse(response.text) as { sid?: string };
      return { provider: 'twilio', providerMessageId: body.sid ?? null, status: 'sent' };
    },
    async close() {
      agent.destroy();
    },
  };
}

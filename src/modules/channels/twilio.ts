import { Pool } from 'undici';
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
  const fields: Record<string, string> = { To: delivery.to, From: delivery.from ?? settings.from };
  // the message's own id, so a callback that beats the worker's record of the send still finds it
  if (settings.statusCallbackUrl) fields.StatusCallback = `${settings.statusCallbackUrl}?message=${encodeURIComponent(delivery.messageId)}`;
  if (delivery.channel === 'text') return { ...fields, Body: delivery.content };
  fields.Twiml = `<Response><Say>${escapeXml(delivery.content)}</Say></Response>`;
  // wait for the answering machine's beep, then the same TwiML speaks the message as a voicemail
  if (delivery.voicemailEnabled) fields.MachineDetection = 'DetectMessageEnd';
  if (settings.statusCallbackUrl) fields.StatusCallbackEvent = 'completed';
  return fields;
}

/** SMS and calls over Twilio's REST API, or anything speaking it (TWILIO_BASE_URL). */
export function twilioProvider(settings: TwilioSettings): ChannelProvider {
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
  const base = `${settings.baseUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}`;
  const origin = new URL(base);
  // undici's keep-alive pool rather than node:http or fetch: at outbox rates the client's
  // per-request cost is a large share of a worker's CPU, and this one costs least
  const pool = new Pool(origin.origin, { connections: 64, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
  return {
    name: 'twilio',
    async send(delivery) {
      const resource = delivery.channel === 'call' ? 'Calls.json' : 'Messages.json';
      const response = await pool.request({
        path: `${origin.pathname}/${resource}`,
        method: 'POST',
        headers: { authorization, 'i-twilio-idempotency-token': delivery.idempotencyKey, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(twilioRequestFields(delivery, settings)).toString(),
      });
      const text = await response.body.text();
      if (response.statusCode < 200 || response.statusCode >= 300) {
        const problem = `twilio ${resource} answered ${response.statusCode}: ${text.slice(0, 300)}`;
        // 4xx means the request itself is wrong (number, auth); 429 and 5xx are worth retrying
        if (response.statusCode >= 400 && response.statusCode < 500 && response.statusCode !== 429) throw new PermanentDeliveryError(problem);
        throw new Error(problem);
      }
      const created = JSON.parse(text) as { sid?: string };
      return { provider: 'twilio', providerMessageId: created.sid ?? null, status: 'sent' };
    },
    async close() {
      await pool.close();
    },
  };
}

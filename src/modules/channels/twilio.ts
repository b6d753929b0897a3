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
  if (settings.statusCallbackUrl) fields.StatusCallback = settings.statusCallbackUrl;
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
  return {
    name: 'twilio',
    async send(delivery) {
      const resource = delivery.channel === 'call' ? 'Calls.json' : 'Messages.json';
      const response = await fetch(`${base}/${resource}`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          'i-twilio-idempotency-token': delivery.idempotencyKey,
        },
        body: new URLSearchParams(twilioRequestFields(delivery, settings)),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (!response.ok) {
        const problem = `twilio ${resource} answered ${response.status}: ${text.slice(0, 300)}`;
        // 4xx means the request itself is wrong (number, auth); 429 and 5xx are worth retrying
        if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new PermanentDeliveryError(problem);
        throw new Error(problem);
      }
      const body = JSON.parse(text) as { sid?: string };
      return { provider: 'twilio', providerMessageId: body.sid ?? null, status: 'sent' };
    },
  };
}

import nodemailer from 'nodemailer';
import type { ChannelProvider } from './provider.ts';
import { PermanentDeliveryError } from './provider.ts';

export const DEFAULT_EMAIL_SUBJECT = 'Following up';
const SMTP_TIMEOUT_MS = 15_000;

/**
 * Email over SMTP (nodemailer, pooled connections unless the URL says `pool=false`; the
 * URL's own options, such as `maxConnections`, apply). The idempotency key becomes the
 * Message-ID, so a retried send is recognisably the same message downstream; `replyAddress`
 * gives the message's Reply-To, where the lead's answer reaches the inbound listener.
 */
export function smtpProvider(smtpUrl: string, from: string, replyAddress?: (messageId: string) => string | undefined): ChannelProvider {
  // bounded like the Twilio requests, so a send ends well within the delivery lease
  const transport = nodemailer.createTransport({ pool: true, url: smtpUrl, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS });
  return {
    name: 'smtp',
    async send(delivery) {
      try {
        const info = await transport.sendMail({
          from,
          // one address, never read as a list: what is sent to is what the lead row holds
          to: { name: '', address: delivery.to },
          replyTo: replyAddress?.(delivery.messageId),
          subject: delivery.subject ?? DEFAULT_EMAIL_SUBJECT,
          text: delivery.content,
          messageId: `<${delivery.idempotencyKey}@openlead>`,
          headers: { 'X-OpenLead-Idempotency-Key': delivery.idempotencyKey },
        });
        return { provider: 'smtp', providerMessageId: info.messageId ?? null, status: 'sent' };
      } catch (error) {
        // 5xx replies (no such mailbox, rejected recipient) are final; connection trouble and 4xx are not
        const code = (error as { responseCode?: number }).responseCode;
        if (code !== undefined && code >= 500) throw new PermanentDeliveryError((error as Error).message);
        throw error;
      }
    },
    async close() {
      transport.close();
    },
  };
}

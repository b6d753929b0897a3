import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AppContext } from '../../context.ts';
import { toAppError } from '../../http/errors.ts';
import { parseLeadEmail } from './parse.ts';
import { emailRecipient, MAX_RECIPIENTS, receiveEmail, sortRecipients, type EmailRecipient } from './service.ts';

export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** What one sender can make the listener hold. */
export interface SmtpLimits {
  /** largest message (announced as SIZE; a longer DATA is drained, not kept, and answered 552) */
  messageBytes: number;
  /** connections open at once; one more is answered 421 and closed (each may hold a message of messageBytes) */
  clients: number;
  /** accepted recipients of one message; one more is answered 452 (RFC 5321 4.5.3.1.10) */
  recipients: number;
  /** an idle connection is closed after this long */
  idleMs: number;
}

export const SMTP_LIMITS: SmtpLimits = { messageBytes: MAX_MESSAGE_BYTES, clients: 100, recipients: MAX_RECIPIENTS, idleMs: 60_000 };

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The message, or undefined when it is over the size limit: the rest is then read and dropped, so the sender can still be answered. */
async function readMessage(stream: SMTPServerDataStream): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    if (stream.sizeExceeded) chunks.length = 0;
    else chunks.push(chunk as Buffer);
  }
  return stream.sizeExceeded ? undefined : Buffer.concat(chunks);
}

export interface InboundSmtp {
  port: number;
  stop(): Promise<void>;
}

/**
 * The inbound role's SMTP listener. Mail is accepted only for the inbound address of an
 * active configuration, where it makes a lead, or for the reply address of an email we
 * sent, where it is the lead's reply (anything else: 550 at RCPT). A message is
 * acknowledged (250) only after its lead is committed; a database failure answers 451 so
 * the sender retries, so nothing accepted is ever lost.
 */
export async function startInboundSmtp(ctx: AppContext, listen: { host: string; port: number }, limits: SmtpLimits = SMTP_LIMITS): Promise<InboundSmtp> {
  // what each recipient was found to be at RCPT, so DATA does not look it up again
  const accepted = new WeakMap<SMTPServerSession, Map<string, EmailRecipient>>();
  const server = new SMTPServer({
    name: 'openlead',
    banner: 'OpenLead inbound',
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideSTARTTLS: true,
    // a reverse DNS lookup per connection only adds latency: the sender is not trusted by name
    disableReverseLookup: true,
    size: limits.messageBytes,
    maxClients: limits.clients,
    maxRecipients: limits.recipients,
    socketTimeout: limits.idleMs,
    logger: false,
    onRcptTo(address, session, callback) {
      emailRecipient(ctx, address.address).then(
        (recipient) => {
          if (!recipient) return callback(smtpError(550, `No such mailbox: ${address.address}`));
          if (!accepted.has(session)) accepted.set(session, new Map());
          accepted.get(session)!.set(address.address, recipient);
          callback();
        },
        (error) => {
          ctx.log.error({ err: error }, 'inbound: recipient lookup failed');
          callback(smtpError(451, 'Temporary failure, try again later'));
        },
      );
    },
    onData(stream, session, callback) {
      const work = async () => {
        const raw = await readMessage(stream);
        if (!raw) throw smtpError(552, 'Message too large');
        const found = accepted.get(session);
        const { replies, configurations } = sortRecipients(session.envelope.rcptTo.map(({ address }) => ({ address, recipient: found?.get(address) })));
        const parsed = await parseLeadEmail(raw);
        const results = await receiveEmail(ctx, parsed, replies, configurations);
        ctx.log.info({ messageId: parsed.messageId, leads: results.map((r) => r.lead.id), replies: replies.length }, 'inbound: email received');
      };
      work().then(
        () => callback(null),
        (error: unknown) => {
          if ((error as { responseCode?: number }).responseCode) return callback(error as Error);
          // What the message itself causes (no phone and no email, a NUL character, a value
          // too long to store) is refused for good; anything else (database down, a crash, a
          // concurrent change in the way: 409) is temporary: the sender keeps the mail.
          const refusal = toAppError(error);
          if (refusal.status < 500 && refusal.status !== 409) return callback(smtpError(550, refusal.message));
          ctx.log.error({ err: error }, 'inbound: routing failed');
          callback(smtpError(451, 'Temporary failure, try again later'));
        },
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // only once listening: a failed listen is the caller's to report (one startup error line), not a logged stack
  server.on('error', (error) => ctx.log.error({ err: error }, 'inbound SMTP server error'));
  return {
    port: (server.server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

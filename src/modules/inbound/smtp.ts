import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../http/errors.ts';
import { findActiveConfigurationByInboundEmail } from '../lead-management/service.ts';
import { emailRepliedTo, receiveEmailReply, replyTargets } from '../replies/service.ts';
import { parseLeadEmail } from './parse.ts';
import { configurationsForRecipients, routeEmail } from './service.ts';

export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

async function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface InboundSmtp {
  port: number;
  stop(): Promise<void>;
}

/** An active configuration's inbound address, or a reply address of one of our emails. */
async function acceptsMailFor(ctx: AppContext, address: string): Promise<boolean> {
  return Boolean((await emailRepliedTo(ctx, address)) ?? (await findActiveConfigurationByInboundEmail(ctx, address)));
}

/**
 * The inbound role's SMTP listener. Mail is accepted only for the inbound address of an
 * active configuration, where it makes a lead, or for the reply address of an email we
 * sent, where it is the lead's reply (anything else: 550 at RCPT). A message is
 * acknowledged (250) only after its lead is committed; a database failure answers 451 so
 * the sender retries, so nothing accepted is ever lost.
 */
export async function startInboundSmtp(ctx: AppContext, listen: { host: string; port: number }): Promise<InboundSmtp> {
  const server = new SMTPServer({
    name: 'openlead',
    banner: 'OpenLead inbound',
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideSTARTTLS: true,
    // a reverse DNS lookup per connection only adds latency: the sender is not trusted by name
    disableReverseLookup: true,
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onRcptTo(address, _session, callback) {
      acceptsMailFor(ctx, address.address).then(
        (accepted) => callback(accepted ? null : smtpError(550, `No such mailbox: ${address.address}`)),
        (error) => {
          ctx.log.error({ err: error }, 'inbound: recipient lookup failed');
          callback(smtpError(451, 'Temporary failure, try again later'));
        },
      );
    },
    onData(stream, session, callback) {
      const work = async () => {
        const raw = await readAll(stream);
        if (stream.sizeExceeded) throw smtpError(552, 'Message too large');
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        const replies = await replyTargets(ctx, recipients);
        const configurations = await configurationsForRecipients(ctx, recipients);
        if (configurations.length === 0 && replies.length === 0) throw smtpError(550, 'No active recipient');
        const parsed = await parseLeadEmail(raw);
        for (const reply of replies) await receiveEmailReply(ctx, reply.lead, parsed, reply.to);
        const results = await routeEmail(ctx, configurations, parsed.contact);
        ctx.log.info({ messageId: parsed.messageId, leads: results.map((r) => r.lead.id), replies: replies.length }, 'inbound: email received');
      };
      work().then(
        () => callback(null),
        (error: unknown) => {
          if ((error as { responseCode?: number }).responseCode) return callback(error as Error);
          // A lead the message cannot make (no phone and no email) is refused for good;
          // anything else (database down, a crash) is temporary: the sender keeps the mail.
          if (error instanceof AppError && error.status < 500) return callback(smtpError(550, error.message));
          ctx.log.error({ err: error }, 'inbound: routing failed');
          callback(smtpError(451, 'Temporary failure, try again later'));
        },
      );
    },
  });
  server.on('error', (error) => ctx.log.error({ err: error }, 'inbound SMTP server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

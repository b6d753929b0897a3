import type { AppContext } from '../../context.ts';
import { badRequest, notFound } from '../../http/errors.ts';
import type { Principal } from '../auth/service.ts';
import { findActiveConfigurationByInboundEmail, type RoutingConfiguration } from '../lead-management/service.ts';
import { routeLead, routingRefusal, type RoutingResult } from '../intake/route.ts';
import { ownActiveConfiguration } from '../intake/service.ts';
import { emailRepliedTo, receiveEmailReply } from '../replies/service.ts';
import type { RepliedLead } from '../replies/store.ts';
import { parseLeadEmail, type ParsedLeadEmail } from './parse.ts';

/** Recipients of one message looked up (two queries each): SMTP answers 452 past them, HTTP 400. */
export const MAX_RECIPIENTS = 100;

/** Each address once, compared in any case (as SMTP compares them), and no more than MAX_RECIPIENTS. */
function distinctRecipients(addresses: string[]): string[] {
  const distinct = new Map<string, string>();
  for (const address of addresses) {
    const trimmed = address.trim();
    if (trimmed === '' || distinct.has(trimmed.toLowerCase())) continue;
    if (distinct.size === MAX_RECIPIENTS) {
      const message = `to may have at most ${MAX_RECIPIENTS} distinct addresses`;
      throw badRequest(message, [{ field: 'to', message }]);
    }
    distinct.set(trimmed.toLowerCase(), trimmed);
  }
  return [...distinct.values()];
}

/** What an inbound address is: a reply address of one of our emails, or an active configuration's inbound address. */
export type EmailRecipient = { reply: RepliedLead } | { configuration: RoutingConfiguration };

export async function emailRecipient(ctx: AppContext, address: string): Promise<EmailRecipient | undefined> {
  const reply = await emailRepliedTo(ctx, address);
  if (reply) return { reply };
  const configuration = await findActiveConfigurationByInboundEmail(ctx, address);
  return configuration && { configuration };
}

/** The replies among found recipients (each with its address) and their configurations (each once). */
export function sortRecipients(found: { address: string; recipient: EmailRecipient | undefined }[]): {
  replies: { to: string; lead: RepliedLead }[];
  configurations: RoutingConfiguration[];
} {
  const replies: { to: string; lead: RepliedLead }[] = [];
  const configurations = new Map<string, RoutingConfiguration>();
  for (const { address, recipient } of found) {
    if (recipient && 'reply' in recipient) replies.push({ to: address, lead: recipient.reply });
    else if (recipient) configurations.set(recipient.configuration.id, recipient.configuration);
  }
  return { replies, configurations: [...configurations.values()] };
}

/**
 * Records a parsed email as the reply of each lead it answers, then routes it through each
 * configuration it was addressed to. A lead the mail cannot make is refused before any reply
 * is recorded, so a refused mail (which the sender gets back) leaves nothing behind; a
 * temporary failure after the replies leaves them for the sender's retry to find (each
 * reply is stored once per Message-ID).
 */
export async function receiveEmail(
  ctx: AppContext,
  parsed: ParsedLeadEmail,
  replies: { to: string; lead: RepliedLead }[],
  configurations: RoutingConfiguration[],
): Promise<RoutingResult[]> {
  if (replies.length > 0) {
    for (const configuration of configurations) {
      const refusal = await routingRefusal(ctx, configuration, parsed.contact, 'email');
      if (refusal) throw refusal;
    }
  }
  for (const reply of replies) await receiveEmailReply(ctx, reply.lead, parsed, reply.to);
  const results: RoutingResult[] = [];
  for (const configuration of configurations) {
    results.push(await routeLead(ctx, configuration, structuredClone(parsed.contact), 'email'));
  }
  return results;
}

/**
 * Hosted inbound mail (POST /api/inbound/email): the configuration is the one named by
 * `configurationId`, else the one the recipients (the envelope's, else the message's To and
 * Cc) belong to; it must be the caller's organization's. A recipient that is the reply
 * address of one of the organization's emails makes the mail that lead's reply.
 */
export async function receiveEmailOverHttp(
  ctx: AppContext,
  principal: Principal,
  email: { raw: Buffer | string; envelopeRecipients: string[]; configurationId?: string },
): Promise<{ routed: RoutingResult[]; replied: RepliedLead[] }> {
  const parsed = await parseLeadEmail(email.raw);
  let configurations: RoutingConfiguration[];
  let replies: { to: string; lead: RepliedLead }[] = [];
  if (email.configurationId) {
    configurations = [await ownActiveConfiguration(ctx, principal, email.configurationId)];
  } else {
    const recipients = distinctRecipients(email.envelopeRecipients.length > 0 ? email.envelopeRecipients : parsed.recipients);
    const found = sortRecipients(await Promise.all(recipients.map(async (address) => ({ address, recipient: await emailRecipient(ctx, address) }))));
    configurations = found.configurations.filter((c) => c.organizationId === principal.organizationId);
    replies = found.replies.filter((reply) => reply.lead.organization_id === principal.organizationId);
    if (configurations.length === 0 && replies.length === 0) throw notFound('No active lead management configuration has this inbound address');
  }
  return { routed: await receiveEmail(ctx, parsed, replies, configurations), replied: replies.map((reply) => reply.lead) };
}

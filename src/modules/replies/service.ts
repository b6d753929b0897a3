import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';
import { answerReply } from '../ai/conversation.ts';
import type { ParsedLeadEmail } from '../inbound/parse.ts';
import { isOptOut } from '../webhooks-twilio/rules.ts';
import { parseReplyAddress, replyAddress, replyText } from './rules.ts';
import { cancelPendingTouches, findOutboundEmail, insertInboundMessage, markLeadReplied, type InboundMessage, type RepliedLead } from './store.ts';

const REPLY_TAG = 'reply-address';

export interface IncomingReply extends Omit<InboundMessage, 'lead'> {
  optOut: boolean;
}

/**
 * What a reply does, whatever its channel, in the caller's transaction: the lead is marked
 * replied with its cadence stopped (opted out too for an opt-out keyword), the reply is
 * stored, and pending automatic touches are canceled. `recorded` is false for a redelivery
 * of a reply already stored; undefined when the lead is gone.
 */
export async function recordReply(tx: Queryable, target: RepliedLead, reply: IncomingReply): Promise<(RepliedLead & { recorded: boolean }) | undefined> {
  const lead = await markLeadReplied(tx, target, reply.optOut, reply.now);
  if (!lead) return undefined;
  const recorded = await insertInboundMessage(tx, { ...reply, lead });
  await cancelPendingTouches(tx, lead, reply.optOut, reply.now);
  return { ...lead, recorded };
}

/** The AI's answer to a newly recorded reply (queued on autopilot, else held for approval). */
export async function answerRecordedReply(ctx: AppContext, lead: RepliedLead, content: string, channel: 'text' | 'email'): Promise<void> {
  try {
    await answerReply(ctx, lead.organization_id, lead.id, { content, channel });
  } catch (error) {
    // the reply is stored; a redelivery would find it recorded and not answer either
    ctx.log.error({ err: error, leadId: lead.id }, 'answering a reply failed');
  }
}

/**
 * The outbound email a reply address names: an address at REPLY_EMAIL_DOMAIN whose tag is
 * the one this instance gave that message. Anything else is not a reply address of ours.
 */
export async function emailRepliedTo(ctx: AppContext, address: string): Promise<RepliedLead | undefined> {
  const domain = ctx.config.replyEmailDomain;
  const parsed = domain ? parseReplyAddress(address, domain) : undefined;
  if (!parsed) return undefined;
  const expected = Buffer.from(ctx.tokens.tag(REPLY_TAG, parsed.messageId));
  if (!timingSafeEqual(expected, Buffer.from(parsed.tag))) return undefined;
  const message = await findOutboundEmail(ctx.db, parsed.messageId);
  return message && { id: message.lead_id, organization_id: message.organization_id };
}

/** The recipients that are reply addresses of ours, each with the lead it answers. */
export async function replyTargets(ctx: AppContext, recipients: string[]): Promise<{ to: string; lead: RepliedLead }[]> {
  const found = await Promise.all(recipients.map(async (to) => ({ to, lead: await emailRepliedTo(ctx, to) })));
  return found.filter((target): target is { to: string; lead: RepliedLead } => target.lead !== undefined);
}

/** The Reply-To of an outbound email, when REPLY_EMAIL_DOMAIN is set. */
export function replyAddressOf(ctx: Pick<AppContext, 'config' | 'tokens'>, messageId: string): string | undefined {
  const domain = ctx.config.replyEmailDomain;
  return domain ? replyAddress(messageId, ctx.tokens.tag(REPLY_TAG, messageId), domain) : undefined;
}

/**
 * An email reply to one of our messages: recorded on the lead like an SMS reply (cadence
 * stopped, opt-out keyword honoured, pending touches canceled), then answered in the
 * background. The text above the quoted message is what counts; a redelivered mail (same
 * Message-ID) counts once.
 */
export async function receiveEmailReply(ctx: AppContext, target: RepliedLead, mail: ParsedLeadEmail, to: string): Promise<void> {
  const content = replyText(mail.text);
  const optOut = isOptOut(content);
  const now = ctx.clock.now();
  const lead = await ctx.db.transaction((tx) =>
    recordReply(tx, target, {
      id: newId(now),
      channel: 'email',
      subject: mail.subject ?? null,
      content,
      from: mail.from ?? '',
      to,
      provider: 'smtp',
      providerMessageId: mail.messageId ?? createHash('sha256').update(`${mail.from}\n${mail.subject}\n${mail.text}`).digest('hex'),
      optOut,
      now,
    }),
  );
  if (lead?.recorded && !optOut) ctx.background.start('answer email reply', () => answerRecordedReply(ctx, lead, content, 'email'));
}

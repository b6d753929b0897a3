import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';
import { answerReply } from '../ai/conversation.ts';
import { STOPPED } from '../followups/schedule.ts';
import type { ParsedLeadEmail } from '../inbound/parse.ts';
import { updateLeadWithin } from '../leads/service.ts';
import { isOptOut } from '../webhooks-twilio/rules.ts';
import { parseReplyAddress, replyAddress, replyText } from './rules.ts';
import {
  cancelPendingTouches,
  claimOverdueAnswers,
  findOutboundEmail,
  insertInboundMessage,
  settleAnswer,
  type InboundMessage,
  type PendingAnswer,
  type RepliedLead,
} from './store.ts';

const REPLY_TAG = 'reply-address';
/** How long one attempt at answering a reply owns it: beyond two timed-out model calls. */
export const ANSWER_LEASE_MS = 120_000;
/** Attempts at answering one reply before it is given up (logged, left unanswered). */
export const MAX_ANSWER_ATTEMPTS = 3;
export const DEFAULT_ANSWER_BATCH = 20;

export interface IncomingReply extends Omit<InboundMessage, 'lead' | 'answerLease'> {
  optOut: boolean;
}

/**
 * What a reply does, whatever its channel, in the caller's transaction: the lead is marked
 * replied with its cadence stopped (opted out too for an opt-out keyword), the reply is
 * stored, and pending automatic touches are canceled. A reply that is not an opt-out is
 * stored as to be answered, under a first attempt's lease, and returned for the caller to
 * hand `answerPendingReply`. Undefined when there is nothing to answer: an opt-out, a lead
 * that is gone, or a reply already stored (a redelivery, which changes nothing at all).
 */
export async function recordReply(ctx: AppContext, tx: Queryable, target: RepliedLead, reply: IncomingReply): Promise<PendingAnswer | undefined> {
  const answerLease = reply.optOut ? null : new Date(reply.now.getTime() + ANSWER_LEASE_MS);
  // stored first: a redelivery had all its effects at its first delivery, and repeating them
  // would stop a cadence a rep has restarted since, or cancel the touches queued since
  if (!(await insertInboundMessage(tx, { ...reply, lead: target, answerLease }))) return undefined;
  // the one update path: the reply is an engagement change, so the heat is recomputed, and
  // the change is in the lead's event log as the system's. It locks the lead before its
  // messages, as every update of a lead does, and stopping the cadence cancels its touches.
  await updateLeadWithin(
    ctx,
    tx,
    { organizationId: target.organization_id },
    target.id,
    { hasReplied: true, optedOut: reply.optOut || undefined, followUpStep: STOPPED, nextFollowUpAt: null, followUpDeferredUntil: null },
    { system: true, activityAt: reply.now, stopReason: reply.optOut ? 'the lead opted out' : 'the lead replied' },
  );
  // a cadence already stopped cancels nothing above; after an opt-out, manual messages go too
  await cancelPendingTouches(tx, target, reply.optOut, reply.now);
  if (!answerLease) return undefined;
  return { id: reply.id, organization_id: target.organization_id, lead_id: target.id, channel: reply.channel, content: reply.content, answer_due_at: answerLease };
}

/**
 * The AI's answer to a recorded reply (queued on autopilot, else held for approval), written
 * only while this attempt's lease still owns the reply, and settling it in the same
 * transaction. An attempt that fails leaves the reply pending: a worker tries again when
 * the lease ends (`answerOverdueReplies`).
 */
export async function answerPendingReply(ctx: AppContext, reply: PendingAnswer): Promise<void> {
  try {
    const answered = await answerReply(ctx, reply.organization_id, reply.lead_id, reply, (tx) => settleAnswer(tx, reply, reply.answer_due_at));
    // nothing written: the lead is no longer to be answered (AI off, opted out, gone), or another attempt owns the reply
    if (!answered) await settleAnswer(ctx.db, reply, reply.answer_due_at);
  } catch (error) {
    ctx.log.error({ err: error, leadId: reply.lead_id, messageId: reply.id }, 'answering a reply failed; a worker retries when its lease ends');
  }
}

/**
 * Answers the replies whose answer is overdue — their process died before answering, or the
 * attempt failed — one batch, concurrently. Returns how many it took.
 */
export async function answerOverdueReplies(ctx: AppContext, limit = DEFAULT_ANSWER_BATCH): Promise<number> {
  const now = ctx.clock.now();
  const overdue = await claimOverdueAnswers(ctx.db, now, new Date(now.getTime() + ANSWER_LEASE_MS), limit, MAX_ANSWER_ATTEMPTS);
  await Promise.all(overdue.map((reply) => answerPendingReply(ctx, reply)));
  return overdue.length;
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

/** The Reply-To of an outbound email, when REPLY_EMAIL_DOMAIN is set. */
export function replyAddressOf(ctx: Pick<AppContext, 'config' | 'tokens'>, messageId: string): string | undefined {
  const domain = ctx.config.replyEmailDomain;
  return domain ? replyAddress(messageId, ctx.tokens.tag(REPLY_TAG, messageId), domain) : undefined;
}

/** Longer Message-IDs are stored as their digest: the id is indexed, and a sender may send any length. */
const MAX_STORED_MESSAGE_ID = 200;

/** What makes a redelivered mail the same reply: its Message-ID, else its sender and text. */
function emailProviderId(mail: ParsedLeadEmail): string {
  if (mail.messageId && mail.messageId.length <= MAX_STORED_MESSAGE_ID) return mail.messageId;
  return createHash('sha256').update(mail.messageId ?? `${mail.from}\n${mail.subject}\n${mail.text}`).digest('hex');
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
  const answer = await ctx.db.transaction((tx) =>
    recordReply(ctx, tx, target, {
      id: newId(now),
      channel: 'email',
      subject: mail.subject ?? null,
      content,
      from: mail.from ?? '',
      to,
      provider: 'smtp',
      providerMessageId: emailProviderId(mail),
      optOut,
      now,
    }),
  );
  if (answer) ctx.background.start('answer email reply', () => answerPendingReply(ctx, answer));
}

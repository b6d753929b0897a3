import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { isId, newId } from '../../lib/ids.ts';
import { nextOpening } from '../followups/business-hours.ts';
import { updateLeadWithin } from '../leads/service.ts';
import { enqueueOutbound } from '../messages/outbox.ts';
import type { MessageRow } from '../messages/store.ts';
import { answerPendingReply, recordReply } from '../replies/service.ts';
import { callRetryKey, isOptOut, statusFromCarrier } from './rules.ts';
import { applyCarrierStatus, campaignOfMessageLead, findReplyTarget, holdEarlyCarrierStatus } from './store.ts';

const MINUTE_MS = 60_000;

/**
 * A carrier status callback (`messageId`: ours, from the callback URL). A final status for a
 * message whose send the worker has not recorded yet is held until it is.
 */
export async function handleCarrierStatus(ctx: AppContext, params: Record<string, string>, messageId?: string): Promise<void> {
  const providerMessageId = params.CallSid || params.MessageSid || params.SmsSid;
  const status = statusFromCarrier(params);
  if (!providerMessageId || !status) return;
  const callback = { providerMessageId, messageId: isId(messageId) ? messageId : undefined };
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const message = await applyCarrierStatus(tx, callback, status, now);
    if (message) await followCarrierStatus(ctx, tx, message, now);
    else if (callback.messageId && status !== 'sent') await holdEarlyCarrierStatus(tx, callback.messageId, status, now);
  });
}

/**
 * What a message's new carrier status sets off: an unanswered call of a campaign lead is
 * called again `retryIntervalMinutes` later (inside the campaign's hours) until `maxRetries`
 * retries have gone unanswered; then the lead's status becomes reached-max-retries, as a
 * change of the system's in the lead's event log.
 */
export async function followCarrierStatus(ctx: AppContext, tx: Queryable, message: MessageRow, now: Date): Promise<void> {
  if (message.channel !== 'call' || message.status !== 'no_answer') return;
  const campaign = await campaignOfMessageLead(tx, message);
  if (!campaign || !campaign.lead_reachable) return;
  if (message.call_attempt > campaign.max_retries) {
    await updateLeadWithin(ctx, tx, { organizationId: message.organization_id }, message.lead_id, { status: 'reached-max-retries' }, { system: true });
    return;
  }
  const window = { timezone: campaign.timezone, start: campaign.allowed_hours_start, end: campaign.allowed_hours_end, days: campaign.allowed_days };
  await enqueueOutbound(tx, {
    organizationId: message.organization_id,
    leadId: message.lead_id,
    channel: 'call',
    content: message.content,
    origin: 'call_retry',
    sendAt: nextOpening(new Date(now.getTime() + campaign.retry_interval_minutes * MINUTE_MS), window),
    now,
    idempotencyKey: callRetryKey(message.idempotency_key, message.call_attempt + 1),
    followUpStep: message.follow_up_step,
    strategyId: message.strategy_id,
    voicemailEnabled: message.voicemail_enabled,
    callAttempt: message.call_attempt + 1,
  });
}

/**
 * An inbound SMS: recorded on its lead, stops its cadence, handles opt-out keywords, and
 * then gets an AI answer in the background (the webhook is answered first), queued on
 * autopilot or held for approval. A webhook the carrier retries is answered once.
 */
export async function handleInboundSms(ctx: AppContext, params: Record<string, string>): Promise<void> {
  if (!params.From || !params.MessageSid) return;
  const now = ctx.clock.now();
  const body = params.Body ?? '';
  const optOut = isOptOut(body);
  const answer = await ctx.db.transaction(async (tx) => {
    const target = await findReplyTarget(tx, params.From, params.To ?? '');
    return (
      target &&
      recordReply(ctx, tx, target, {
        id: newId(now),
        channel: 'text',
        subject: null,
        content: body,
        from: params.From,
        to: params.To ?? '',
        provider: 'twilio',
        providerMessageId: params.MessageSid,
        optOut,
        now,
      })
    );
  });
  // the model may take longer than the carrier waits for this webhook's answer
  if (answer) ctx.background.start('answer SMS reply', () => answerPendingReply(ctx, answer));
}

import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../lib/ids.ts';
import { composeFollowUp, templateComposer, type ComposedMessage, type FollowUpComposer } from '../modules/followups/compose.ts';
import {
  claimDueLeads,
  strategiesWithUsage,
  updateLeadSchedules,
  type DueLeadRow,
  type LeadScheduleUpdate,
  type StrategyChoiceRow,
} from '../modules/followups/store.ts';
import { followUpIdempotencyKey, planDueTouch, type DueTouch } from '../modules/followups/touch.ts';
import type { FollowUpStep } from '../modules/followups/schedule.ts';
import { insertOutboundBatch, type OutboundRow } from '../modules/messages/store.ts';
import { chooseStrategy } from '../modules/strategies/rules.ts';
import { DELIVERY_LEASE_MS, deliverClaimed, type DeliverableMessage } from './delivery.ts';

export interface DispatchOptions {
  batchSize?: number;
  /** a composer that calls a model; without one the step templates are rendered in the claim */
  composer?: FollowUpComposer;
  /**
   * Deliver the batch's messages from this process as soon as they commit: they are written
   * already claimed for delivery (see `insertOutboundBatch`), which spares each one a claim
   * statement. Without it they wait in the outbox for a delivery loop.
   */
  deliverInline?: boolean;
}

export const DEFAULT_DISPATCH_BATCH = 200;
/** Leads per batch when a model writes each touch (their calls run concurrently). */
export const DEFAULT_COMPOSE_BATCH = 20;
/** How long a composing claim holds its leads: beyond two timed-out model attempts. */
export const COMPOSE_LEASE_MS = 120_000;
/** When a lead whose touch cannot be planned (a broken stored cadence) is tried again. */
export const UNPLANNABLE_RETRY_MS = 3_600_000;

type FiringPlan = Extract<DueTouch, { kind: 'fire' }>;

interface FiredTouch {
  lead: DueLeadRow;
  plan: FiringPlan;
  strategy: StrategyChoiceRow | null;
}

async function pickStrategy(tx: Queryable, lead: DueLeadRow, touch: FollowUpStep) {
  if (!lead.use_strategies_for_follow_ups || touch.strategyIds === undefined) return null;
  const strategies = await strategiesWithUsage(tx, lead.organization_id, lead.id);
  const chosen = chooseStrategy(
    touch.strategyIds,
    strategies.map((s) => s.id),
    new Map(strategies.map((s) => [s.id, s.used])),
  );
  return strategies.find((s) => s.id === chosen) ?? null;
}

/**
 * Claims due leads (SKIP LOCKED) in the caller's transaction, writes the business-hours
 * deferrals, and answers the touches that fire now with their strategies. A lead whose touch
 * cannot be planned is logged and tried again later: one broken cadence must not fail the
 * batch, which would hold back every other organization's touches behind it.
 */
async function claimTouches(tx: Queryable, log: FastifyBaseLogger, now: Date, limit: number): Promise<{ claimed: number; fired: FiredTouch[] }> {
  const leads = await claimDueLeads(tx, now, limit);
  const deferrals: LeadScheduleUpdate[] = [];
  const fired: FiredTouch[] = [];
  for (const lead of leads) {
    let plan: DueTouch;
    try {
      plan = planDueTouch(lead, now);
    } catch (error) {
      log.error({ err: error, leadId: lead.id, organizationId: lead.organization_id }, 'follow-up touch cannot be planned; the lead is tried again in an hour');
      const retryAt = new Date(now.getTime() + UNPLANNABLE_RETRY_MS);
      deferrals.push({ organizationId: lead.organization_id, leadId: lead.id, step: lead.follow_up_step, nextFollowUpAt: retryAt, deferredUntil: null });
      continue;
    }
    if (plan.kind === 'defer') {
      deferrals.push({ organizationId: lead.organization_id, leadId: lead.id, step: lead.follow_up_step, nextFollowUpAt: plan.until, deferredUntil: plan.until });
    } else {
      fired.push({ lead, plan, strategy: await pickStrategy(tx, lead, plan.touch) });
    }
  }
  await updateLeadSchedules(tx, deferrals, now);
  return { claimed: leads.length, fired };
}

function compose({ lead, plan, strategy }: FiredTouch, composer: FollowUpComposer): Promise<ComposedMessage> {
  // a touch that cannot reach the lead is recorded as skipped: no model needed for it
  return composeFollowUp({ lead, step: plan.step, touch: plan.touch, strategy }, plan.unreachable ? templateComposer : composer);
}

function outboundRow({ lead, plan, strategy }: FiredTouch, composed: ComposedMessage, now: Date, deliverInline: boolean): OutboundRow {
  return {
    id: newId(now),
    organizationId: lead.organization_id,
    leadId: lead.id,
    channel: plan.touch.channel,
    status: plan.unreachable ? 'skipped' : deliverInline ? 'sending' : 'queued',
    lastError: plan.unreachable ?? null,
    subject: composed.subject ?? null,
    content: composed.content,
    toAddress: plan.touch.channel === 'email' ? lead.email : lead.phone,
    fromAddress: plan.touch.channel === 'email' ? null : lead.org_sms_from,
    followUpStep: plan.step,
    strategyId: strategy?.id ?? null,
    voicemailEnabled: plan.touch.channel === 'call' && plan.touch.voicemailEnabled === true,
    // the due time as claimed: a redone touch gets the same key
    idempotencyKey: followUpIdempotencyKey(lead.id, plan.step, lead.next_follow_up_at),
  };
}

/**
 * Writes the batch's touches and answers the ones this process is to deliver: those it
 * wrote (a key already written is not written again) under its own delivery lease.
 */
async function writeTouches(tx: Queryable, rows: OutboundRow[], now: Date): Promise<DeliverableMessage[]> {
  const written = await insertOutboundBatch(tx, rows, now, new Date(now.getTime() + DELIVERY_LEASE_MS));
  return rows
    .filter((row) => row.status === 'sending' && written.has(row.id))
    .map((row) => ({
      id: row.id,
      organization_id: row.organizationId,
      lead_id: row.leadId,
      origin: 'follow_up' as const,
      follow_up_step: row.followUpStep,
      strategy_id: row.strategyId,
      attempts: 1,
      channel: row.channel,
      to_address: row.toAddress,
      from_address: row.fromAddress,
      idempotency_key: row.idempotencyKey,
      subject: row.subject,
      content: row.content,
      voicemail_enabled: row.voicemailEnabled,
      // the lead was claimed contactable, with its AI on, in this transaction
      held_back: null,
    }));
}

const nextSchedule = ({ lead, plan }: FiredTouch): LeadScheduleUpdate => ({
  organizationId: lead.organization_id,
  leadId: lead.id,
  step: plan.nextStep,
  nextFollowUpAt: plan.nextAt,
  deferredUntil: null,
});

/**
 * One dispatch batch with the step templates: claims due leads (SKIP LOCKED), and in the
 * same transaction writes each fired touch to the outbox and each lead's next state, or the
 * lead's business-hours deferral. Commit makes both visible together; a crash before it
 * leaves the leads due and no message written. With `deliverInline` the messages are then
 * delivered from here. With a `composer` (a model), see `dispatchComposedOnce`. Returns how
 * many leads it handled.
 */
export async function runDispatcherOnce(ctx: AppContext, options: DispatchOptions = {}): Promise<number> {
  const deliverInline = options.deliverInline ?? false;
  if (options.composer) return dispatchComposedOnce(ctx, options.composer, options.batchSize ?? DEFAULT_COMPOSE_BATCH, deliverInline);
  const now = ctx.clock.now();
  const { claimed, handed } = await ctx.db.transaction(async (tx) => {
    const batch = await claimTouches(tx, ctx.log, now, options.batchSize ?? DEFAULT_DISPATCH_BATCH);
    const composed = await Promise.all(batch.fired.map((touch) => compose(touch, templateComposer)));
    const handed = await writeTouches(tx, batch.fired.map((touch, i) => outboundRow(touch, composed[i], now, deliverInline)), now);
    await updateLeadSchedules(tx, batch.fired.map(nextSchedule), now);
    return { claimed: batch.claimed, handed };
  });
  await deliverClaimed(ctx, handed);
  return claimed;
}

/**
 * One dispatch batch whose touches a model writes, without holding a transaction across the
 * model calls: a short transaction claims the due leads and leases the firing ones (their
 * timer becomes the lease's end, so no other worker takes them meanwhile), the touches are
 * composed outside it, and a second short transaction writes each lead's next state and its
 * message only where the lease still holds — a lead that replied, opted out, was paused or
 * rescheduled meanwhile gets nothing. A crash in between leaves the leads leased; when the
 * lease ends they are due again and fire then (nothing was written, so nothing repeats).
 */
async function dispatchComposedOnce(ctx: AppContext, composer: FollowUpComposer, limit: number, deliverInline: boolean): Promise<number> {
  const now = ctx.clock.now();
  const lease = new Date(now.getTime() + COMPOSE_LEASE_MS);
  const { claimed, fired } = await ctx.db.transaction(async (tx) => {
    const batch = await claimTouches(tx, ctx.log, now, limit);
    const leases = batch.fired.map(({ lead, plan }) => ({ organizationId: lead.organization_id, leadId: lead.id, step: plan.step, nextFollowUpAt: lease, deferredUntil: null }));
    await updateLeadSchedules(tx, leases, now);
    return batch;
  });
  if (fired.length === 0) return claimed;
  const composed = await Promise.all(fired.map((touch) => compose(touch, composer)));
  const writtenAt = ctx.clock.now();
  const handed = await ctx.db.transaction(async (tx) => {
    const held = await updateLeadSchedules(tx, fired.map(nextSchedule), writtenAt, lease);
    const rows = fired.map((touch, i) => outboundRow(touch, composed[i], writtenAt, deliverInline)).filter((row) => held.has(row.leadId));
    return writeTouches(tx, rows, writtenAt);
  });
  await deliverClaimed(ctx, handed);
  return claimed;
}

import type { AppContext } from '../context.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../lib/ids.ts';
import { composeFollowUp, type FollowUpComposer } from '../modules/followups/compose.ts';
import { claimDueLeads, strategiesWithUsage, updateLeadSchedules, type DueLeadRow, type LeadScheduleUpdate } from '../modules/followups/store.ts';
import { followUpIdempotencyKey, planDueTouch } from '../modules/followups/touch.ts';
import type { FollowUpStep } from '../modules/followups/schedule.ts';
import { insertOutboundBatch, type OutboundRow } from '../modules/messages/store.ts';
import { chooseStrategy } from '../modules/strategies/rules.ts';

export interface DispatchOptions {
  batchSize?: number;
  composer?: FollowUpComposer;
}

export const DEFAULT_DISPATCH_BATCH = 200;

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
 * One dispatch batch: claims due leads (SKIP LOCKED), and in the same transaction writes each
 * fired touch to the outbox and each lead's next state, or the lead's business-hours
 * deferral. Commit makes both visible together; a crash before it leaves the leads due and
 * no message written. Returns how many leads it handled.
 */
export async function runDispatcherOnce(ctx: AppContext, options: DispatchOptions = {}): Promise<number> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const leads = await claimDueLeads(tx, now, options.batchSize ?? DEFAULT_DISPATCH_BATCH);
    const schedules: LeadScheduleUpdate[] = [];
    const outbound: OutboundRow[] = [];
    for (const lead of leads) {
      const plan = planDueTouch(lead, now);
      if (plan.kind === 'defer') {
        schedules.push({ organizationId: lead.organization_id, leadId: lead.id, step: lead.follow_up_step, nextFollowUpAt: plan.until, deferredUntil: plan.until });
        continue;
      }
      const strategy = await pickStrategy(tx, lead, plan.touch);
      const composed = await composeFollowUp({ lead, step: plan.step, touch: plan.touch, strategy }, options.composer);
      outbound.push({
        id: newId(now),
        organizationId: lead.organization_id,
        leadId: lead.id,
        channel: plan.touch.channel,
        status: plan.unreachable ? 'skipped' : 'queued',
        lastError: plan.unreachable ?? null,
        subject: composed.subject ?? null,
        content: composed.content,
        toAddress: plan.touch.channel === 'email' ? lead.email : lead.phone,
        followUpStep: plan.step,
        strategyId: strategy?.id ?? null,
        voicemailEnabled: plan.touch.channel === 'call' && plan.touch.voicemailEnabled === true,
        idempotencyKey: followUpIdempotencyKey(lead.id, plan.step, lead.next_follow_up_at),
      });
      schedules.push({ organizationId: lead.organization_id, leadId: lead.id, step: plan.nextStep, nextFollowUpAt: plan.nextAt, deferredUntil: null });
    }
    await insertOutboundBatch(tx, outbound, now);
    await updateLeadSchedules(tx, schedules, now);
    return leads.length;
  });
}

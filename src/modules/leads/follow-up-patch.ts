import type { Queryable } from '../../db/database.ts';
import { findAgent } from '../agents/store.ts';
import { planFollowUpUpdate, resolveCadence, validateFollowUpConfig, type FollowUpConfig } from '../followups/schedule.ts';
import { findOrganization } from '../organizations/store.ts';
import type { LeadColumns, LockedLeadRow } from './store.ts';

/** The part of a client's lead patch the follow-up rules judge. */
export interface FollowUpPatch {
  agentId?: string | null;
  followUpConfig?: unknown;
  followUpStep?: number | null;
  useStrategiesForFollowUps?: boolean;
}

/**
 * Seed 002's follow-up rules, for every surface that updates a lead (native PATCH, Apten):
 * a new followUpConfig must suit the lead's agent and organization, and a new followUpStep
 * and/or followUpConfig resets the timer (followups/schedule.ts). Runs in the update's
 * transaction on the locked row; returns the follow-up columns to write, or none.
 */
export async function followUpColumns(
  tx: Queryable,
  organizationId: string,
  before: Pick<LockedLeadRow, 'agent_id' | 'follow_up_step' | 'follow_up_config' | 'use_strategies_for_follow_ups'>,
  patch: FollowUpPatch,
  now: Date,
): Promise<LeadColumns> {
  if (patch.followUpConfig === undefined && (patch.followUpStep === undefined || patch.followUpStep === null)) return {};
  const agentId = before.agent_id ?? patch.agentId ?? null;
  const [organization, agent] = await Promise.all([
    findOrganization(tx, organizationId),
    agentId === null ? undefined : findAgent(tx, organizationId, agentId),
  ]);
  const patchConfig =
    patch.followUpConfig === undefined || patch.followUpConfig === null
      ? (patch.followUpConfig as null | undefined)
      : validateFollowUpConfig(patch.followUpConfig, {
          useStrategiesForFollowUps: patch.useStrategiesForFollowUps ?? before.use_strategies_for_follow_ups,
          agentVoiceEnabled: agent?.voice_enabled ?? false,
          agentEmailEnabled: agent?.email_enabled ?? false,
          organizationEmailEnabled: organization?.email_enabled ?? false,
        });
  const plan = planFollowUpUpdate({
    currentStep: before.follow_up_step,
    currentConfig: before.follow_up_config as FollowUpConfig | null,
    patchStep: patch.followUpStep ?? undefined,
    patchConfig,
    now,
    effectiveConfig: resolveCadence(null, agent?.follow_up_config as FollowUpConfig | null, organization?.default_follow_up_config as FollowUpConfig | null),
    longTermIntervalHours: organization?.long_term_interval_hours,
  });
  if (!plan) return {};
  return {
    follow_up_step: plan.followUpStep,
    follow_up_config: plan.followUpConfig,
    next_follow_up_at: plan.nextFollowUpAt,
    follow_up_deferred_until: plan.followUpDeferredUntil,
  } as LeadColumns;
}

/**
 * The same rules for a lead created with a cadence, as a PATCH of a lead that had none: its
 * followUpConfig must suit its agent and organization, its followUpStep must be a step of
 * the cadence it will follow (or -1, -2), and that step is timed from now — so a create
 * neither stores what the same PATCH would refuse nor leaves a step that never comes due.
 */
export function newLeadFollowUpColumns(db: Queryable, organizationId: string, lead: FollowUpPatch, now: Date): Promise<LeadColumns> {
  return followUpColumns(db, organizationId, { agent_id: null, follow_up_step: null, follow_up_config: null, use_strategies_for_follow_ups: false }, lead, now);
}

import type { DueLeadRow } from './store.ts';
import { DEFAULT_SEND_WINDOW, isValidTimezone, nextOpening, type SendWindow } from './business-hours.ts';
import { dueAt, firstStep, LONG_TERM, resolveCadence, stepAfter, type FollowUpConfig, type FollowUpStep } from './schedule.ts';

export function cadenceFor(lead: DueLeadRow): FollowUpConfig {
  return resolveCadence(lead.follow_up_config, lead.agent_config, lead.org_config);
}

/**
 * Campaign leads follow the campaign's hours, days and timezone. Others use the agent's
 * window, else the organization's, in the lead's timezone (else the agent's, else the
 * organization's); an unknown timezone name falls back along the same chain.
 */
export function sendWindowFor(lead: DueLeadRow): SendWindow {
  if (lead.campaign_id && lead.campaign_timezone && lead.campaign_hours_start && lead.campaign_hours_end && lead.campaign_days) {
    return { timezone: firstValidTimezone(lead.campaign_timezone), start: lead.campaign_hours_start, end: lead.campaign_hours_end, days: lead.campaign_days };
  }
  return {
    timezone: firstValidTimezone(lead.timezone, lead.agent_timezone, lead.org_timezone),
    start: lead.agent_window_start ?? lead.org_window_start ?? DEFAULT_SEND_WINDOW.start,
    end: lead.agent_window_end ?? lead.org_window_end ?? DEFAULT_SEND_WINDOW.end,
    days: lead.agent_send_days ?? lead.org_send_days ?? DEFAULT_SEND_WINDOW.days,
  };
}

function firstValidTimezone(...names: (string | null)[]): string {
  return names.find((name): name is string => !!name && isValidTimezone(name)) ?? 'UTC';
}

export type DueTouch =
  | { kind: 'defer'; until: Date }
  | {
      kind: 'fire';
      step: number;
      touch: FollowUpStep;
      nextStep: number;
      nextAt: Date | null;
      /** why the lead cannot be reached on the touch's channel, when it cannot */
      unreachable?: string;
    };

/** A long-term touch is a plain text unless the cadence's last step says otherwise. */
function touchOf(cadence: FollowUpConfig, step: number): FollowUpStep {
  const own = cadence[String(step)];
  if (own) return own;
  const keys = Object.keys(cadence).map(Number);
  const last = cadence[String(Math.max(...keys))];
  return { hours: last?.hours ?? 24, channel: last?.channel ?? 'text', template: last?.template };
}

/**
 * What to do with a lead whose touch is due at `now`: wait for the sending window to open
 * (the deferral is written on the lead), or fire the step and move to the next one (after
 * the last step: LONG_TERM, every long-term interval).
 */
export function planDueTouch(lead: DueLeadRow, now: Date): DueTouch {
  const opening = nextOpening(now, sendWindowFor(lead));
  if (opening.getTime() > now.getTime()) return { kind: 'defer', until: opening };
  const cadence = cadenceFor(lead);
  const step = lead.follow_up_step ?? firstStep(cadence);
  const touch = touchOf(cadence, step);
  const nextStep = step === LONG_TERM ? LONG_TERM : stepAfter(cadence, step);
  return {
    kind: 'fire',
    step,
    touch,
    nextStep,
    nextAt: dueAt(cadence, nextStep, now, lead.long_term_interval_hours),
    unreachable: unreachableReason(lead, touch),
  };
}

// A cadence is checked against the agent's channels when it is written, but a channel the
// agent gave up later, or the organization's default cadence (written for every agent), can
// still reach a touch: it is skipped, as the agent does not speak on that channel.
function unreachableReason(lead: DueLeadRow, touch: FollowUpStep): string | undefined {
  if (touch.channel === 'email') {
    if (!lead.org_email_enabled) return 'email is disabled for the organization';
    if (lead.agent_email_enabled === false) return "email is disabled for the lead's agent";
    return lead.email ? undefined : 'the lead has no email address';
  }
  if (touch.channel === 'call' && lead.agent_voice_enabled === false) return "the lead's agent does not make calls";
  return lead.phone ? undefined : 'the lead has no phone number';
}

/** One key per intended touch: the same lead, step and due time can only ever yield one message. */
export function followUpIdempotencyKey(leadId: string, step: number, dueAt: Date): string {
  return `followup:${leadId}:${step}:${dueAt.toISOString()}`;
}

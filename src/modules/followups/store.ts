import type { Queryable } from '../../db/database.ts';
import type { FollowUpConfig } from './schedule.ts';

/** A lead with everything the dispatcher needs to decide its touch (one joined read). */
export interface DueLeadRow {
  id: string;
  organization_id: string;
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  additional_info: Record<string, unknown>;
  follow_up_config: FollowUpConfig | null;
  follow_up_step: number | null;
  next_follow_up_at: Date;
  use_strategies_for_follow_ups: boolean;
  campaign_id: string | null;
  agent_config: FollowUpConfig | null;
  agent_timezone: string | null;
  agent_window_start: string | null;
  agent_window_end: string | null;
  agent_send_days: number[] | null;
  org_config: FollowUpConfig | null;
  org_timezone: string;
  org_window_start: string;
  org_window_end: string;
  org_send_days: number[];
  long_term_interval_hours: number;
  org_email_enabled: boolean;
  /** the organization's own sender number for texts and calls, or null (TWILIO_FROM) */
  org_sms_from: string | null;
  /** null when the lead has no agent */
  agent_voice_enabled: boolean | null;
  agent_email_enabled: boolean | null;
  campaign_timezone: string | null;
  campaign_hours_start: string | null;
  campaign_hours_end: string | null;
  campaign_days: number[] | null;
}

const TOUCH_CONTEXT_SELECT = `l.id, l.organization_id, l.first_name, l.last_name, l.name, l.email, l.phone, l.timezone, l.additional_info,
            l.follow_up_config, l.follow_up_step, l.next_follow_up_at, l.use_strategies_for_follow_ups, l.campaign_id,
            a.follow_up_config AS agent_config, a.timezone AS agent_timezone, a.send_window_start::text AS agent_window_start,
            a.send_window_end::text AS agent_window_end, a.send_days AS agent_send_days,
            a.voice_enabled AS agent_voice_enabled, a.email_enabled AS agent_email_enabled,
            o.default_follow_up_config AS org_config, o.timezone AS org_timezone, o.send_window_start::text AS org_window_start,
            o.send_window_end::text AS org_window_end, o.send_days AS org_send_days, o.long_term_interval_hours,
            o.email_enabled AS org_email_enabled, o.sms_from AS org_sms_from,
            c.timezone AS campaign_timezone, c.allowed_hours_start::text AS campaign_hours_start,
            c.allowed_hours_end::text AS campaign_hours_end, c.allowed_days AS campaign_days`;

const TOUCH_CONTEXT_FROM = `
       FROM leads l
       JOIN organizations o ON o.id = l.organization_id
       LEFT JOIN agents a ON a.organization_id = l.organization_id AND a.id = l.agent_id
       LEFT JOIN campaigns c ON c.organization_id = l.organization_id AND c.id = l.campaign_id`;

export interface TouchContextRow extends DueLeadRow {
  opted_out: boolean;
  is_ai_on: boolean;
}

/**
 * Claims up to `limit` due leads across all organizations, oldest due first, locked until the
 * transaction ends; rows another worker holds are skipped, so concurrent workers never share
 * a lead. Call it once per transaction (the cursor lives until the transaction ends).
 *
 * A cursor, not `LIMIT`: PostgreSQL plans a cursor for its first rows, so the claim walks the
 * dispatch index in due order and stops after `limit` lockable leads whatever the table's
 * statistics say. A table without statistics (freshly loaded, autovacuum off, and PGlite,
 * which never analyzes) estimates a handful of due leads, and the `LIMIT` form was then
 * planned as a join and sort of every due lead on each batch — 0.3 s per batch of 200 at
 * 100,000 due leads, instead of 2 ms.
 */
export async function claimDueLeads(tx: Queryable, now: Date, limit: number): Promise<DueLeadRow[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`claim limit must be a positive integer, got ${limit}`);
  await tx.query(
    `DECLARE due_leads CURSOR FOR
     SELECT ${TOUCH_CONTEXT_SELECT} ${TOUCH_CONTEXT_FROM}
      WHERE l.next_follow_up_at <= $1 AND l.deleted_at IS NULL AND l.is_ai_on AND NOT l.opted_out
        AND l.follow_up_step IS DISTINCT FROM -1
      ORDER BY l.next_follow_up_at
      FOR UPDATE OF l SKIP LOCKED`,
    [now],
  );
  return tx.query<DueLeadRow>(`FETCH ${limit} FROM due_leads`);
}

export interface LeadRef {
  organizationId: string;
  leadId: string;
}

/**
 * Leads with the same context, for sends outside the cadence, each named with its own
 * organization (missing or deleted ones are left out), in one statement.
 */
export function findLeadTouchContexts(db: Queryable, leads: LeadRef[]): Promise<TouchContextRow[]> {
  return db.query<TouchContextRow>(
    `SELECT ${TOUCH_CONTEXT_SELECT}, l.opted_out, l.is_ai_on ${TOUCH_CONTEXT_FROM}
      WHERE (l.organization_id, l.id) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND l.deleted_at IS NULL`,
    [leads.map((lead) => lead.organizationId), leads.map((lead) => lead.leadId)],
  );
}

/** One lead with that context, for a manual send (undefined when missing or deleted). */
export async function findLeadTouchContext(db: Queryable, organizationId: string, leadId: string): Promise<TouchContextRow | undefined> {
  return (await findLeadTouchContexts(db, [{ organizationId, leadId }]))[0];
}

export interface LeadScheduleUpdate {
  organizationId: string;
  leadId: string;
  step: number | null;
  nextFollowUpAt: Date | null;
  deferredUntil: Date | null;
}

/** A timestamp in an event's changes as the leads module writes it there (JSON of a Date: toISOString). */
const eventTime = (value: string) => `to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** An event's `{field: {from, to}}` when the value changes, else nothing. */
const eventChange = (field: string, from: string, to: string, json: (value: string) => string = (value) => value) =>
  `CASE WHEN ${from} IS DISTINCT FROM ${to} THEN jsonb_build_object('${field}', jsonb_build_object('from', ${json(from)}, 'to', ${json(to)})) ELSE '{}' END`;

/**
 * Writes the next follow-up state of many leads, and each lead's event (old and new values,
 * by the system), in one statement. The old values are read from the rows as locked for the
 * write, so they are the values the write replaced. With `lease`, only leads still held by
 * that claim are written (their timer is still the lease's end and they are still
 * contactable); answers the ids of the leads written.
 */
export async function updateLeadSchedules(tx: Queryable, updates: LeadScheduleUpdate[], now: Date, lease?: Date): Promise<Set<string>> {
  if (updates.length === 0) return new Set();
  const written = await tx.query<{ id: string }>(
    { name: 'leads.updateSchedules', text: `WITH locked AS (
       SELECT l.organization_id, l.id, l.follow_up_step, l.next_follow_up_at, l.follow_up_deferred_until, u.step, u.next_at, u.deferred_until
         FROM leads l
         JOIN unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[])
              AS u(organization_id, id, step, next_at, deferred_until) ON l.organization_id = u.organization_id AND l.id = u.id
        WHERE $7::timestamptz IS NULL OR (l.next_follow_up_at = $7 AND l.is_ai_on AND NOT l.opted_out AND l.deleted_at IS NULL)
        FOR UPDATE OF l
     ), written AS (
       UPDATE leads l SET follow_up_step = o.step, next_follow_up_at = o.next_at, follow_up_deferred_until = o.deferred_until,
              version = l.version + 1, updated_at = $6
         FROM locked o
        WHERE l.organization_id = o.organization_id AND l.id = o.id
       RETURNING l.organization_id, l.id,
                 ${eventChange('followUpStep', 'o.follow_up_step', 'l.follow_up_step')}
                 || ${eventChange('nextFollowUpAt', 'o.next_follow_up_at', 'l.next_follow_up_at', eventTime)}
                 || ${eventChange('followUpDeferredUntil', 'o.follow_up_deferred_until', 'l.follow_up_deferred_until', eventTime)} AS changes
     ), event AS (
       INSERT INTO lead_events (organization_id, lead_id, actor_user_id, actor, kind, changes, at)
       SELECT organization_id, id, NULL, 'system', 'updated', changes, $6 FROM written
     )
     SELECT id FROM written` },
    [
      updates.map((u) => u.organizationId),
      updates.map((u) => u.leadId),
      updates.map((u) => u.step),
      updates.map((u) => u.nextFollowUpAt),
      updates.map((u) => u.deferredUntil),
      now,
      lease ?? null,
    ],
  );
  return new Set(written.map((row) => row.id));
}

export interface StrategyChoiceRow {
  id: string;
  name: string;
  instructions: string;
  /** how many messages of this lead used it so far */
  used: number;
}

/** The organization's strategies in creation order, each with its use on the lead so far. */
export function strategiesWithUsage(tx: Queryable, organizationId: string, leadId: string): Promise<StrategyChoiceRow[]> {
  return tx.query<StrategyChoiceRow>(
    `SELECT s.id, s.name, s.instructions,
            (SELECT count(*) FROM messages m WHERE m.organization_id = $1 AND m.lead_id = $2 AND m.strategy_id = s.id)::int AS used
       FROM strategies s WHERE s.organization_id = $1 ORDER BY s.created_at, s.id`,
    [organizationId, leadId],
  );
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';

export interface OrganizationRow {
  id: string;
  name: string;
  timezone: string;
  default_country: string;
  send_window_start: string;
  send_window_end: string;
  send_days: number[];
  long_term_interval_hours: number;
  email_enabled: boolean;
  default_follow_up_config: Record<string, unknown> | null;
  /** its own sender number for texts and calls; null: the deployment's TWILIO_FROM */
  sms_from: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The settings an ADMIN may change (PATCH /api/organization); each one given is written. */
export interface OrganizationSettings {
  timezone: string;
  defaultCountry: string;
  sendWindowStart: string;
  sendWindowEnd: string;
  sendDays: number[];
  longTermIntervalHours: number;
  emailEnabled: boolean;
  defaultFollowUpConfig: Record<string, unknown> | null;
}

export function insertOrganization(db: Queryable, org: { id: string; name: string; defaultCountry: string }): Promise<OrganizationRow> {
  return one<OrganizationRow>(db, `INSERT INTO organizations (id, name, default_country) VALUES ($1, $2, $3) RETURNING *`, [
    org.id,
    org.name,
    org.defaultCountry,
  ]);
}

/**
 * With `lock`, the row stays locked until the caller's transaction ends, so concurrent
 * settings changes apply one after the other. NO KEY UPDATE is the lock an UPDATE takes
 * anyway: it does not hold up rows of the organization being inserted (their foreign key check).
 */
export function findOrganization(db: Queryable, id: string, lock = false): Promise<OrganizationRow | undefined> {
  return maybeOne<OrganizationRow>(db, `SELECT * FROM organizations WHERE id = $1${lock ? ' FOR NO KEY UPDATE' : ''}`, [id]);
}

/** Changes only the settings given, in one statement; the caller has checked they exist. */
export function updateOrganizationSettings(db: Queryable, id: string, changes: Partial<OrganizationSettings>, now: Date): Promise<OrganizationRow> {
  return one<OrganizationRow>(
    db,
    `UPDATE organizations SET
       timezone = COALESCE($2, timezone),
       default_country = COALESCE($3, default_country),
       send_window_start = COALESCE($4::time, send_window_start),
       send_window_end = COALESCE($5::time, send_window_end),
       send_days = COALESCE($6::smallint[], send_days),
       long_term_interval_hours = COALESCE($7::integer, long_term_interval_hours),
       email_enabled = COALESCE($8::boolean, email_enabled),
       default_follow_up_config = CASE WHEN $9::boolean THEN $10::jsonb ELSE default_follow_up_config END,
       updated_at = $11
     WHERE id = $1 RETURNING *`,
    [
      id,
      changes.timezone ?? null,
      changes.defaultCountry ?? null,
      changes.sendWindowStart ?? null,
      changes.sendWindowEnd ?? null,
      changes.sendDays ?? null,
      changes.longTermIntervalHours ?? null,
      changes.emailEnabled ?? null,
      changes.defaultFollowUpConfig !== undefined,
      changes.defaultFollowUpConfig ?? null,
      now,
    ],
  );
}

/**
 * Gives the organization its own sender number (null: back to the shared one). Answers false
 * when no such organization exists; a number another organization has fails the unique index.
 */
export async function setOrganizationSmsFrom(db: Queryable, id: string, smsFrom: string | null, now: Date): Promise<boolean> {
  const updated = await db.query(`UPDATE organizations SET sms_from = $2, updated_at = $3 WHERE id = $1 RETURNING id`, [id, smsFrom, now]);
  return updated.length === 1;
}

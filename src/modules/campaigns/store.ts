import { insertNumbered } from '../../db/bulk.ts';
import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import type { CampaignStatus } from './rules.ts';

export interface CampaignRow {
  id: string;
  /** bigint: node-postgres returns it as a string, PGlite as a number */
  seq: string | number;
  organization_id: string;
  user_id: string;
  name: string;
  agent_id: string | null;
  timezone: string;
  allowed_hours_start: string;
  allowed_hours_end: string;
  allowed_days: number[];
  max_retries: number;
  retry_interval_minutes: number;
  status: CampaignStatus;
  created_at: Date;
  updated_at: Date;
}

export interface CampaignFields {
  name: string;
  agentId: string | null;
  timezone: string;
  allowedHours: { start: string; end: string };
  allowedDays: number[];
  maxRetries: number;
  retryIntervalMinutes: number;
}

/** Inserts a new campaign, numbered in its organization. */
export async function insertCampaign(
  db: Queryable,
  campaign: CampaignFields & { id: string; organizationId: string; userId: string; now: Date },
): Promise<CampaignRow> {
  const record = {
    id: campaign.id,
    user_id: campaign.userId,
    name: campaign.name,
    agent_id: campaign.agentId,
    timezone: campaign.timezone,
    allowed_hours_start: campaign.allowedHours.start,
    allowed_hours_end: campaign.allowedHours.end,
    allowed_days: campaign.allowedDays,
    max_retries: campaign.maxRetries,
    retry_interval_minutes: campaign.retryIntervalMinutes,
    created_at: campaign.now,
    updated_at: campaign.now,
  };
  const [row] = await insertNumbered<CampaignRow>(db, 'campaigns', campaign.organizationId, Object.keys(record), [record], 'RETURNING *');
  return row;
}

export function findCampaign(db: Queryable, organizationId: string, id: string): Promise<CampaignRow | undefined> {
  return maybeOne<CampaignRow>(db, `SELECT * FROM campaigns WHERE organization_id = $1 AND id = $2`, [organizationId, id]);
}

/** Autocalls addresses campaigns by their integer id. */
export function findCampaignBySeq(db: Queryable, organizationId: string, seq: number): Promise<CampaignRow | undefined> {
  return maybeOne<CampaignRow>(db, `SELECT * FROM campaigns WHERE organization_id = $1 AND seq = $2`, [organizationId, seq]);
}

export function listCampaigns(db: Queryable, organizationId: string): Promise<CampaignRow[]> {
  return db.query<CampaignRow>(`SELECT * FROM campaigns WHERE organization_id = $1 ORDER BY created_at, id`, [organizationId]);
}

/**
 * Changes only the fields given. A status change applies only if the status is still the one
 * the rule was checked against, so two concurrent changes cannot both pass the check.
 */
export function updateCampaign(
  db: Queryable,
  organizationId: string,
  id: string,
  changes: Partial<CampaignFields> & { status?: CampaignStatus },
  expectedStatus: CampaignStatus,
  now: Date,
): Promise<CampaignRow | undefined> {
  return maybeOne<CampaignRow>(
    db,
    `UPDATE campaigns SET
       name = COALESCE($3, name),
       agent_id = CASE WHEN $4::boolean THEN $5 ELSE agent_id END,
       timezone = COALESCE($6, timezone),
       allowed_hours_start = COALESCE($7::time, allowed_hours_start),
       allowed_hours_end = COALESCE($8::time, allowed_hours_end),
       allowed_days = COALESCE($9::smallint[], allowed_days),
       max_retries = COALESCE($10, max_retries),
       retry_interval_minutes = COALESCE($11, retry_interval_minutes),
       status = COALESCE($12, status),
       updated_at = $13
     WHERE organization_id = $1 AND id = $2 AND ($12::text IS NULL OR status = $14) RETURNING *`,
    [
      organizationId,
      id,
      changes.name ?? null,
      changes.agentId !== undefined,
      changes.agentId ?? null,
      changes.timezone ?? null,
      changes.allowedHours?.start ?? null,
      changes.allowedHours?.end ?? null,
      changes.allowedDays ?? null,
      changes.maxRetries ?? null,
      changes.retryIntervalMinutes ?? null,
      changes.status ?? null,
      now,
      expectedStatus,
    ],
  );
}

export async function deleteCampaign(db: Queryable, organizationId: string, id: string): Promise<boolean> {
  const rows = await db.query(`DELETE FROM campaigns WHERE organization_id = $1 AND id = $2 RETURNING id`, [organizationId, id]);
  return rows.length > 0;
}

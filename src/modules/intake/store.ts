import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import type { LeadRow } from '../leads/store.ts';

/** Dedupe for routing: the live lead with this phone, else the one with this email. */
export function findLeadForRouting(
  db: Queryable,
  organizationId: string,
  contact: { phone: string | null; email: string | null },
): Promise<LeadRow | undefined> {
  return maybeOne<LeadRow>(
    db,
    `SELECT l.*, s.name AS stage_name FROM leads l LEFT JOIN pipeline_stages s ON s.id = l.stage_id
      WHERE l.organization_id = $1 AND l.deleted_at IS NULL
        AND (l.phone = $2 OR lower(l.email) = lower($3))
      ORDER BY (l.phone IS NOT DISTINCT FROM $2) DESC, l.created_at, l.id
      LIMIT 1`,
    [organizationId, contact.phone, contact.email],
  );
}

export interface TimelineEntry {
  id: string;
  title: string;
  metadata: Record<string, unknown>;
}

/** Routing decisions as System activities on the lead's timeline, in one statement. */
export async function insertTimelineEntries(
  db: Queryable,
  organizationId: string,
  leadId: string,
  entries: TimelineEntry[],
  now: Date,
): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO lead_activities (id, organization_id, lead_id, type, title, date, completed, metadata, created_by, created_at, updated_at)
     SELECT e.id, $1, $2, 'System', e.title, $3, true, e.metadata, 'routing', $3, $3
       FROM jsonb_to_recordset($4::jsonb) AS e(id text, title text, metadata jsonb)`,
    [organizationId, leadId, now, JSON.stringify(entries)],
  );
}

export async function insertApplication(
  db: Queryable,
  application: {
    id: string;
    organizationId: string;
    leadId: string;
    configurationId: string;
    name: string;
    status: string | null;
    pipelineId: string | null;
    stageId: string | null;
    now: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO applications (id, organization_id, lead_id, configuration_id, name, status, pipeline_id, stage_id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
    [
      application.id,
      application.organizationId,
      application.leadId,
      application.configurationId,
      application.name,
      application.status,
      application.pipelineId,
      application.stageId,
      application.now,
    ],
  );
}

export async function insertIntake(
  db: Queryable,
  intake: {
    id: string;
    organizationId: string;
    leadId: string;
    configurationId: string;
    origin: string;
    created: boolean;
    contacted: boolean;
    cost: number;
    now: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO lead_intakes (id, organization_id, lead_id, configuration_id, origin, created, contacted, cost, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [intake.id, intake.organizationId, intake.leadId, intake.configurationId, intake.origin, intake.created, intake.contacted, intake.cost, intake.now],
  );
}

import { insertRecords } from '../../db/bulk.ts';
import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';

/** An Application a configuration with `createApplication` makes beside the lead. */
export interface ApplicationRecord {
  id: string;
  organization_id: string;
  lead_id: string;
  configuration_id: string;
  name: string;
  status: string | null;
  pipeline_id: string | null;
  stage_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ApplicationRow extends ApplicationRecord {
  stage_name: string | null;
}

export async function insertApplications(db: Queryable, applications: ApplicationRecord[]): Promise<void> {
  await insertRecords(
    db,
    'applications',
    { id: 'text', organization_id: 'text', lead_id: 'text', configuration_id: 'text', name: 'text', status: 'text', pipeline_id: 'text', stage_id: 'text', created_at: 'timestamptz', updated_at: 'timestamptz' },
    applications,
  );
}

const SELECT_APPLICATION = `SELECT a.*, s.name AS stage_name FROM applications a LEFT JOIN pipeline_stages s ON s.organization_id = a.organization_id AND s.id = a.stage_id`;

export function findApplication(db: Queryable, organizationId: string, id: string): Promise<ApplicationRow | undefined> {
  return maybeOne<ApplicationRow>(db, `${SELECT_APPLICATION} WHERE a.organization_id = $1 AND a.id = $2`, [organizationId, id]);
}

/** Newest first, optionally one lead's. */
export function listApplications(db: Queryable, organizationId: string, filter: { leadId?: string; limit: number }): Promise<ApplicationRow[]> {
  return db.query<ApplicationRow>(
    `${SELECT_APPLICATION} WHERE a.organization_id = $1 AND ($2::text IS NULL OR a.lead_id = $2)
      ORDER BY a.created_at DESC, a.id DESC LIMIT $3`,
    [organizationId, filter.leadId ?? null, filter.limit],
  );
}

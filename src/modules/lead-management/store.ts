import type { Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';
import type { ConfigurationStatus } from './schemas.ts';

export interface ConfigurationRow {
  id: string;
  organization_id: string;
  user_id: string;
  configuration_name: string;
  name: string | null;
  description: string | null;
  source: string;
  inbound_email: string | null;
  initial_stage: string;
  initial_stage_id: string;
  default_process_id: string;
  is_autopilot: boolean;
  allow_recontact: boolean;
  starter_message: string | null;
  cost_per_lead: number;
  status: ConfigurationStatus;
  pipeline_id: string | null;
  pipeline_stage: string | null;
  pipeline_stage_id: string | null;
  create_application: boolean;
  application_name: string | null;
  application_status: string | null;
  application_pipeline_id: string | null;
  application_pipeline_stage: string | null;
  application_pipeline_stage_id: string | null;
  forward_to_outreach: boolean;
  use_workflow_only: boolean;
  created_at: Date;
  updated_at: Date;
}

/** The columns a client's input sets, as written by the service (references already resolved). */
export type ConfigurationValues = Omit<ConfigurationRow, 'id' | 'organization_id' | 'user_id' | 'created_at' | 'updated_at'>;

// The one list of writable columns: INSERT and UPDATE are both built from it, so a column
// can never be written by one and forgotten by the other.
const WRITABLE_COLUMNS: readonly (keyof ConfigurationValues)[] = [
  'configuration_name',
  'name',
  'description',
  'source',
  'inbound_email',
  'initial_stage',
  'initial_stage_id',
  'default_process_id',
  'is_autopilot',
  'allow_recontact',
  'starter_message',
  'cost_per_lead',
  'status',
  'pipeline_id',
  'pipeline_stage',
  'pipeline_stage_id',
  'create_application',
  'application_name',
  'application_status',
  'application_pipeline_id',
  'application_pipeline_stage',
  'application_pipeline_stage_id',
  'forward_to_outreach',
  'use_workflow_only',
];

export function insertConfiguration(
  db: Queryable,
  row: { id: string; organizationId: string; userId: string; now: Date; values: ConfigurationValues },
): Promise<ConfigurationRow> {
  const columns = ['id', 'organization_id', 'user_id', 'created_at', 'updated_at', ...WRITABLE_COLUMNS];
  const params = [row.id, row.organizationId, row.userId, row.now, row.now, ...WRITABLE_COLUMNS.map((column) => row.values[column])];
  return one<ConfigurationRow>(
    db,
    `INSERT INTO lead_management_configs (${columns.join(', ')})
     VALUES (${params.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
    params,
  );
}

/**
 * One UPDATE of the columns given (the others stay as they are) that also bumps updated_at,
 * of a row the caller has locked (`findConfiguration` with `lock`), so it is still there.
 */
export function updateConfiguration(
  db: Queryable,
  organizationId: string,
  id: string,
  changes: Partial<ConfigurationValues>,
  now: Date,
): Promise<ConfigurationRow> {
  const columns = WRITABLE_COLUMNS.filter((column) => changes[column] !== undefined);
  const params: unknown[] = [organizationId, id, now, ...columns.map((column) => changes[column])];
  const assignments = ['updated_at = $3', ...columns.map((column, i) => `${column} = $${i + 4}`)];
  return one<ConfigurationRow>(
    db,
    `UPDATE lead_management_configs SET ${assignments.join(', ')} WHERE organization_id = $1 AND id = $2 RETURNING *`,
    params,
  );
}

/**
 * With `lock`, the row stays locked until the caller's transaction ends, so concurrent
 * updates apply one after the other. NO KEY UPDATE is the lock an UPDATE takes anyway: it
 * does not hold up leads being routed through the configuration (their foreign key check).
 */
export function findConfiguration(db: Queryable, organizationId: string, id: string, lock = false): Promise<ConfigurationRow | undefined> {
  return maybeOne<ConfigurationRow>(
    db,
    `SELECT * FROM lead_management_configs WHERE organization_id = $1 AND id = $2${lock ? ' FOR NO KEY UPDATE' : ''}`,
    [organizationId, id],
  );
}

/** All of the organization's configurations, or only one user's. */
export function listConfigurations(db: Queryable, organizationId: string, userId?: string): Promise<ConfigurationRow[]> {
  return db.query<ConfigurationRow>(
    `SELECT * FROM lead_management_configs
      WHERE organization_id = $1 AND ($2::text IS NULL OR user_id = $2)
      ORDER BY created_at, id`,
    [organizationId, userId ?? null],
  );
}

export async function deleteConfiguration(db: Queryable, organizationId: string, id: string): Promise<boolean> {
  const rows = await db.query(`DELETE FROM lead_management_configs WHERE organization_id = $1 AND id = $2 RETURNING id`, [organizationId, id]);
  return rows.length > 0;
}

/** An active configuration with the contact pipeline its initial stage belongs to. */
export type ActiveConfigurationRow = ConfigurationRow & { contact_pipeline_id: string };

const SELECT_ACTIVE = `
  SELECT c.*, s.pipeline_id AS contact_pipeline_id
    FROM lead_management_configs c
    JOIN pipeline_stages s ON s.organization_id = c.organization_id AND s.id = c.initial_stage_id`;

export function findActiveConfiguration(db: Queryable, organizationId: string, id: string): Promise<ActiveConfigurationRow | undefined> {
  return maybeOne<ActiveConfigurationRow>(db, `${SELECT_ACTIVE} WHERE c.organization_id = $1 AND c.id = $2 AND c.status = 'active'`, [
    organizationId,
    id,
  ]);
}

/**
 * The one lookup not scoped by organization: an inbound address is unique among active
 * configurations of the whole deployment, and it is how inbound mail finds its tenant.
 */
export function findActiveConfigurationByInboundEmail(db: Queryable, address: string): Promise<ActiveConfigurationRow | undefined> {
  return maybeOne<ActiveConfigurationRow>(
    db,
    `${SELECT_ACTIVE} WHERE lower(c.inbound_email) = lower($1) AND c.status = 'active' AND c.inbound_email IS NOT NULL`,
    [address.trim()],
  );
}

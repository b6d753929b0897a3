import type { Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';

export interface AgentRow {
  id: string;
  organization_id: string;
  name: string;
  process_id: string | null;
  voice_enabled: boolean;
  email_enabled: boolean;
  follow_up_config: Record<string, unknown> | null;
  timezone: string | null;
  send_window_start: string | null;
  send_window_end: string | null;
  send_days: number[] | null;
  created_at: Date;
  updated_at: Date;
}

export interface AgentWindow {
  timezone: string;
  start: string;
  end: string;
  days: number[];
}

export interface AgentFields {
  name: string;
  processId: string | null;
  voiceEnabled: boolean;
  emailEnabled: boolean;
  followUpConfig: Record<string, unknown> | null;
  businessHours: AgentWindow | null;
}

export const AGENT_NAME_KEY = 'agents_name_key';

export function insertAgent(db: Queryable, agent: AgentFields & { id: string; organizationId: string; now: Date }): Promise<AgentRow> {
  const hours = agent.businessHours;
  return one<AgentRow>(
    db,
    `INSERT INTO agents (id, organization_id, name, process_id, voice_enabled, email_enabled, follow_up_config,
                         timezone, send_window_start, send_window_end, send_days, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING *`,
    [
      agent.id,
      agent.organizationId,
      agent.name,
      agent.processId,
      agent.voiceEnabled,
      agent.emailEnabled,
      agent.followUpConfig,
      hours?.timezone ?? null,
      hours?.start ?? null,
      hours?.end ?? null,
      hours?.days ?? null,
      agent.now,
    ],
  );
}

/**
 * With `lock`, the row stays locked until the caller's transaction ends, so concurrent
 * updates apply one after the other. NO KEY UPDATE is the lock an UPDATE takes anyway: it
 * does not hold up leads and campaigns being bound to the agent (their foreign key check).
 */
export function findAgent(db: Queryable, organizationId: string, id: string, lock = false): Promise<AgentRow | undefined> {
  return maybeOne<AgentRow>(db, `SELECT * FROM agents WHERE organization_id = $1 AND id = $2${lock ? ' FOR NO KEY UPDATE' : ''}`, [
    organizationId,
    id,
  ]);
}

/** Apten addresses an agent ("customer profile") by its name, whatever its case. */
export function findAgentByName(db: Queryable, organizationId: string, name: string): Promise<AgentRow | undefined> {
  return maybeOne<AgentRow>(db, `SELECT * FROM agents WHERE organization_id = $1 AND lower(name) = lower($2)`, [organizationId, name]);
}

export function listAgents(db: Queryable, organizationId: string): Promise<AgentRow[]> {
  return db.query<AgentRow>(`SELECT * FROM agents WHERE organization_id = $1 ORDER BY created_at, id`, [organizationId]);
}

/**
 * Changes only the fields given; business hours are replaced as a whole. The caller has
 * locked the row (`findAgent` with `lock`), so it is still there.
 */
export function updateAgent(
  db: Queryable,
  organizationId: string,
  id: string,
  changes: Partial<AgentFields>,
  now: Date,
): Promise<AgentRow> {
  const hours = changes.businessHours;
  return one<AgentRow>(
    db,
    `UPDATE agents SET
       name = CASE WHEN $3::boolean THEN $4 ELSE name END,
       process_id = CASE WHEN $5::boolean THEN $6 ELSE process_id END,
       voice_enabled = COALESCE($7, voice_enabled),
       email_enabled = COALESCE($8, email_enabled),
       follow_up_config = CASE WHEN $9::boolean THEN $10::jsonb ELSE follow_up_config END,
       timezone = CASE WHEN $11::boolean THEN $12 ELSE timezone END,
       send_window_start = CASE WHEN $11::boolean THEN $13::time ELSE send_window_start END,
       send_window_end = CASE WHEN $11::boolean THEN $14::time ELSE send_window_end END,
       send_days = CASE WHEN $11::boolean THEN $15::smallint[] ELSE send_days END,
       updated_at = $16
     WHERE organization_id = $1 AND id = $2 RETURNING *`,
    [
      organizationId,
      id,
      changes.name !== undefined,
      changes.name ?? null,
      changes.processId !== undefined,
      changes.processId ?? null,
      changes.voiceEnabled ?? null,
      changes.emailEnabled ?? null,
      changes.followUpConfig !== undefined,
      changes.followUpConfig ?? null,
      hours !== undefined,
      hours?.timezone ?? null,
      hours?.start ?? null,
      hours?.end ?? null,
      hours?.days ?? null,
      now,
    ],
  );
}

export async function deleteAgent(db: Queryable, organizationId: string, id: string): Promise<boolean> {
  const rows = await db.query(`DELETE FROM agents WHERE organization_id = $1 AND id = $2 RETURNING id`, [organizationId, id]);
  return rows.length > 0;
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';

export interface StrategyRow {
  id: string;
  organization_id: string;
  name: string;
  instructions: string;
  created_at: Date;
  updated_at: Date;
}

export function insertStrategy(db: Queryable, strategy: { id: string; organizationId: string; name: string; instructions: string; now: Date }): Promise<StrategyRow> {
  return one<StrategyRow>(
    db,
    `INSERT INTO strategies (id, organization_id, name, instructions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING *`,
    [strategy.id, strategy.organizationId, strategy.name, strategy.instructions, strategy.now],
  );
}

export function findStrategy(db: Queryable, organizationId: string, id: string): Promise<StrategyRow | undefined> {
  return maybeOne<StrategyRow>(db, `SELECT * FROM strategies WHERE organization_id = $1 AND id = $2`, [organizationId, id]);
}

export function listStrategies(db: Queryable, organizationId: string): Promise<StrategyRow[]> {
  return db.query<StrategyRow>(`SELECT * FROM strategies WHERE organization_id = $1 ORDER BY created_at, id`, [organizationId]);
}

/** Changes only the fields given. */
export function updateStrategy(
  db: Queryable,
  organizationId: string,
  id: string,
  changes: { name?: string; instructions?: string },
  now: Date,
): Promise<StrategyRow | undefined> {
  return maybeOne<StrategyRow>(
    db,
    `UPDATE strategies SET name = COALESCE($3, name), instructions = COALESCE($4, instructions), updated_at = $5
      WHERE organization_id = $1 AND id = $2 RETURNING *`,
    [organizationId, id, changes.name ?? null, changes.instructions ?? null, now],
  );
}

/** Messages that used it keep their history; their strategy_id becomes null (ON DELETE SET NULL). */
export async function deleteStrategy(db: Queryable, organizationId: string, id: string): Promise<boolean> {
  const rows = await db.query(`DELETE FROM strategies WHERE organization_id = $1 AND id = $2 RETURNING id`, [organizationId, id]);
  return rows.length > 0;
}

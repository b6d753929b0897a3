import type { Queryable } from '../../db/database.ts';
import { one } from '../../db/database.ts';

/** The instance's stored JWT secret; `candidate` becomes it when none is stored yet (the first start). */
export async function storedJwtSecret(db: Queryable, candidate: string): Promise<string> {
  await db.query(`INSERT INTO instance_settings (key, value) VALUES ('jwt_secret', $1) ON CONFLICT (key) DO NOTHING`, [candidate]);
  const row = await one<{ value: string }>(db, `SELECT value FROM instance_settings WHERE key = 'jwt_secret'`);
  return row.value;
}

import type { Queryable } from './database.ts';

/**
 * Inserts many rows with one statement: they travel as one JSON parameter read by
 * jsonb_to_recordset, so a batch of thousands costs one round trip. `table`, `columns` and
 * `tail` must be constants of the calling store, never request text.
 */
export async function insertRecords(
  db: Queryable,
  table: string,
  columns: Record<string, string>,
  rows: object[],
  tail = '',
): Promise<Array<{ id: string }>> {
  if (rows.length === 0) return [];
  const names = Object.keys(columns);
  const definitions = names.map((name) => `${name} ${columns[name]}`).join(', ');
  return db.query<{ id: string }>(
    `INSERT INTO ${table} (${names.join(', ')})
     SELECT ${names.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS r(${definitions}) ${tail}`,
    [JSON.stringify(rows)],
  );
}

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

/** The tables whose rows each organization numbers 1, 2, 3, … in `seq` (Autocalls addresses them by it). */
export type NumberedTable = 'leads' | 'campaigns';

/**
 * Inserts an organization's new rows into a numbered table, with one statement however
 * many: the rows (one JSON parameter, each value read as its column's type in the table's
 * row type) get the organization's next numbers in their order, the whole range taken in
 * one bump of its counter (take_seqs, migration 055). Every insert into these tables goes
 * through here. `columns` names the columns the rows give (the others keep their
 * defaults); like `tail`, constants of the calling store, never request text. The counter
 * row stays locked until the transaction ends, so an organization's rows are numbered in
 * the order their transactions commit.
 */
export async function insertNumbered<Row = { id: string }>(
  db: Queryable,
  table: NumberedTable,
  organizationId: string,
  columns: string[],
  rows: object[],
  tail = '',
): Promise<Row[]> {
  if (rows.length === 0) return [];
  // MATERIALIZED: the counter is bumped once for the statement, never once per row
  return db.query<Row>(
    `WITH taken AS MATERIALIZED (SELECT take_seqs($2, '${table}', $3) AS last_before)
     INSERT INTO ${table} (organization_id, seq, ${columns.join(', ')})
     SELECT $2, taken.last_before + r.ordinality, ${columns.map((name) => `r.${name}`).join(', ')}
       FROM taken, ROWS FROM (jsonb_populate_recordset(NULL::${table}, $1::jsonb)) WITH ORDINALITY AS r
     ${tail}`,
    [JSON.stringify(rows), organizationId, rows.length],
  );
}

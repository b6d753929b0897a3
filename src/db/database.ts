/**
 * The one database interface every store uses: explicit SQL with `$n` parameters, the same
 * text on PostgreSQL (node-postgres) and on the embedded PGlite.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(statement: Statement, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * SQL text, or a named statement: PostgreSQL plans a named statement once per connection and
 * reuses the plan (node-postgres prepared statements), which matters for hot paths on wide,
 * well-indexed tables where planning costs more than executing. PGlite runs its text.
 */
export type Statement = string | { name: string; text: string };

export function checkChannelName(channel: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
}

export const statementText = (statement: Statement) => (typeof statement === 'string' ? statement : statement.text);

/** What a subscriber to a NOTIFY channel is told. */
export interface NotificationHandlers {
  message(payload: string): void;
  /**
   * true once listening; false whenever notifications may have been missed (the listening
   * connection was lost), until it listens again.
   */
  listening(listening: boolean): void;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** LISTENs on `channel` (a plain lower-case identifier); resolves to a function that stops. */
  listen(channel: string, handlers: NotificationHandlers): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL error fields we branch on (SQLSTATE code and constraint name). */
export interface PgError {
  code?: string;
  constraint?: string;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = error as PgError;
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
}

/**
 * A transaction PostgreSQL aborted for what ran beside it, not for what it asked (a deadlock,
 * 40P01; a serialization failure, 40001): the same work may succeed if run again.
 */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as PgError)?.code;
  return code === '40P01' || code === '40001';
}

/** A write refused because a row it removes or points at is referenced or missing (SQLSTATE 23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  return (error as PgError)?.code === '23503';
}

export async function one<T>(db: Queryable, text: Statement, params?: unknown[]): Promise<T> {
  const rows = await db.query<T>(text, params);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
  return rows[0];
}

export async function maybeOne<T>(db: Queryable, text: Statement, params?: unknown[]): Promise<T | undefined> {
  const rows = await db.query<T>(text, params);
  return rows[0];
}

import pg from 'pg';
import type { Database, Queryable, Statement } from './database.ts';

// int8 (counts, identity columns) and numeric come back as JS numbers: every value we store
// in them is well inside Number.MAX_SAFE_INTEGER.
pg.types.setTypeParser(20, (value) => Number(value));
pg.types.setTypeParser(1700, (value) => Number(value));

export interface PostgresOptions {
  url: string;
  /** Schema to use (created when missing); tests give each run its own. */
  schema?: string;
  maxConnections?: number;
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const { schema } = options;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: options.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    options: schema ? `-c search_path=${schema}` : undefined,
  });
  // An idle client's network error must not crash the process; the pool replaces it.
  pool.on('error', () => {});

  const config = (statement: Statement, params?: unknown[]) =>
    typeof statement === 'string' ? { text: statement, values: params } : { ...statement, values: params };
  const query = async <T>(statement: Statement, params?: unknown[]) => (await pool.query(config(statement, params))).rows as T[];

  return {
    kind: 'postgres',
    query,
    async exec(script: string) {
      await pool.query(script);
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          query: async <R>(statement: Statement, params?: unknown[]) => (await client.query(config(statement, params))).rows as R[],
          exec: async (script: string) => {
            await client.query(script);
          },
        };
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

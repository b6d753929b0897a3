import pg from 'pg';
import { checkChannelName, type Database, type NotificationHandlers, type Queryable, type Statement } from './database.ts';

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

/** How long a lost listening connection waits before it connects again. */
const LISTEN_RETRY_MS = 1_000;

/**
 * A connection of its own (pooled connections come and go) that LISTENs on `channel` and
 * reconnects after a loss; the handlers hear when it is and is not listening.
 */
async function listenOn(connection: pg.ClientConfig, channel: string, handlers: NotificationHandlers): Promise<() => Promise<void>> {
  checkChannelName(channel);
  let current: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const lost = (client: pg.Client) => {
    if (current !== client) return;
    current = undefined;
    handlers.listening(false);
    client.end().catch(() => {});
    scheduleConnect();
  };
  const scheduleConnect = () => {
    if (stopped) return;
    retry = setTimeout(() => void connect(), LISTEN_RETRY_MS);
    retry.unref();
  };
  const connect = async () => {
    const client = new pg.Client({ ...connection, application_name: `openlead-listen-${channel}` });
    client.on('notification', (notification) => {
      if (notification.channel === channel) handlers.message(notification.payload ?? '');
    });
    client.on('error', () => lost(client));
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch {
      client.end().catch(() => {});
      scheduleConnect();
      return;
    }
    if (stopped) {
      await client.end();
      return;
    }
    current = client;
    handlers.listening(true);
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const client = current;
    current = undefined;
    if (client) {
      handlers.listening(false);
      await client.end();
    }
  };
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
  const connection: pg.ClientConfig = { connectionString: options.url, options: schema ? `-c search_path=${schema}` : undefined };
  const pool = new pg.Pool({ ...connection, max: options.maxConnections ?? 10 });
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
    listen: (channel, handlers) => listenOn(connection, channel, handlers),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { checkChannelName, statementText, type Database, type Queryable, type Statement } from './database.ts';

/**
 * The embedded default: PostgreSQL compiled to WASM, in-process. `dataDir` undefined keeps
 * everything in memory (tests). PGlite has one connection and serialises queries and
 * transactions itself, so concurrent callers simply queue.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  // pg_trgm backs the leads' free-text search index, as on a PostgreSQL server
  const pglite = await PGlite.create(dataDir, { extensions: { pg_trgm } });
  const query = async <T>(statement: Statement, params?: unknown[]) =>
    (await pglite.query<T>(statementText(statement), params as unknown[])).rows;
  return {
    kind: 'pglite',
    query,
    async exec(script: string) {
      await pglite.exec(script);
    },
    transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction((tx) =>
        work({
          query: async <R>(statement: Statement, params?: unknown[]) =>
            (await tx.query<R>(statementText(statement), params as unknown[])).rows,
          exec: async (script: string) => {
            await tx.exec(script);
          },
        }),
      );
    },
    async listen(channel, handlers) {
      checkChannelName(channel);
      // in-process: the only connection is ours, so nothing can be missed while it is open
      const unlisten = await pglite.listen(channel, handlers.message);
      handlers.listening(true);
      return async () => {
        handlers.listening(false);
        await unlisten();
      };
    },
    async ping() {
      await pglite.query('SELECT 1');
    },
    async close() {
      await pglite.close();
    },
  };
}

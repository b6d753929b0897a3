import { randomBytes } from 'node:crypto';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { manualClock, type ManualClock } from '../../src/lib/clock.ts';

/**
 * A fresh database for one test file: in-memory PGlite by default, or, when DATABASE_URL is
 * set, a schema of its own on that PostgreSQL server (dropped on close), so runs and files
 * never see each other's rows. `prepare` sets it up (a test of a migration applies those
 * before it).
 */
export async function freshDatabase(prepare: (db: Database) => Promise<unknown> = migrate): Promise<{ db: Database; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await openPglite();
    await prepare(db);
    return { db, drop: () => db.close() };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const db = await openPostgres({ url, schema });
  await prepare(db);
  return {
    db,
    drop: async () => {
      await db.query(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    },
  };
}

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** sent as-is instead of JSON-encoding `body` */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestApp extends App {
  url: string;
  clock: ManualClock;
  db: Database;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Response<T>>;
  close(): Promise<void>;
}

/** The real application on a real HTTP port, over a fresh database, with a clock tests move. */
export async function startApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const { db, drop } = await freshDatabase();
  const clock = manualClock('2026-06-01T12:00:00.000Z');
  const config: Config = { ...loadConfig({}), logLevel: 'warn', port: 0, jwtSecret: 'test-secret', ...overrides };
  const app = await buildApp({ config, db, clock });
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.server.address();
  const url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';

  const request = async <T>(method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined = options.raw;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + path, { method, headers, body: typeof body === 'string' ? body : body && new Uint8Array(body) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: leave the text
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  };

  return {
    ...app,
    url,
    clock,
    db,
    request,
    close: async () => {
      await app.server.close();
      await drop();
    },
  };
}

let sequence = 0;

export function uniqueEmail(label = 'user'): string {
  sequence += 1;
  return `${label}-${sequence}-${randomBytes(3).toString('hex')}@example.com`;
}

export interface Account {
  token: string;
  userId: string;
  organizationId: string;
  email: string;
  password: string;
}

/** Registers a new organization and returns its ADMIN's credentials. */
export async function registerOrganization(app: TestApp, name = 'Acme'): Promise<Account> {
  const email = uniqueEmail('admin');
  const password = 'correct horse battery';
  const response = await app.request('POST', '/api/auth/register', {
    body: { email, password, fullName: 'Ada Admin', organizationName: name },
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return { token: response.body.data.token, userId: response.body.data.user.id, organizationId: response.body.data.user.organizationId, email, password };
}

/** Adds a user with the given role to the account's organization and logs them in. */
export async function addUser(app: TestApp, admin: Account, accessRole = 'SALES_REP'): Promise<Account> {
  const email = uniqueEmail(accessRole.toLowerCase());
  const password = 'another good password';
  const created = await app.request('POST', '/api/users', {
    token: admin.token,
    body: { email, password, fullName: 'Sam Rep', accessRole },
  });
  if (created.status !== 201) throw new Error(`add user failed: ${created.status} ${created.text}`);
  const login = await app.request('POST', '/api/auth/login', { body: { email, password } });
  return { token: login.body.token, userId: login.body.user.id, organizationId: login.body.user.organizationId, email, password };
}

export async function apiKeyFor(app: TestApp, account: Account): Promise<string> {
  const response = await app.request('POST', '/api/user/api-key/regenerate', { token: account.token });
  return response.body.data.apiKey;
}

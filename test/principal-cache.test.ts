import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../src/app.ts';
import { PrincipalCache } from '../src/modules/auth/principal-cache.ts';
import type { Principal } from '../src/modules/auth/service.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

const onPostgres = Boolean(process.env.DATABASE_URL);

const principalOf = (userId: string): Principal => ({
  userId,
  organizationId: 'org',
  role: 'ADMIN',
  email: `${userId}@example.com`,
  fullName: null,
  createdAt: new Date(0),
  via: 'apiKey',
});

/** Polls `check` every 20 ms for up to `ms`; true as soon as it holds. */
async function eventually(check: () => Promise<boolean>, ms = 3_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(20)) {
    if (await check()) return true;
  }
  return check();
}

describe('PrincipalCache (the rules, without a database)', () => {
  const resolved = (userId: string, validUntil = Number.POSITIVE_INFINITY) => async () => ({ principal: principalOf(userId), validUntil });

  test('answers from memory only while listening', async () => {
    const cache = new PrincipalCache(60_000);
    let reads = 0;
    const load = async () => ((reads += 1), { principal: principalOf('u1'), validUntil: Number.POSITIVE_INFINITY });
    await cache.resolve('k', 0, load);
    await cache.resolve('k', 0, load);
    assert.equal(reads, 2, 'not listening yet: every call reads');
    cache.listening(true);
    await cache.resolve('k', 0, load);
    await cache.resolve('k', 0, load);
    assert.equal(reads, 3, 'listening: the second call is served from memory');
    cache.listening(false);
    await cache.resolve('k', 0, load);
    assert.equal(reads, 4, 'a lost listener empties the cache and bypasses it');
  });

  test('forgetUser drops every credential of that user and no other', async () => {
    const cache = new PrincipalCache(60_000);
    cache.listening(true);
    await cache.resolve('a', 0, resolved('u1'));
    await cache.resolve('b', 0, resolved('u1'));
    await cache.resolve('c', 0, resolved('u2'));
    cache.forgetUser('u1');
    let reads = 0;
    const count = (userId: string) => async () => ((reads += 1), { principal: principalOf(userId), validUntil: Number.POSITIVE_INFINITY });
    await cache.resolve('a', 0, count('u1'));
    await cache.resolve('b', 0, count('u1'));
    await cache.resolve('c', 0, count('u2'));
    assert.equal(reads, 2);
  });

  test('a read that began before a change is answered but not kept', async () => {
    const cache = new PrincipalCache(60_000);
    cache.listening(true);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stale = cache.resolve('k', 0, async () => {
      await gate;
      return { principal: { ...principalOf('u1'), role: 'ADMIN' as const }, validUntil: Number.POSITIVE_INFINITY };
    });
    cache.forgetUser('u1'); // the change is announced while the read is in flight
    release();
    assert.equal((await stale)?.role, 'ADMIN');
    const fresh = await cache.resolve('k', 0, async () => ({ principal: { ...principalOf('u1'), role: 'SALES_REP' as const }, validUntil: Number.POSITIVE_INFINITY }));
    assert.equal(fresh?.role, 'SALES_REP');
  });

  test('an entry ends at its credential expiry or after the TTL, whichever is first', async () => {
    const cache = new PrincipalCache(1_000);
    cache.listening(true);
    await cache.resolve('token', 0, resolved('u1', 500));
    await cache.resolve('key', 0, resolved('u2'));
    let reads = 0;
    const count = (userId: string) => async () => ((reads += 1), { principal: principalOf(userId), validUntil: Number.POSITIVE_INFINITY });
    await cache.resolve('token', 499, count('u1'));
    assert.equal(reads, 0);
    await cache.resolve('token', 500, count('u1'));
    assert.equal(reads, 1, 'the token expired');
    await cache.resolve('key', 999, count('u2'));
    assert.equal(reads, 1);
    await cache.resolve('key', 1_000, count('u2'));
    assert.equal(reads, 2, 'the TTL passed');
  });

  test('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new PrincipalCache(60_000, 2);
    cache.listening(true);
    for (const key of ['a', 'b', 'c']) await cache.resolve(key, 0, resolved(key));
    let reads = 0;
    const count = (userId: string) => async () => ((reads += 1), { principal: principalOf(userId), validUntil: Number.POSITIVE_INFINITY });
    await cache.resolve('c', 0, count('c'));
    await cache.resolve('b', 0, count('b'));
    assert.equal(reads, 0);
    await cache.resolve('a', 0, count('a'));
    assert.equal(reads, 1);
  });
});

describe('credentials through HTTP with the principal cache on', () => {
  let app: TestApp;
  let admin: Account;
  before(async () => {
    app = await startApp({ authCacheSeconds: 60 });
    admin = await registerOrganization(app);
  });
  after(() => app.close());

  const roleOf = async (credential: string) => (await app.request('GET', '/api/users/me', { token: credential })).body.data?.accessRole;

  test('a regenerated API key replaces the old one at once', async () => {
    const oldKey = await apiKeyFor(app, admin);
    assert.equal((await app.request('GET', '/api/users/me', { token: oldKey })).status, 200);
    assert.equal((await app.request('GET', '/api/users/me', { token: oldKey })).status, 200);
    const newKey = await apiKeyFor(app, admin);
    assert.equal((await app.request('GET', '/api/users/me', { token: oldKey })).status, 401);
    assert.equal((await app.request('GET', '/api/users/me', { token: newKey })).status, 200);
  });

  test('a user row changed in SQL by hand is seen by the next requests (the database announces it)', async () => {
    assert.equal(await roleOf(admin.token), 'ADMIN');
    assert.equal(await roleOf(admin.token), 'ADMIN');
    await app.db.query(`UPDATE users SET access_role = 'DEPARTMENT_HEAD' WHERE id = $1`, [admin.userId]);
    assert.ok(await eventually(async () => (await roleOf(admin.token)) === 'DEPARTMENT_HEAD'), 'the change reached the cache');
    await app.db.query(`UPDATE users SET access_role = 'ADMIN' WHERE id = $1`, [admin.userId]);
    assert.ok(await eventually(async () => (await roleOf(admin.token)) === 'ADMIN'));
  });

  test('a principal is served from memory until the TTL passes (shown with the announcement switched off)', async () => {
    assert.equal(await roleOf(admin.token), 'ADMIN');
    await app.db.exec('ALTER TABLE users DISABLE TRIGGER users_notify_changed');
    try {
      await app.db.query(`UPDATE users SET access_role = 'SALES_REP' WHERE id = $1`, [admin.userId]);
      await sleep(100);
      assert.equal(await roleOf(admin.token), 'ADMIN', 'unannounced, the cached principal still answers');
      app.clock.advance(60_000);
      assert.equal(await roleOf(admin.token), 'SALES_REP', 'after the TTL the user is read again');
    } finally {
      await app.db.query(`UPDATE users SET access_role = 'ADMIN' WHERE id = $1`, [admin.userId]);
      await app.db.exec('ALTER TABLE users ENABLE TRIGGER users_notify_changed');
    }
  });

  test('an expired token is refused even though its principal was cached', async () => {
    const login = await app.request('POST', '/api/auth/login', { body: { email: admin.email, password: admin.password } });
    const token = login.body.token;
    assert.equal((await app.request('GET', '/api/users/me', { token })).status, 200);
    app.clock.advance(app.ctx.config.jwtTtlSeconds * 1000);
    assert.equal((await app.request('GET', '/api/users/me', { token })).status, 401);
  });

  test('with AUTH_CACHE_SECONDS=0 every request reads the user', async () => {
    const uncached = await startApp({ authCacheSeconds: 0 });
    try {
      const owner = await registerOrganization(uncached);
      assert.equal((await uncached.request('GET', '/api/users/me', { token: owner.token })).body.data.accessRole, 'ADMIN');
      await uncached.db.exec('ALTER TABLE users DISABLE TRIGGER users_notify_changed');
      await uncached.db.query(`UPDATE users SET access_role = 'SALES_REP' WHERE id = $1`, [owner.userId]);
      assert.equal((await uncached.request('GET', '/api/users/me', { token: owner.token })).body.data.accessRole, 'SALES_REP');
    } finally {
      await uncached.close();
    }
  });
});

describe('several API processes on one PostgreSQL database', { skip: !onPostgres && 'needs DATABASE_URL' }, () => {
  let app: TestApp;
  let other: Awaited<ReturnType<typeof buildApp>>;
  let otherUrl: string;
  let admin: Account;
  before(async () => {
    app = await startApp({ authCacheSeconds: 60 });
    // a second API node: its own server, cache and listener, on the same database
    other = await buildApp({ config: app.ctx.config, db: app.db, clock: app.clock });
    await other.server.listen({ host: '127.0.0.1', port: 0 });
    const address = other.server.server.address();
    otherUrl = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
    admin = await registerOrganization(app);
  });
  after(async () => {
    await other.server.close();
    await app.close();
  });

  const statusOnOther = async (credential: string) =>
    (await fetch(`${otherUrl}/api/users/me`, { headers: { authorization: `Bearer ${credential}` } })).status;
  const roleOnOther = async (credential: string) =>
    ((await (await fetch(`${otherUrl}/api/users/me`, { headers: { authorization: `Bearer ${credential}` } })).json()) as any).data?.accessRole;

  test('a key regenerated on one node stops working on the other', async () => {
    const oldKey = await apiKeyFor(app, admin);
    assert.equal(await statusOnOther(oldKey), 200);
    assert.equal(await statusOnOther(oldKey), 200);
    const newKey = await apiKeyFor(app, admin);
    assert.ok(await eventually(async () => (await statusOnOther(oldKey)) === 401), 'the other node forgot the old key');
    assert.equal(await statusOnOther(newKey), 200);
  });

  test('while its listening connection is lost, a node reads every user, and caches again once it is back', async () => {
    const listener = `SELECT pid FROM pg_stat_activity WHERE application_name = 'openlead-listen-openlead_user_changed'`;
    assert.equal(await roleOnOther(admin.token), 'ADMIN');
    const before = new Set((await app.db.query<{ pid: number }>(listener)).map((row) => row.pid));
    // every listener on the server is cut (other test files' too; they reconnect the same way)
    await app.db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'openlead-listen-openlead_user_changed'`);
    await sleep(200);
    await app.db.query(`UPDATE users SET access_role = 'SALES_REP' WHERE id = $1`, [admin.userId]);
    assert.equal(await roleOnOther(admin.token), 'SALES_REP', 'the change was not announced to it, yet it is seen');

    const reconnected = await eventually(async () => (await app.db.query<{ pid: number }>(listener)).some((row) => !before.has(row.pid)), 5_000);
    assert.ok(reconnected, 'the listener connected again');
    await sleep(100);
    await app.db.query(`UPDATE users SET access_role = 'ADMIN' WHERE id = $1`, [admin.userId]);
    assert.ok(await eventually(async () => (await roleOnOther(admin.token)) === 'ADMIN'));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, apiKeyFor, registerOrganization, startApp, uniqueEmail, type TestApp } from './support/harness.ts';

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

describe('registration', () => {
  test('creates an organization with an ADMIN user and answers 201 with a token', async () => {
    const email = uniqueEmail();
    const res = await app.request('POST', '/api/auth/register', {
      body: { email, password: 'long enough', fullName: 'Ada', organizationName: 'Acme' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.success, true);
    assert.equal(typeof res.body.data.token, 'string');
    assert.equal(res.body.data.user.email, email);
    assert.equal(res.body.data.user.accessRole, 'ADMIN');
    assert.match(res.body.data.user.organizationId, /^[0-9a-f]{24}$/);
    assert.equal(res.body.data.user.password_hash, undefined);
  });

  test('a duplicate email is refused with 400, whatever its case', async () => {
    const email = uniqueEmail();
    const body = { email, password: 'long enough', organizationName: 'A' };
    assert.equal((await app.request('POST', '/api/auth/register', { body })).status, 201);
    const again = await app.request('POST', '/api/auth/register', { body: { ...body, email: email.toUpperCase() } });
    assert.equal(again.status, 400);
    assert.deepEqual(again.body, { success: false, error: 'A user with this email already exists' });
  });

  test('a password shorter than 8 characters is refused and nothing is created', async () => {
    const email = uniqueEmail();
    const res = await app.request('POST', '/api/auth/register', { body: { email, password: 'short', organizationName: 'A' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.success, false);
    assert.match(res.body.error, /password/);
    const login = await app.request('POST', '/api/auth/login', { body: { email, password: 'short' } });
    assert.equal(login.status, 401);
  });

  test('missing fields, wrong types and unknown fields answer 400 naming the field', async () => {
    const missing = await app.request('POST', '/api/auth/register', { body: { email: uniqueEmail(), password: 'long enough' } });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /organizationName/);
    const wrongType = await app.request('POST', '/api/auth/register', { body: { email: uniqueEmail(), password: 12345678, organizationName: 'A' } });
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.body.error, /password/);
    const unknown = await app.request('POST', '/api/auth/register', { body: { email: uniqueEmail(), password: 'long enough', organizationName: 'A', plan: 'gold' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /plan/);
  });

  test('can be switched off with ALLOW_REGISTRATION=false', async () => {
    const closed = await startApp({ allowRegistration: false });
    try {
      const res = await closed.request('POST', '/api/auth/register', { body: { email: uniqueEmail(), password: 'long enough', organizationName: 'A' } });
      assert.equal(res.status, 403);
      assert.equal(res.body.success, false);
    } finally {
      await closed.close();
    }
  });
});

describe('login and tokens', () => {
  test('login returns a token and the user', async () => {
    const account = await registerOrganization(app);
    const res = await app.request('POST', '/api/auth/login', { body: { email: account.email, password: account.password } });
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.token, 'string');
    assert.deepEqual(Object.keys(res.body.user).sort(), ['accessRole', 'createdAt', 'email', 'fullName', 'id', 'organizationId']);
    assert.equal(res.body.user.organizationId, account.organizationId);
    assert.equal(res.body.user.accessRole, 'ADMIN');
  });

  test('wrong password and unknown email both answer 401 with the same error', async () => {
    const account = await registerOrganization(app);
    const wrong = await app.request('POST', '/api/auth/login', { body: { email: account.email, password: 'not the password' } });
    const unknown = await app.request('POST', '/api/auth/login', { body: { email: uniqueEmail(), password: 'whatever123' } });
    for (const res of [wrong, unknown]) {
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { success: false, error: 'Invalid email or password' });
    }
  });

  test('verify-token accepts a good token and refuses a bad, missing or expired one', async () => {
    const account = await registerOrganization(app);
    const good = await app.request('GET', '/api/auth/verify-token', { token: account.token });
    assert.equal(good.status, 200);
    assert.equal(good.body.message, 'Token is good');

    const bad = await app.request('GET', '/api/auth/verify-token', { token: account.token.slice(0, -3) + 'abc' });
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.body, { success: false, error: 'Invalid or expired token' });

    const none = await app.request('GET', '/api/auth/verify-token');
    assert.equal(none.status, 401);
    assert.equal(none.body.success, false);

    app.clock.advance(8 * 24 * 3600 * 1000);
    try {
      const expired = await app.request('GET', '/api/auth/verify-token', { token: account.token });
      assert.equal(expired.status, 401);
      assert.equal(expired.body.error, 'Invalid or expired token');
    } finally {
      app.clock.advance(-8 * 24 * 3600 * 1000);
    }
  });

  test('refresh issues a fresh token that works', async () => {
    const account = await registerOrganization(app);
    app.clock.advance(60_000);
    const res = await app.request('POST', '/api/auth/refresh', { token: account.token });
    assert.equal(res.status, 200);
    assert.notEqual(res.body.token, account.token);
    const check = await app.request('GET', '/api/users/me', { token: res.body.token });
    assert.equal(check.status, 200);
    assert.equal(check.body.data.id, account.userId);
  });
});

describe('API keys', () => {
  test('a regenerated key works as a bearer token and replaces the previous one', async () => {
    const account = await registerOrganization(app);
    const res = await app.request('POST', '/api/user/api-key/regenerate', { token: account.token });
    assert.equal(res.status, 200);
    assert.equal(res.body.message, 'API key regenerated');
    const first = res.body.data.apiKey as string;
    const me = await app.request('GET', '/api/users/me', { token: first });
    assert.equal(me.status, 200);
    assert.equal(me.body.data.email, account.email);

    const second = await apiKeyFor(app, account);
    assert.notEqual(second, first);
    assert.equal((await app.request('GET', '/api/users/me', { token: first })).status, 401);
    assert.equal((await app.request('GET', '/api/users/me', { token: second })).status, 200);
  });

  test('the key is stored hashed', async () => {
    const account = await registerOrganization(app);
    const key = await apiKeyFor(app, account);
    const rows = await app.db.query<{ api_key_hash: string }>('SELECT api_key_hash FROM users WHERE id = $1', [account.userId]);
    assert.notEqual(rows[0].api_key_hash, key);
    assert.ok(!rows[0].api_key_hash.includes(key));
  });
});

describe('users', () => {
  test('an ADMIN adds users; they see their organization only', async () => {
    const admin = await registerOrganization(app);
    const rep = await addUser(app, admin, 'SALES_REP');
    const head = await addUser(app, admin, 'DEPARTMENT_HEAD');
    const other = await registerOrganization(app, 'Other');

    const list = await app.request('GET', '/api/users', { token: rep.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((u: { id: string }) => u.id).sort(), [admin.userId, rep.userId, head.userId].sort());
    const otherList = await app.request('GET', '/api/users', { token: other.token });
    assert.deepEqual(otherList.body.data.map((u: { id: string }) => u.id), [other.userId]);
  });

  test('a non-ADMIN cannot add users', async () => {
    const admin = await registerOrganization(app);
    const rep = await addUser(app, admin, 'SALES_REP');
    const res = await app.request('POST', '/api/users', {
      token: rep.token,
      body: { email: uniqueEmail(), password: 'long enough', fullName: 'X', accessRole: 'ADMIN' },
    });
    assert.equal(res.status, 403);
    assert.deepEqual(res.body, { success: false, error: 'Permission denied' });
  });

  test('an unknown role is refused', async () => {
    const admin = await registerOrganization(app);
    const res = await app.request('POST', '/api/users', {
      token: admin.token,
      body: { email: uniqueEmail(), password: 'long enough', fullName: 'X', accessRole: 'OWNER' },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /accessRole/);
  });
});

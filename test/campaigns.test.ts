import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let app: TestApp;
let acme: Account;
let other: Account;
before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  other = await registerOrganization(app, 'Other');
});
after(() => app.close());

const create = (account: Account, body: unknown) => app.request('POST', '/api/campaigns', { token: account.token, body });
const update = (account: Account, id: string, body: unknown) => app.request('PUT', `/api/campaigns/${id}`, { token: account.token, body });

describe('campaigns', () => {
  test('create: draft, documented defaults, integer numericId, owned by the caller', async () => {
    const res = await create(acme, { name: 'Spring' });
    assert.equal(res.status, 201);
    const campaign = res.body.data;
    assert.equal(campaign.status, 'draft');
    assert.equal(campaign.maxRetries, 3);
    assert.equal(campaign.retryIntervalMinutes, 60);
    assert.equal(campaign.timezone, 'UTC');
    assert.deepEqual(campaign.allowedHours, { start: '09:00', end: '20:00' });
    assert.deepEqual(campaign.allowedDays, [1, 2, 3, 4, 5]);
    assert.equal(campaign.agentId, null);
    assert.equal(campaign.userId, acme.userId);
    assert.ok(Number.isInteger(campaign.numericId) && campaign.numericId > 0);
    const second = await create(acme, { name: 'Summer' });
    assert.ok(second.body.data.numericId > campaign.numericId);
    const got = await app.request('GET', `/api/campaigns/${campaign._id}`, { token: acme.token });
    assert.deepEqual(got.body.data, campaign);
    const list = await app.request('GET', '/api/campaigns', { token: acme.token });
    assert.deepEqual(list.body.data.map((c: { name: string }) => c.name).slice(0, 2), ['Spring', 'Summer']);
  });

  test('maxRetries 1–5 and retryIntervalMinutes 10–4320, inclusive', async () => {
    for (const [field, good, bad] of [
      ['maxRetries', [1, 5], [0, 6, 2.5, '3']],
      ['retryIntervalMinutes', [10, 4320], [9, 4321, '60']],
    ] as const) {
      for (const value of good) assert.equal((await create(acme, { name: `${field} ${value}`, [field]: value })).status, 201);
      for (const value of bad) {
        const res = await create(acme, { name: 'bad', [field]: value });
        assert.equal(res.status, 400, `${field}=${value}`);
        assert.match(res.body.error, new RegExp(field));
      }
    }
  });

  test('agentId, timezone and allowed hours are checked', async () => {
    const agent = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Caller' } })).body.data;
    const theirAgent = (await app.request('POST', '/api/agents', { token: other.token, body: { name: 'Theirs' } })).body.data;
    const ok = await create(acme, { name: 'With agent', agentId: agent._id, timezone: 'America/Chicago', allowedHours: { start: '10:00', end: '16:30' }, allowedDays: [6, 7] });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.data.agentId, agent._id);
    assert.deepEqual(ok.body.data.allowedHours, { start: '10:00', end: '16:30' });
    assert.deepEqual(ok.body.data.allowedDays, [6, 7]);
    const foreign = await create(acme, { name: 'x', agentId: theirAgent._id });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error, 'agentId must be an agent of your organization');
    assert.equal((await create(acme, { name: 'x', timezone: 'Nowhere/City' })).status, 400);
    assert.equal((await create(acme, { name: 'x', allowedHours: { start: '17:00', end: '09:00' } })).status, 400);
    assert.equal((await create(acme, { name: 'x', status: 'active' })).status, 400);
  });

  test('status: draft → active ⇄ paused → stopped, and stopped is final', async () => {
    const id = (await create(acme, { name: 'Lifecycle' })).body.data._id;
    const paused = await update(acme, id, { status: 'paused' });
    assert.equal(paused.status, 400);
    assert.equal(paused.body.error, 'status cannot change from draft to paused');
    for (const status of ['active', 'paused', 'active', 'stopped']) {
      const res = await update(acme, id, { status });
      assert.equal(res.status, 200, status);
      assert.equal(res.body.data.status, status);
    }
    for (const status of ['active', 'draft', 'paused']) assert.equal((await update(acme, id, { status })).status, 400);
    assert.equal((await update(acme, id, { status: 'running' })).status, 400);
  });

  test('update changes only what is given and keeps the rest', async () => {
    const created = (await create(acme, { name: 'Partial', maxRetries: 4 })).body.data;
    const res = await update(acme, created._id, { retryIntervalMinutes: 120 });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.retryIntervalMinutes, 120);
    assert.equal(res.body.data.maxRetries, 4);
    assert.equal(res.body.data.name, 'Partial');
    assert.equal((await update(acme, created._id, { maxRetries: 9 })).status, 400);
  });

  test("another organization's campaign and malformed ids answer 404; another user of the org sees it", async () => {
    const theirs = (await create(other, { name: 'Theirs' })).body.data;
    for (const id of [theirs._id, 'abc', '0123456789abcdef01234567']) {
      for (const [method, body] of [['GET', undefined], ['PUT', { name: 'y' }], ['DELETE', undefined]] as const) {
        const res = await app.request(method, `/api/campaigns/${id}`, { token: acme.token, body });
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, { success: false, error: 'Campaign not found' });
      }
    }
    const colleague = await addUser(app, acme);
    const mine = (await create(acme, { name: 'Shared' })).body.data;
    assert.equal((await app.request('GET', `/api/campaigns/${mine._id}`, { token: colleague.token })).status, 200);
  });

  test('delete removes a campaign', async () => {
    const id = (await create(acme, { name: 'Doomed' })).body.data._id;
    assert.equal((await app.request('DELETE', `/api/campaigns/${id}`, { token: acme.token })).status, 200);
    assert.equal((await app.request('GET', `/api/campaigns/${id}`, { token: acme.token })).status, 404);
  });
});

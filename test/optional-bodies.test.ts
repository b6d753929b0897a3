import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createConfiguration, createPrompt } from './support/configurations.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

// Bodies the contracts make optional, as clients really send them: generated clients put
// `Content-Type: application/json` on every request, also on one with no body, and PHP
// encodes an empty array as `[]`.

let app: TestApp;
let acme: Account;
before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
});
after(() => app.close());

const json = { 'content-type': 'application/json' };

describe('PUT /api/lead-management/{id} (seed 000: requestBody required: false)', () => {
  test('an empty body sent as JSON changes nothing but updatedAt, like no body at all', async () => {
    const config = await createConfiguration(app, acme, await createPrompt(app, acme), { name: 'Kept' });
    const read = async () => (await app.request('GET', `/api/lead-management/${config._id}`, { token: acme.token })).body.data;
    const before = await read();
    for (const raw of ['', undefined]) {
      app.clock.advance(1_000);
      const res = await app.request('PUT', `/api/lead-management/${config._id}`, { token: acme.token, raw, headers: json });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.data, { ...before, updatedAt: app.clock.now().toISOString() });
      assert.deepEqual(await read(), res.body.data);
    }
  });

  test('a body that is there is still parsed: blank or broken JSON is a 400, and the create still needs one', async () => {
    const config = await createConfiguration(app, acme, await createPrompt(app, acme, 'Other'), { name: 'Untouched' });
    for (const raw of ['  ', '{"name":']) {
      const res = await app.request('PUT', `/api/lead-management/${config._id}`, { token: acme.token, raw, headers: json });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.success, false);
    }
    assert.equal((await app.request('GET', `/api/lead-management/${config._id}`, { token: acme.token })).body.data.name, 'Untouched');
    const create = await app.request('POST', '/api/lead-management', { token: acme.token, raw: '', headers: json });
    assert.equal(create.status, 400, create.text);
    assert.equal(create.body.success, false);
  });
});

describe('PUT /autocalls/api/user/leads/{id} (seed 003: every body parameter optional)', () => {
  let key: string;
  let leadId: number;
  const readVariables = async () =>
    (await app.db.query<{ additional_info: Record<string, unknown> }>('SELECT additional_info FROM leads WHERE organization_id = $1 AND seq = $2', [acme.organizationId, leadId]))[0]
      .additional_info;

  before(async () => {
    key = await apiKeyFor(app, acme);
    const campaign = (await app.request('POST', '/autocalls/api/user/campaign', { token: key, body: { name: 'Calls' } })).body.data;
    const lead = await app.request('POST', '/autocalls/api/user/lead', { token: key, body: { phone_number: '+12125550188', campaign_id: campaign.id, variables: { name: 'Ann' } } });
    assert.equal(lead.status, 201, lead.text);
    leadId = lead.body.data.id;
  });

  test('no body, or an empty one sent as JSON, updates nothing and answers the success message', async () => {
    for (const options of [{}, { raw: '', headers: json }]) {
      const res = await app.request('PUT', `/autocalls/api/user/leads/${leadId}`, { token: key, ...options });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { message: 'Lead updated successfully' });
    }
    assert.deepEqual(await readVariables(), { name: 'Ann' });
  });

  test('variables [] (an empty PHP array) merges nothing; a list with items is still refused', async () => {
    const empty = await app.request('PUT', `/autocalls/api/user/leads/${leadId}`, { token: key, body: { variables: [] } });
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(await readVariables(), { name: 'Ann' });
    const list = await app.request('PUT', `/autocalls/api/user/leads/${leadId}`, { token: key, body: { variables: ['x'] } });
    assert.equal(list.status, 422, list.text);
    assert.deepEqual(list.body.errors, { variables: ['Variables must be an array'] });
    assert.deepEqual(await readVariables(), { name: 'Ann' });
  });
});

describe('routes that take no body', () => {
  test('an empty body sent as JSON is no body (DELETE, POST /auth/refresh, API-key regenerate, the dialects\' DELETEs)', async () => {
    const key = await apiKeyFor(app, acme);
    const lead = async () => (await app.request('POST', '/api/leads', { token: acme.token, body: { firstName: 'Gone', email: `gone${Math.random()}@example.com` } })).body.data;
    const autocallsCampaign = (await app.request('POST', '/autocalls/api/user/campaign', { token: key, body: { name: 'Empty bodies' } })).body.data.id;
    const autocallsLead = (await app.request('POST', '/autocalls/api/user/lead', { token: key, body: { campaign_id: autocallsCampaign, phone_number: '+12125558899' } })).body.data.id;
    const requests: Array<[string, string, string]> = [
      ['DELETE', `/api/leads/${(await lead())._id}`, acme.token],
      ['POST', '/api/auth/refresh', acme.token],
      ['DELETE', `/autocalls/api/user/leads/${autocallsLead}`, key],
      ['POST', '/api/user/api-key/regenerate', acme.token],
    ];
    for (const [method, path, token] of requests) {
      const res = await app.request(method, path, { token, raw: '', headers: json });
      assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${res.text}`);
    }
    // a body that is there is still read as JSON, and refused when it is not
    const broken = await app.request('DELETE', `/api/leads/${(await lead())._id}`, { token: acme.token, raw: '{"x":', headers: json });
    assert.equal(broken.status, 400, broken.text);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

// One lead is one row whichever surface touched it: native API, Apten, Autocalls, Convocore.

let app: TestApp;
let acme: Account;
let key: string;
let otherKey: string;
let agentId: string;
let campaignNumber: number;
before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  key = await apiKeyFor(app, acme);
  otherKey = await apiKeyFor(app, await registerOrganization(app, 'Other'));
  agentId = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Ava' } })).body.data._id;
  const campaign = await app.request('POST', '/autocalls/api/user/campaign', { token: key, body: { name: 'Calls', assistant_id: agentId } });
  campaignNumber = campaign.body.data.id;
});
after(() => app.close());

const native = (method: string, path: string, body?: unknown) => app.request(method, `/api${path}`, { token: acme.token, body });
const apten = (method: string, path: string, body?: unknown, apiKey = key) => app.request(method, `/apten/v1${path}`, { body, headers: { 'x-api-key': apiKey } });
const autocalls = (method: string, path: string, body?: unknown, token = key) => app.request(method, `/autocalls/api${path}`, { token, body });
const convocore = (method: string, path: string, body?: unknown, token = key) => app.request(method, `/convocore/v3${path}`, { token, body });

describe('one lead, one row', () => {
  test('created in Apten: the same lead natively and in Convocore; changes made anywhere show everywhere', async () => {
    const created = await apten('POST', '/leads/create', { firstName: 'Ada', lastName: 'Byron', phone: '+14155550111', customerProfile: 'ava', email: 'ada@example.com', additionalInfo: { plan: 'pro' } });
    assert.equal(created.status, 200, created.text);
    const id = created.body.id;

    const nativeLead = (await native('GET', `/leads/${id}`)).body.data;
    assert.equal(nativeLead._id, id);
    assert.equal(nativeLead.agentId, agentId);
    assert.equal(nativeLead.phone, '+14155550111');
    assert.equal(nativeLead.email, 'ada@example.com');
    assert.deepEqual(nativeLead.additionalInfo, { plan: 'pro' });

    const chat = (await convocore('GET', `/leads/${id}`)).body.data;
    assert.equal(chat.name, 'Ada Byron');
    assert.equal(chat.agentId, agentId);
    assert.equal(chat.metaData.plan, 'pro');

    assert.equal((await convocore('PATCH', `/leads/${id}`, { agentId, lead: { metaData: { company: 'Analytical', stage: 'demo_req' } } })).status, 200);
    assert.equal((await native('PATCH', `/leads/${id}`, { additionalInfo: { plan: null, seats: 3 } })).status, 200);
    assert.equal((await apten('POST', `/leads/${id}/turnOff`)).status, 200);

    const seen = (await apten('GET', `/leads/${id}`)).body;
    assert.deepEqual(seen.additionalInfo, { company: 'Analytical', seats: 3 });
    assert.equal(seen.isAiOn, false);
    const again = (await native('GET', `/leads/${id}`)).body.data;
    assert.equal(again.stageName, 'Demo Requested');
    assert.equal(again.isAiOn, false);
    const rows = await app.db.query('SELECT id FROM leads WHERE organization_id = $1 AND phone = $2', [acme.organizationId, '+14155550111']);
    assert.equal(rows.length, 1);
  });

  test('created in Autocalls: found by Apten lookup, updated through Convocore, variables merged across surfaces', async () => {
    const created = await autocalls('POST', '/user/lead', { phone_number: '+14155550122', campaign_id: campaignNumber, variables: { first: 'yes' } });
    assert.equal(created.status, 201, created.text);
    const found = await apten('GET', `/leads/lookup?phone=${encodeURIComponent('(415) 555-0122')}`);
    assert.equal(found.status, 200);
    assert.equal(found.body.customerProfile, 'Ava');
    const id = found.body.id;
    assert.equal((await native('GET', `/leads/${id}`)).body.data.seq, created.body.data.id);

    assert.equal((await convocore('PATCH', `/leads/${id}`, { agentId, lead: { name: 'Called Person', metaData: { notes: 'picked up' } } })).status, 200);
    assert.equal((await autocalls('PUT', `/user/leads/${created.body.data.id}`, { variables: { second: 'yes' }, status: 'completed' })).status, 200);
    assert.equal((await apten('PATCH', `/leads/${id}`, { additionalInfo: { third: 'yes' } })).status, 200);

    const listed = (await autocalls('GET', `/user/leads?campaign_id=${campaignNumber}`)).body.data.find((l: { id: number }) => l.id === created.body.data.id);
    assert.deepEqual(listed.variables, { first: 'yes', notes: 'picked up', second: 'yes', third: 'yes' });
    assert.equal(listed.status, 'completed');
    const chat = (await convocore('GET', `/leads/${id}`)).body.data;
    assert.equal(chat.name, 'Called Person');
    assert.equal((await native('GET', `/leads/${id}`)).body.data.status, 'completed');
  });

  test('created in Convocore: Apten and Autocalls address the same row; deleting it anywhere removes it everywhere', async () => {
    const created = await convocore('POST', '/leads', { lead: { agentId, name: 'Chat Lead', phone: '+14155550133', metaData: { website: 'chat.test' } } });
    assert.equal(created.status, 200, created.text);
    const id = created.body.data.id;
    const seq = (await native('GET', `/leads/${id}`)).body.data.seq;
    assert.equal((await autocalls('PUT', `/user/leads/${seq}`, { variables: { score: 5 } })).status, 200);
    assert.deepEqual((await apten('GET', `/leads/${id}`)).body.additionalInfo, { website: 'chat.test', score: 5 });
    assert.equal((await convocore('GET', `/leads/${id}`)).body.data.metaData.score, 5);

    assert.equal((await apten('DELETE', `/leads/${id}`)).status, 200);
    assert.equal((await native('GET', `/leads/${id}`)).status, 404);
    assert.equal((await convocore('GET', `/leads/${id}`)).status, 404);
    assert.equal((await autocalls('PUT', `/user/leads/${seq}`, { status: 'completed' })).status, 404);
  });

  test("another organization's key sees none of it, on any surface", async () => {
    const created = await apten('POST', '/leads/create', { firstName: 'Private', lastName: 'Lead', phone: '+14155550144', customerProfile: 'Ava' });
    const id = created.body.id;
    const seq = (await native('GET', `/leads/${id}`)).body.data.seq;
    assert.deepEqual((await apten('GET', `/leads/${id}`, undefined, otherKey)).body, { message: 'Lead not found.' });
    assert.equal((await apten('PATCH', `/leads/${id}`, { email: 'x@y.co' }, otherKey)).status, 404);
    assert.equal((await apten('GET', '/leads/lookup?phone=%2B14155550144', undefined, otherKey)).status, 404);
    assert.deepEqual((await autocalls('PUT', `/user/leads/${seq}`, { status: 'completed' }, otherKey)).body, { message: 'Lead not found' });
    assert.equal((await convocore('GET', `/leads/${id}`, undefined, otherKey)).body.code, 'NOT_FOUND');
    assert.equal((await convocore('PATCH', `/leads/${id}`, { agentId, lead: { name: 'x' } }, otherKey)).status, 404);
    assert.equal((await apten('GET', `/leads/${id}`)).body.firstName, 'Private');
  });
});

describe('the same rules on every surface', () => {
  test("seed 002's follow-up rules answer alike through the native PATCH and Apten's", async () => {
    const created = await apten('POST', '/leads/create', { firstName: 'Rule', lastName: 'Check', phone: '+14155550155', customerProfile: 'Ava' });
    const id = created.body.id;
    const callStep = { followUpConfig: { '1': { hours: 3, channel: 'call' } } };
    const nativeRefusal = await native('PATCH', `/leads/${id}`, callStep);
    const aptenRefusal = await apten('PATCH', `/leads/${id}`, callStep);
    assert.equal(nativeRefusal.status, 400);
    assert.equal(aptenRefusal.status, 400);
    assert.equal(aptenRefusal.body.message, nativeRefusal.body.error);
    assert.match(aptenRefusal.body.message, /followUpConfig\.1\.channel/);

    const cadence = { followUpConfig: { '1': { hours: 3, channel: 'text' }, '2': { hours: 10, channel: 'text' } } };
    assert.equal((await native('PATCH', `/leads/${id}`, { ...cadence, followUpStep: 2 })).status, 200);
    const viaNative = (await apten('GET', `/leads/${id}`)).body.nextFollowUpAt;
    app.clock.advance(60_000);
    assert.equal((await apten('PATCH', `/leads/${id}`, { followUpStep: 2 })).status, 200);
    const viaApten = (await native('GET', `/leads/${id}`)).body.data.nextFollowUpAt;
    assert.equal(new Date(viaApten).getTime() - new Date(viaNative).getTime(), 60_000);
  });

  test('oversize bodies answer 413 in each dialect\'s envelope', async () => {
    const small = await startApp({ bodyLimitBytes: 512 });
    try {
      const big = JSON.stringify({ padding: 'x'.repeat(2048) });
      const send = (path: string, headers: Record<string, string>) =>
        small.request('POST', path, { raw: big, headers: { 'content-type': 'application/json', ...headers } });
      const account = await registerOrganization(small, 'Small');
      const smallKey = await apiKeyFor(small, account);
      const aptenRes = await send('/apten/v1/leads/create', { 'x-api-key': smallKey });
      assert.deepEqual([aptenRes.status, Object.keys(aptenRes.body)], [413, ['message']]);
      const autocallsRes = await send('/autocalls/api/user/lead', { authorization: `Bearer ${smallKey}` });
      assert.deepEqual([autocallsRes.status, Object.keys(autocallsRes.body)], [413, ['message']]);
      const convocoreRes = await send('/convocore/v3/leads', { authorization: `Bearer ${smallKey}` });
      assert.equal(convocoreRes.status, 413);
      assert.equal(convocoreRes.body.code, 'PAYLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
  });
});

describe('OpenAPI', () => {
  test('/openapi.json lists the dialect routes under their own tags, and agents and campaigns natively', async () => {
    const spec = (await app.request('GET', '/openapi.json')).body;
    const tagOf = (path: string, method: string) => spec.paths[path]?.[method]?.tags;
    assert.deepEqual(tagOf('/apten/v1/leads/create', 'post'), ['Apten']);
    assert.deepEqual(tagOf('/apten/v1/leads/{leadId}', 'patch'), ['Apten']);
    assert.deepEqual(tagOf('/apten/v1/leads/{leadId}', 'put'), ['Apten']);
    assert.deepEqual(tagOf('/apten/v1/leads/lookup', 'get'), ['Apten']);
    assert.deepEqual(tagOf('/autocalls/api/user/leads/{id}', 'put'), ['Autocalls']);
    assert.deepEqual(tagOf('/autocalls/api/user/lead', 'post'), ['Autocalls']);
    assert.deepEqual(tagOf('/autocalls/api/user/campaign', 'post'), ['Autocalls']);
    assert.deepEqual(tagOf('/convocore/v3/leads/{id}', 'patch'), ['Convocore']);
    assert.deepEqual(tagOf('/convocore/v3/leads', 'get'), ['Convocore']);
    assert.deepEqual(tagOf('/api/agents', 'post'), ['Agents']);
    assert.deepEqual(tagOf('/api/campaigns/{id}', 'put'), ['Campaigns']);
    const body = spec.paths['/convocore/v3/leads/{id}'].patch.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['agentId', 'lead']);
    assert.equal(body.additionalProperties, false);
  });
});

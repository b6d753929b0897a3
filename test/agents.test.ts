import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let app: TestApp;
let acme: Account;
let other: Account;
before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  other = await registerOrganization(app, 'Other');
});
after(() => app.close());

const create = (account: Account, body: unknown) => app.request('POST', '/api/agents', { token: account.token, body });

describe('agents', () => {
  test('create answers 201 with defaults, and get/list return the agent', async () => {
    const prompt = await app.request('POST', '/api/prompts', { token: acme.token, body: { name: 'Opener', content: 'Be brief' } });
    const res = await create(acme, { name: 'Sarah', processId: prompt.body.data._id });
    assert.equal(res.status, 201);
    assert.equal(res.body.success, true);
    const agent = res.body.data;
    assert.match(agent._id, /^[0-9a-f]{24}$/);
    assert.deepEqual(
      { name: agent.name, processId: agent.processId, voiceEnabled: agent.voiceEnabled, emailEnabled: agent.emailEnabled, followUpConfig: agent.followUpConfig, businessHours: agent.businessHours },
      { name: 'Sarah', processId: prompt.body.data._id, voiceEnabled: false, emailEnabled: false, followUpConfig: null, businessHours: null },
    );
    assert.equal(agent.createdAt, '2026-06-01T12:00:00.000Z');
    const got = await app.request('GET', `/api/agents/${agent._id}`, { token: acme.token });
    assert.deepEqual(got.body.data, agent);
    const list = await app.request('GET', '/api/agents', { token: acme.token });
    assert.ok(list.body.data.some((a: { _id: string }) => a._id === agent._id));
  });

  test('names are unique in an organization whatever their case, but not across organizations', async () => {
    assert.equal((await create(acme, { name: 'Unique Name' })).status, 201);
    const again = await create(acme, { name: 'UNIQUE name' });
    assert.equal(again.status, 409);
    assert.deepEqual(again.body, { success: false, error: 'An agent with this name already exists' });
    assert.equal((await create(other, { name: 'unique name' })).status, 201);
  });

  test('concurrent creates of one name: exactly one wins, the others get 409', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => create(acme, { name: i % 2 ? 'Racer' : 'RACER' })));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
  });

  test('processId must be a prompt of the organization', async () => {
    const foreign = await app.request('POST', '/api/prompts', { token: other.token, body: { name: 'Theirs' } });
    for (const processId of [foreign.body.data._id, 'not-an-id', '0123456789abcdef01234567']) {
      const res = await create(acme, { name: `P ${processId}`, processId });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'processId must be a prompt (AI process) of your organization');
    }
  });

  test('business hours: valid timezone, start before end, ISO weekdays', async () => {
    const hours = { timezone: 'America/New_York', start: '08:30', end: '18:00', days: [1, 2, 3, 4, 5] };
    const res = await create(acme, { name: 'Hours', businessHours: hours });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.data.businessHours, hours);
    const badZone = await create(acme, { name: 'Bad zone', businessHours: { ...hours, timezone: 'Mars/Olympus' } });
    assert.equal(badZone.status, 400);
    assert.match(badZone.body.error, /^businessHours\.timezone /);
    const inverted = await create(acme, { name: 'Inverted', businessHours: { ...hours, start: '18:00', end: '08:00' } });
    assert.equal(inverted.status, 400);
    assert.match(inverted.body.error, /^businessHours\.end /);
    const badDay = await create(acme, { name: 'Bad day', businessHours: { ...hours, days: [0] } });
    assert.equal(badDay.status, 400);
    assert.match(badDay.body.error, /businessHours\.days/);
    const badTime = await create(acme, { name: 'Bad time', businessHours: { ...hours, start: '25:00' } });
    assert.equal(badTime.status, 400);
  });

  test('a default cadence may only use the channels the agent has', async () => {
    const config = { '1': { hours: 2, channel: 'text' }, '2': { hours: 24, channel: 'call', voicemailEnabled: true } };
    const noVoice = await create(acme, { name: 'No voice', followUpConfig: config });
    assert.equal(noVoice.status, 400);
    assert.match(noVoice.body.error, /followUpConfig\.2\.channel/);
    const voice = await create(acme, { name: 'Voice', voiceEnabled: true, followUpConfig: config });
    assert.equal(voice.status, 201);
    assert.deepEqual(voice.body.data.followUpConfig, config);
    // turning voice off while the cadence still calls is refused
    const off = await app.request('PUT', `/api/agents/${voice.body.data._id}`, { token: acme.token, body: { voiceEnabled: false } });
    assert.equal(off.status, 400);
    const badShape = await create(acme, { name: 'Bad shape', followUpConfig: { '1': { hours: 2 } } });
    assert.equal(badShape.status, 400);
    assert.match(badShape.body.error, /followUpConfig\.1\.channel/);
  });

  test('concurrent updates turning voice off and adding a call step: one wins, never voice off with a call step', async () => {
    const texts = { '1': { hours: 1, channel: 'text' } };
    const calls = { '1': { hours: 1, channel: 'call' } };
    const agent = (await create(acme, { name: 'Racing voice', voiceEnabled: true, followUpConfig: texts })).body.data;
    const put = (body: unknown) => app.request('PUT', `/api/agents/${agent._id}`, { token: acme.token, body });
    for (let round = 0; round < 20; round++) {
      const reset = await put({ voiceEnabled: true, followUpConfig: texts });
      assert.equal(reset.status, 200, reset.text);
      const [voiceOff, calling] = await Promise.all([put({ voiceEnabled: false }), put({ followUpConfig: calls })]);
      // whichever comes second is checked against the first one's result, and refused
      assert.deepEqual([voiceOff.status, calling.status].sort(), [200, 400], `round ${round}: ${voiceOff.text} ${calling.text}`);
      const loser = voiceOff.status === 400 ? voiceOff : calling;
      assert.match(loser.body.error, /followUpConfig\.1\.channel/);
      const stored = (await app.request('GET', `/api/agents/${agent._id}`, { token: acme.token })).body.data;
      assert.deepEqual(
        { voiceEnabled: stored.voiceEnabled, followUpConfig: stored.followUpConfig },
        voiceOff.status === 200 ? { voiceEnabled: false, followUpConfig: texts } : { voiceEnabled: true, followUpConfig: calls },
        `round ${round}: the accepted update is kept`,
      );
    }
  });

  test('update changes only the given fields; clearing business hours with null', async () => {
    const hours = { timezone: 'Europe/Paris', start: '09:00', end: '17:00', days: [1, 2, 3] };
    const agent = (await create(acme, { name: 'Editable', businessHours: hours })).body.data;
    app.clock.advance(60_000);
    const res = await app.request('PUT', `/api/agents/${agent._id}`, { token: acme.token, body: { emailEnabled: true, name: 'Edited' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.name, 'Edited');
    assert.equal(res.body.data.emailEnabled, true);
    assert.deepEqual(res.body.data.businessHours, hours);
    assert.notEqual(res.body.data.updatedAt, agent.updatedAt);
    const cleared = await app.request('PUT', `/api/agents/${agent._id}`, { token: acme.token, body: { businessHours: null } });
    assert.equal(cleared.body.data.businessHours, null);
    const empty = await app.request('PUT', `/api/agents/${agent._id}`, { token: acme.token, body: {} });
    assert.equal(empty.status, 400);
    const unknown = await app.request('PUT', `/api/agents/${agent._id}`, { token: acme.token, body: { colour: 'red' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /colour/);
  });

  test("another organization's agent, a missing id and a malformed id all answer 404", async () => {
    const theirs = (await create(other, { name: 'Theirs' })).body.data;
    for (const id of [theirs._id, '0123456789abcdef01234567', 'nope']) {
      for (const [method, body] of [['GET', undefined], ['PUT', { name: 'x' }], ['DELETE', undefined]] as const) {
        const res = await app.request(method, `/api/agents/${id}`, { token: acme.token, body });
        assert.equal(res.status, 404, `${method} ${id}`);
        assert.deepEqual(res.body, { success: false, error: 'Agent not found' });
      }
    }
    assert.equal((await app.request('GET', `/api/agents/${theirs._id}`, { token: other.token })).status, 200);
  });

  test('delete removes an unused agent and refuses one a campaign uses', async () => {
    const unused = (await create(acme, { name: 'Unused' })).body.data;
    const del = await app.request('DELETE', `/api/agents/${unused._id}`, { token: acme.token });
    assert.equal(del.status, 200);
    assert.deepEqual(del.body.data, { _id: unused._id });
    assert.equal((await app.request('GET', `/api/agents/${unused._id}`, { token: acme.token })).status, 404);
    const used = (await create(acme, { name: 'Used' })).body.data;
    await app.request('POST', '/api/campaigns', { token: acme.token, body: { name: 'C', agentId: used._id } });
    const refused = await app.request('DELETE', `/api/agents/${used._id}`, { token: acme.token });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /cannot be deleted/);
  });

  test('requires authentication', async () => {
    assert.equal((await app.request('GET', '/api/agents')).status, 401);
  });
});

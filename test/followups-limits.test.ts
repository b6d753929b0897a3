import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_MESSAGE_LENGTH } from '../src/lib/template.ts';
import { MAX_STEP_HOURS } from '../src/modules/followups/schedule.ts';
import { deliverOnce } from '../src/worker/delivery.ts';
import { runDispatcherOnce, UNPLANNABLE_RETRY_MS } from '../src/worker/dispatcher.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createLead, leadRow, messagesOf, scheduleLead } from './support/followups.ts';

// A step's wait is bounded, so every timer a cadence sets is a time PostgreSQL can hold; and
// a cadence stored before that bound cannot stop the dispatcher for everyone else.

const HOUR = 3_600_000;
let app: TestApp;
let acme: Account;
let rival: Account;
let acmeKey: string;

before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  rival = await registerOrganization(app, 'Rival');
  acmeKey = await apiKeyFor(app, acme);
});
after(() => app.close());

const now = () => app.clock.now();
const tooLong = { '1': { hours: 1, channel: 'text' }, '2': { hours: MAX_STEP_HOURS + 1, channel: 'text' } };

describe("a step's hours", () => {
  test('more than a century is refused on every surface that takes a cadence, and nothing changes', async () => {
    const config = { '1': { hours: 2, channel: 'text' } };
    const lead = await createLead(app, acme, { followUpConfig: config });
    const before = await leadRow(app, lead._id);

    const native = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpConfig: tooLong } });
    assert.equal(native.status, 400, native.text);
    assert.equal(native.body.success, false);
    assert.deepEqual(
      native.body.details.map((issue: { field: string }) => issue.field),
      ['followUpConfig.2.hours'],
    );

    const apten = await app.request('PATCH', `/apten/v1/leads/${lead._id}`, { headers: { 'x-api-key': acmeKey }, body: { followUpConfig: tooLong, followUpStep: 1 } });
    assert.equal(apten.status, 400, apten.text);
    assert.match(apten.body.message, /followUpConfig\.2\.hours must be <= 876000/);

    const agent = await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Patient', followUpConfig: tooLong } });
    assert.equal(agent.status, 400, agent.text);
    assert.match(agent.body.error, /followUpConfig\.2\.hours/);

    assert.deepEqual(await leadRow(app, lead._id), before);
    const stored = await app.request('GET', `/api/leads/${lead._id}`, { token: acme.token });
    assert.deepEqual(stored.body.data.followUpConfig, config);
    const agents = await app.request('GET', '/api/agents', { token: acme.token });
    assert.equal(agents.body.data.some((a: { name: string }) => a.name === 'Patient'), false);
  });

  test('a century exactly is accepted and timed to the hour', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme);
    const res = await app.request('PATCH', `/api/leads/${lead._id}`, {
      token: acme.token,
      body: { followUpConfig: { '1': { hours: MAX_STEP_HOURS, channel: 'text' } }, followUpStep: 1 },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.nextFollowUpAt, new Date(now().getTime() + MAX_STEP_HOURS * HOUR).toISOString());
  });
});

describe('a cadence stored before steps had a maximum', () => {
  test('its lead is retried an hour later, and every other due lead is still sent', async () => {
    app.clock.set('2026-06-02T12:00:00Z');
    // written as an older version could have stored it: its next step lies beyond year 9999
    const broken = await createLead(app, acme);
    await app.db.query(`UPDATE leads SET follow_up_config = $2 WHERE id = $1`, [broken._id, JSON.stringify({ '1': { hours: 1, channel: 'text' }, '2': { hours: 1e12, channel: 'text' } })]);
    await scheduleLead(app, broken._id, 1, new Date(now().getTime() - 2 * 60_000));
    // due after the broken one, so it is claimed behind it, in another organization
    const healthy = await createLead(app, rival, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 3, channel: 'text' } } });
    await scheduleLead(app, healthy._id, 1, new Date(now().getTime() - 60_000));

    while ((await runDispatcherOnce(app.ctx)) > 0);
    while ((await deliverOnce(app.ctx)) > 0);

    const sent = await messagesOf(app, rival, healthy._id);
    assert.equal(sent.length, 1);
    assert.equal((await leadRow(app, healthy._id)).follow_up_step, 2);

    assert.deepEqual(await messagesOf(app, acme, broken._id), []);
    const parked = await leadRow(app, broken._id);
    assert.equal(parked.follow_up_step, 1);
    assert.deepEqual(parked.next_follow_up_at, new Date(now().getTime() + UNPLANNABLE_RETRY_MS));
  });
});

describe('a template that would render to megabytes', () => {
  const huge = { additionalInfo: { a: 'x'.repeat(65_000) }, followUpConfig: { '1': { hours: 1, channel: 'text', template: '{{a}}'.repeat(1_000) }, '2': { hours: 24, channel: 'text' } } };

  test('is sent cut at 10,000 characters, and the leads batched with it are sent too', async () => {
    app.clock.set('2026-06-03T12:00:00Z');
    const heavy = await Promise.all(Array.from({ length: 3 }, () => createLead(app, acme, huge)));
    for (const lead of heavy) await scheduleLead(app, lead._id, 1, new Date(now().getTime() - 2 * 60_000));
    const neighbour = await createLead(app, rival, { followUpConfig: { '1': { hours: 1, channel: 'text', template: 'Hi {{firstName}}' } } });
    await scheduleLead(app, neighbour._id, 1, new Date(now().getTime() - 60_000));

    while ((await runDispatcherOnce(app.ctx)) > 0);
    while ((await deliverOnce(app.ctx)) > 0);

    for (const lead of heavy) {
      const [message] = await messagesOf(app, acme, lead._id);
      assert.equal(message.content, 'x'.repeat(MAX_MESSAGE_LENGTH));
      assert.equal(message.status, 'delivered');
    }
    assert.deepEqual((await messagesOf(app, rival, neighbour._id)).map((m) => m.content), ['Hi Ada']);
  });
});

test('a step names at most 100 strategies', async () => {
  const lead = await createLead(app, acme, { useStrategiesForFollowUps: true });
  const config = (count: number) => ({ '1': { hours: 1, channel: 'text', strategyIds: Array.from({ length: count }, (_, i) => `strategy-${i}`) } });
  const refused = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpConfig: config(101) } });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.body.error, /followUpConfig\.1\.strategyIds/);
  const accepted = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpConfig: config(100) } });
  assert.equal(accepted.status, 200, accepted.text);
});

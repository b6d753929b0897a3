import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LONG_TERM, STOPPED } from '../src/modules/followups/schedule.ts';
import { deliverOnce } from '../src/worker/delivery.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createLead, leadRow, messagesOf, scheduleLead, setOrganization } from './support/followups.ts';

const HOUR = 3_600_000;
let app: TestApp;
let acme: Account;
let rival: Account;

before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  rival = await registerOrganization(app, 'Rival');
});
after(() => app.close());

/** Fires and delivers everything due at the current manual time. */
async function runWorker(): Promise<void> {
  while ((await runDispatcherOnce(app.ctx)) > 0);
  while ((await deliverOnce(app.ctx)) > 0);
}

const now = () => app.clock.now();
const later = (hours: number) => new Date(now().getTime() + hours * HOUR);

describe('the cadence', () => {
  test('a due step is sent once, and the lead moves to the next step at now + its hours', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const config = { '1': { hours: 1, channel: 'text', template: 'Hi {{firstName}} {{lastName}} from {{company}}{{missing}}!' }, '2': { hours: 5, channel: 'text' } };
    const lead = await createLead(app, acme, { firstName: 'Ada', lastName: 'Lovelace', additionalInfo: { company: 'Engines' }, followUpConfig: config });
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    await runWorker();

    const messages = await messagesOf(app, acme, lead._id);
    assert.equal(messages.length, 1);
    const [message] = messages;
    assert.equal(message.content, 'Hi Ada Lovelace from Engines!');
    assert.equal(message.channel, 'text');
    assert.equal(message.origin, 'follow_up');
    assert.equal(message.followUpStep, 1);
    assert.equal(message.status, 'delivered');
    assert.equal(message.provider, 'log');
    assert.equal(message.to, lead.phone);
    assert.equal(message.idempotencyKey, `followup:${lead._id}:1:${now().toISOString()}`);

    const state = await leadRow(app, lead._id);
    assert.equal(state.follow_up_step, 2);
    assert.deepEqual(state.next_follow_up_at, later(5));
  });

  test('after the last step the lead goes LONG_TERM and is touched every long-term interval', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    await setOrganization(app, acme, { long_term_interval_hours: 48 });
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    let state = await leadRow(app, lead._id);
    assert.equal(state.follow_up_step, LONG_TERM);
    assert.deepEqual(state.next_follow_up_at, later(48));

    app.clock.advance(47 * HOUR);
    await runWorker();
    assert.equal((await messagesOf(app, acme, lead._id)).length, 1, 'not due yet');
    app.clock.advance(HOUR);
    await runWorker();
    const messages = await messagesOf(app, acme, lead._id);
    assert.equal(messages.length, 2);
    assert.equal(messages[1].followUpStep, LONG_TERM);
    state = await leadRow(app, lead._id);
    assert.equal(state.follow_up_step, LONG_TERM);
    assert.deepEqual(state.next_follow_up_at, later(48));
    await setOrganization(app, acme, { long_term_interval_hours: 720 });
  });

  test('a PATCH of followUpStep and followUpConfig (seed 002) schedules what the dispatcher then sends', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme);
    const config = { '1': { hours: 2, channel: 'text', template: 'one' }, '2': { hours: 3, channel: 'text', template: 'two' } };
    const patched = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpConfig: config, followUpStep: 2 } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.data.nextFollowUpAt, later(3).toISOString());
    app.clock.advance(3 * HOUR);
    await runWorker();
    assert.deepEqual((await messagesOf(app, acme, lead._id)).map((m) => m.content), ['two']);
    assert.equal((await leadRow(app, lead._id)).follow_up_step, LONG_TERM);
    const stopped = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpStep: STOPPED } });
    assert.equal(stopped.body.data.nextFollowUpAt, null);
    app.clock.advance(800 * HOUR); // past the long-term touch it would have had
    await runWorker();
    const [{ n }] = await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE lead_id = $1`, [lead._id]);
    assert.equal(n, 1);
    app.clock.advance(-800 * HOUR); // back inside the tokens' lifetime
  });

  test('stopped, opted-out, AI-off, deleted and not-yet-due leads are not touched', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    // an ordinary due lead in the same run: the dispatcher did run, and only it was touched
    const due = await createLead(app, acme);
    await scheduleLead(app, due._id, 1, now());
    const stopped = await createLead(app, acme);
    await scheduleLead(app, stopped._id, STOPPED, now());
    const optedOut = await createLead(app, acme, { optedOut: true });
    await scheduleLead(app, optedOut._id, 1, now());
    const aiOff = await createLead(app, acme, { isAiOn: false });
    await scheduleLead(app, aiOff._id, 1, now());
    const deleted = await createLead(app, acme);
    await scheduleLead(app, deleted._id, 1, now());
    assert.equal((await app.request('DELETE', `/api/leads/${deleted._id}`, { token: acme.token })).status, 200);
    const future = await createLead(app, acme);
    await scheduleLead(app, future._id, 1, later(1));
    await runWorker();
    const [row] = await app.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE lead_id = ANY($1)`,
      [[stopped._id, optedOut._id, aiOff._id, deleted._id, future._id]],
    );
    assert.equal(row.n, 0);
    const sent = await messagesOf(app, acme, due._id);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].followUpStep, 1);
    assert.equal(sent[0].status, 'delivered');
  });

  test("the cadence is the lead's own, else its agent's, else the organization's, else the built-in one", async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Cadences');
    const agent = (await app.request('POST', '/api/agents', { token: org.token, body: { name: 'Agent', followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 7, channel: 'text' } } } })).body.data;
    const own = await createLead(app, org, { agentId: agent._id, followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 3, channel: 'text' } } });
    const viaAgent = await createLead(app, org, { agentId: agent._id });
    const viaOrg = await createLead(app, org);
    const builtIn = await createLead(app, rival);
    for (const lead of [own, viaAgent, viaOrg, builtIn]) await scheduleLead(app, lead._id, 1, now());
    await setOrganization(app, org, { default_follow_up_config: { '1': { hours: 1, channel: 'text' }, '2': { hours: 11, channel: 'text' } } });
    await runWorker();
    assert.deepEqual((await leadRow(app, own._id)).next_follow_up_at, later(3));
    assert.deepEqual((await leadRow(app, viaAgent._id)).next_follow_up_at, later(7));
    assert.deepEqual((await leadRow(app, viaOrg._id)).next_follow_up_at, later(11));
    assert.deepEqual((await leadRow(app, builtIn._id)).next_follow_up_at, later(72));
  });

  test('a lead that cannot be reached on the step\'s channel gets a skipped message and the cadence moves on', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { phone: undefined, email: 'no-phone@example.com', followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 2, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    const [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.status, 'skipped');
    assert.match(message.lastError, /phone/);
    assert.equal((await leadRow(app, lead._id)).follow_up_step, 2);
  });
});

describe('business hours', () => {
  test("a touch due outside the organization's window waits for the next opening, visibly, then fires", async () => {
    const org = await registerOrganization(app, 'Night');
    await setOrganization(app, org, { timezone: 'America/New_York' });
    app.clock.set('2026-06-02T03:00:00Z'); // Monday 23:00 EDT
    const lead = await createLead(app, org, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 24, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    assert.equal((await messagesOf(app, org, lead._id)).length, 0);
    let state = await leadRow(app, lead._id);
    const opening = new Date('2026-06-02T13:00:00Z'); // Tuesday 09:00 EDT
    assert.deepEqual(state.follow_up_deferred_until, opening);
    assert.deepEqual(state.next_follow_up_at, opening);
    assert.equal(state.follow_up_step, 1);
    const shown = await app.request('GET', `/api/leads/${lead._id}`, { token: org.token });
    assert.equal(shown.body.data.nextFollowUpAt, opening.toISOString());
    assert.equal(shown.body.data.followUpDeferredUntil, opening.toISOString());

    app.clock.set(opening);
    await runWorker();
    assert.equal((await messagesOf(app, org, lead._id)).length, 1);
    state = await leadRow(app, lead._id);
    assert.equal(state.follow_up_step, 2);
    assert.equal(state.follow_up_deferred_until, null);
    assert.deepEqual(state.next_follow_up_at, later(24));
    const fired = await app.request('GET', `/api/leads/${lead._id}`, { token: org.token });
    assert.deepEqual([fired.body.data.nextFollowUpAt, fired.body.data.followUpDeferredUntil], [later(24).toISOString(), null]);
  });

  test("the lead's own timezone wins over the organization's", async () => {
    const org = await registerOrganization(app, 'Tz');
    await setOrganization(app, org, { timezone: 'America/New_York' });
    app.clock.set('2026-06-02T03:00:00Z'); // 23:00 in New York, 12:00 in Tokyo
    const tokyo = await createLead(app, org, { timezone: 'Asia/Tokyo' });
    const newYork = await createLead(app, org);
    await scheduleLead(app, tokyo._id, 1, now());
    await scheduleLead(app, newYork._id, 1, now());
    await runWorker();
    assert.equal((await messagesOf(app, org, tokyo._id)).length, 1);
    assert.equal((await messagesOf(app, org, newYork._id)).length, 0);
  });

  test("the agent's window wins over the organization's; Sunday is closed by default", async () => {
    const org = await registerOrganization(app, 'Agents');
    const agent = (await app.request('POST', '/api/agents', { token: org.token, body: { name: 'Early', businessHours: { timezone: 'UTC', start: '06:00', end: '08:00', days: [1, 2, 3, 4, 5, 6, 7] } } })).body.data;
    await app.db.query(`UPDATE agents SET send_window_start = '06:00', send_window_end = '08:00', send_days = '{1,2,3,4,5,6,7}' WHERE id = $1`, [agent._id]);
    app.clock.set('2026-06-07T07:00:00Z'); // Sunday 07:00 UTC
    const withAgent = await createLead(app, org, { agentId: agent._id });
    const without = await createLead(app, org);
    await scheduleLead(app, withAgent._id, 1, now());
    await scheduleLead(app, without._id, 1, now());
    await runWorker();
    assert.equal((await messagesOf(app, org, withAgent._id)).length, 1);
    assert.deepEqual((await leadRow(app, without._id)).follow_up_deferred_until, new Date('2026-06-08T09:00:00Z'));
  });

  test("campaign leads follow the campaign's hours, days and timezone", async () => {
    const org = await registerOrganization(app, 'Campaigns');
    const campaign = (await app.request('POST', '/api/campaigns', { token: org.token, body: { name: 'Tokyo', timezone: 'Asia/Tokyo', allowedHours: { start: '10:00', end: '12:00' }, allowedDays: [1, 2, 3, 4, 5] } })).body.data;
    app.clock.set('2026-06-01T12:00:00Z'); // Monday 21:00 in Tokyo: open for the organization, closed for the campaign
    const lead = await createLead(app, org, { campaignId: campaign._id });
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    assert.deepEqual((await leadRow(app, lead._id)).follow_up_deferred_until, new Date('2026-06-02T01:00:00Z')); // Tuesday 10:00 JST
  });

  test('deferral across the New York spring-forward DST change opens at 09:00 local time', async () => {
    const org = await registerOrganization(app, 'Dst');
    await setOrganization(app, org, { timezone: 'America/New_York' });
    app.clock.set('2026-03-07T03:00:00Z'); // Friday 22:00 EST
    const lead = await createLead(app, org);
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    assert.deepEqual((await leadRow(app, lead._id)).follow_up_deferred_until, new Date('2026-03-07T14:00:00Z')); // Saturday 09:00 EST
    app.clock.set('2026-03-08T02:00:00Z'); // Saturday 21:00 EST
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    assert.deepEqual((await leadRow(app, lead._id)).follow_up_deferred_until, new Date('2026-03-09T13:00:00Z')); // Monday 09:00 EDT
  });
});

describe('strategies', () => {
  test('CRUD, scoped to the organization', async () => {
    const created = await app.request('POST', '/api/strategies', { token: acme.token, body: { name: 'Direct', instructions: 'Be brief' } });
    assert.equal(created.status, 201);
    const id = created.body.data._id;
    assert.equal((await app.request('GET', `/api/strategies/${id}`, { token: acme.token })).body.data.name, 'Direct');
    assert.equal((await app.request('GET', `/api/strategies/${id}`, { token: rival.token })).status, 404);
    assert.equal((await app.request('GET', '/api/strategies/nope', { token: acme.token })).status, 404);
    const updated = await app.request('PUT', `/api/strategies/${id}`, { token: acme.token, body: { instructions: 'Be warm' } });
    assert.equal(updated.body.data.instructions, 'Be warm');
    assert.equal(updated.body.data.name, 'Direct');
    assert.equal((await app.request('PUT', `/api/strategies/${id}`, { token: rival.token, body: { name: 'x' } })).status, 404);
    assert.equal((await app.request('POST', '/api/strategies', { token: acme.token, body: { instructions: 'no name' } })).status, 400);
    assert.equal((await app.request('DELETE', `/api/strategies/${id}`, { token: rival.token })).status, 404);
    assert.equal((await app.request('DELETE', `/api/strategies/${id}`, { token: acme.token })).status, 200);
    assert.equal((await app.request('GET', `/api/strategies/${id}`, { token: acme.token })).status, 404);
  });

  test('"auto" picks the strategy least used on the lead, and the message records it', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Strategic');
    const ids: string[] = [];
    for (const name of ['A', 'B', 'C']) ids.push((await app.request('POST', '/api/strategies', { token: org.token, body: { name } })).body.data._id);
    const step = { hours: 1, channel: 'text', strategyIds: 'auto' };
    const lead = await createLead(app, org, { useStrategiesForFollowUps: true, followUpConfig: { '1': step, '2': step, '3': step, '4': step } });
    await scheduleLead(app, lead._id, 1, now());
    for (let i = 0; i < 4; i++) {
      await runWorker();
      app.clock.advance(HOUR);
    }
    const used = (await messagesOf(app, org, lead._id)).map((m) => m.strategyId);
    assert.deepEqual(used, [ids[0], ids[1], ids[2], ids[0]]);
  });

  test('a list of ids picks among those only; without useStrategiesForFollowUps none is used', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Listed');
    const ids: string[] = [];
    for (const name of ['A', 'B', 'C']) ids.push((await app.request('POST', '/api/strategies', { token: org.token, body: { name } })).body.data._id);
    const step = { hours: 1, channel: 'text', strategyIds: [ids[2], ids[1]] };
    const lead = await createLead(app, org, { useStrategiesForFollowUps: true, followUpConfig: { '1': step, '2': step } });
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    app.clock.advance(HOUR);
    await runWorker();
    assert.deepEqual((await messagesOf(app, org, lead._id)).map((m) => m.strategyId), [ids[2], ids[1]]);

    const off = await createLead(app, org, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await app.db.query(`UPDATE leads SET follow_up_config = $2 WHERE id = $1`, [off._id, JSON.stringify({ '1': step })]);
    await scheduleLead(app, off._id, 1, now());
    await runWorker();
    assert.equal((await messagesOf(app, org, off._id))[0].strategyId, null);
  });
});

describe('manual send', () => {
  const send = (account: Account, leadId: string, body: unknown) => app.request('POST', `/api/leads/${leadId}/messages`, { token: account.token, body });

  test('queues the message for delivery now when inside business hours', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme);
    const res = await send(acme, lead._id, { content: 'Hello there' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.data.status, 'queued');
    assert.equal(res.body.data.origin, 'manual');
    assert.equal(res.body.data.createdBy, acme.userId);
    assert.equal(res.body.data.nextAttemptAt, now().toISOString());
    await runWorker();
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'delivered');
  });

  test('outside business hours it waits for the opening unless overrideBusinessHours', async () => {
    app.clock.set('2026-06-01T22:00:00Z'); // Monday 22:00 UTC (organization in UTC)
    const lead = await createLead(app, acme);
    const waiting = await send(acme, lead._id, { content: 'Later' });
    assert.equal(waiting.body.data.nextAttemptAt, '2026-06-02T09:00:00.000Z');
    const now1 = await send(acme, lead._id, { content: 'Now', overrideBusinessHours: true });
    assert.equal(now1.body.data.nextAttemptAt, now().toISOString());
    await runWorker();
    const statuses = (await messagesOf(app, acme, lead._id)).map((m) => [m.content, m.status]);
    assert.deepEqual(statuses, [['Later', 'queued'], ['Now', 'delivered']]);
  });

  test('scheduledTime delays the send', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme);
    const res = await send(acme, lead._id, { content: 'At two', scheduledTime: '2026-06-01T14:00:00Z' });
    assert.equal(res.body.data.nextAttemptAt, '2026-06-01T14:00:00.000Z');
    await runWorker();
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'queued');
    app.clock.set('2026-06-01T14:00:00Z');
    await runWorker();
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'delivered');
  });

  test('an explicit scheduledTime outside the window is kept: only a send with no time is moved into business hours', async () => {
    app.clock.set('2026-06-01T12:00:00Z'); // the organization's window is 09:00-20:00 UTC
    const lead = await createLead(app, acme);
    const evening = await send(acme, lead._id, { content: 'At ten tonight', scheduledTime: '2026-06-01T22:00:00Z' });
    assert.equal(evening.status, 201, evening.text);
    assert.equal(evening.body.data.nextAttemptAt, '2026-06-01T22:00:00.000Z');
    app.clock.set('2026-06-01T22:00:00Z');
    await runWorker();
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'delivered');
  });

  test("refuses when the lead's AI is off unless sendWhenOff, and always for an opted-out lead", async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const off = await createLead(app, acme, { isAiOn: false });
    const refused = await send(acme, off._id, { content: 'Hi' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /sendWhenOff/);
    assert.equal((await send(acme, off._id, { content: 'Hi', sendWhenOff: true })).status, 201);
    const optedOut = await createLead(app, acme, { optedOut: true });
    const never = await send(acme, optedOut._id, { content: 'Hi', sendWhenOff: true, overrideBusinessHours: true });
    assert.equal(never.status, 400);
    assert.match(never.body.error, /opted out/);
    assert.equal((await messagesOf(app, acme, optedOut._id)).length, 0);
  });

  test('validates the body and the channel against the lead', async () => {
    const lead = await createLead(app, acme);
    assert.equal((await send(acme, lead._id, {})).status, 400);
    assert.equal((await send(acme, lead._id, { content: 'x', channel: 'fax' })).status, 400);
    assert.equal((await send(acme, lead._id, { content: 'x', scheduledTime: 'tomorrow' })).status, 400);
    assert.equal((await send(acme, lead._id, { content: 'x', extra: 1 })).status, 400);
    const blank = await send(acme, lead._id, { content: '   ' });
    assert.equal(blank.status, 400, blank.text);
    assert.equal(blank.body.error, 'content must not be blank');
    const noEmail = await send(acme, lead._id, { content: 'x', channel: 'email' });
    assert.equal(noEmail.status, 400);
    assert.match(noEmail.body.error, /channel/);
  });

  test("another organization's lead and malformed ids answer 404", async () => {
    const lead = await createLead(app, acme);
    assert.equal((await send(rival, lead._id, { content: 'x' })).status, 404);
    assert.equal((await send(acme, 'not-an-id', { content: 'x' })).status, 404);
    assert.equal((await app.request('GET', `/api/leads/${lead._id}/messages`, { token: rival.token })).status, 404);
    assert.equal((await app.request('GET', '/api/leads/123/messages', { token: acme.token })).status, 404);
  });
});

describe('message listing', () => {
  test('GET /api/messages filters by status, newest first, within the organization', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, rival);
    await app.request('POST', `/api/leads/${lead._id}/messages`, { token: rival.token, body: { content: 'one', scheduledTime: '2026-06-05T12:00:00Z' } });
    app.clock.advance(1000);
    await app.request('POST', `/api/leads/${lead._id}/messages`, { token: rival.token, body: { content: 'two', scheduledTime: '2026-06-05T12:00:00Z' } });
    const queued = await app.request('GET', '/api/messages?status=queued', { token: rival.token });
    assert.equal(queued.status, 200);
    assert.deepEqual(queued.body.data.map((m: { content: string }) => m.content), ['two', 'one']);
    const page = await app.request('GET', `/api/messages?status=queued&limit=1&before=${queued.body.data[0]._id}`, { token: rival.token });
    assert.deepEqual(page.body.data.map((m: { content: string }) => m.content), ['one']);
    assert.equal((await app.request('GET', '/api/messages?status=failed', { token: rival.token })).body.data.length, 0);
    assert.equal((await app.request('GET', '/api/messages?status=bogus', { token: rival.token })).status, 400);
    const acmeView = await app.request('GET', '/api/messages?status=queued', { token: acme.token });
    assert.ok(acmeView.body.data.every((m: { leadId: string }) => m.leadId !== lead._id));
  });

  test('GET /api/messages without a status lists every status together, newest first, keyset-paged across them', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lister = await registerOrganization(app, 'Lister');
    const lead = await createLead(app, lister);
    const post = async (content: string, body: Record<string, unknown>) => {
      const res = await app.request('POST', `/api/leads/${lead._id}/messages`, { token: lister.token, body: { content, ...body } });
      assert.equal(res.status, 201, res.text);
      app.clock.advance(1000);
    };
    await post('first', { overrideBusinessHours: true });
    while ((await deliverOnce(app.ctx)) > 0);
    await post('second', { scheduledTime: '2026-06-05T12:00:00Z' });
    await post('third', { scheduledTime: '2026-06-05T12:00:00Z' });
    const list = async (query: string) =>
      (await app.request('GET', `/api/messages${query}`, { token: lister.token })).body.data.map((m: { content: string; status: string }) => [m.content, m.status]);
    const all = await list('');
    assert.deepEqual(all.map(([content]: string[]) => content), ['third', 'second', 'first']);
    assert.notEqual(all[2][1], 'queued', 'the first went out');
    const firstPage = (await app.request('GET', '/api/messages?limit=2', { token: lister.token })).body.data;
    assert.deepEqual(firstPage.map((m: { content: string }) => m.content), ['third', 'second']);
    assert.deepEqual((await list(`?limit=2&before=${firstPage[1]._id}`)).map(([content]: string[]) => content), ['first']);
  });
});

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { LONG_TERM } from '../src/modules/followups/schedule.ts';
import { deliverOnce, MAX_DELIVERY_ATTEMPTS, releaseChannels } from '../src/worker/delivery.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { createLead, leadRow, messagesOf, scheduleLead, setOrganization } from './support/followups.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

// Rules of the follow-up engine exercised end to end (HTTP, carrier webhooks, the worker's
// entry points), each in a way that fails when the rule is broken.

const HOUR = 3_600_000;
const MINUTE = 60_000;
let app: TestApp;
let twilio: FakeTwilio;

before(async () => {
  twilio = await startFakeTwilio();
  app = await startApp({
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, baseUrl: twilio.baseUrl },
  });
  // the carrier must call back the address it was given; only known once the app listens
  app.ctx.config.publicUrl = app.url;
});
after(async () => {
  await releaseChannels(app.ctx);
  await app.close();
  await twilio.close();
});
// Each test starts from nothing due: what one test leaves scheduled or queued must not fire
// (or consume the fake carrier's failures) when a later one moves the clock.
afterEach(async () => {
  await app.ctx.background.drain();
  await app.db.query(`UPDATE leads SET follow_up_step = -1, next_follow_up_at = NULL, follow_up_deferred_until = NULL`);
  await app.db.query(`UPDATE messages SET status = 'canceled', next_attempt_at = NULL WHERE status IN ('queued', 'failed', 'sending')`);
});

/** As the worker role runs: dispatch delivers its own touches, delivery loops the rest of the outbox (bounded). */
async function runWorker(): Promise<void> {
  for (let i = 0; i < 50 && (await runDispatcherOnce(app.ctx, { deliverInline: true })) > 0; i++);
  for (let i = 0; i < 50 && (await deliverOnce(app.ctx)) > 0; i++);
}

const now = () => app.clock.now();
const later = (hours: number) => new Date(now().getTime() + hours * HOUR);
/** What reached the fake carrier for this number (distinct creates). */
const carrierTo = (phone: string, resource?: 'Messages' | 'Calls') =>
  twilio.created.filter((c) => c.params.To === phone && (resource === undefined || c.resource === resource));

const carrierPost = async (path: string, params: Record<string, string>) => {
  const signed = twilio.signed(app.url + path, params);
  return app.request('POST', path, { raw: signed.raw, headers: signed.headers });
};
const inboundSms = async (from: string, body: string, sid: string) => {
  const res = await carrierPost('/api/webhook/twilio/sms', { From: from, To: twilio.from, Body: body, MessageSid: sid, AccountSid: twilio.accountSid });
  assert.equal(res.status, 200, res.text);
  // the AI answer is composed after the webhook was answered
  await app.ctx.background.drain();
};
const callStatus = async (sid: string, status: string) => {
  const res = await carrierPost('/api/webhook/twilio/status', { CallSid: sid, CallStatus: status, AccountSid: twilio.accountSid });
  assert.equal(res.status, 204, res.text);
};

async function createAgent(account: Account, body: Record<string, unknown>): Promise<{ _id: string; name: string }> {
  const res = await app.request('POST', '/api/agents', { token: account.token, body });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

async function createCampaign(account: Account, body: Record<string, unknown>): Promise<{ _id: string }> {
  const res = await app.request('POST', '/api/campaigns', { token: account.token, body });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

/**
 * A lead of a new weekday 09:00–20:00 UTC campaign (calls retried 10 minutes apart, up to 3
 * times) whose one-step call cadence is due now, fired and handed to the carrier.
 */
async function campaignCallSent(account: Account) {
  const caller = await createAgent(account, { name: `Caller ${Math.random()}`, voiceEnabled: true });
  const campaign = await createCampaign(account, {
    name: 'Dialer', agentId: caller._id, maxRetries: 3, retryIntervalMinutes: 10, timezone: 'UTC', allowedHours: { start: '09:00', end: '20:00' }, allowedDays: [1, 2, 3, 4, 5],
  });
  const lead = await createLead(app, account, { agentId: caller._id, campaignId: campaign._id, followUpConfig: { '1': { hours: 1, channel: 'call' } } });
  await scheduleLead(app, lead._id, 1, now());
  await runWorker();
  const [call, ...others] = await messagesOf(app, account, lead._id);
  assert.equal(others.length, 0);
  assert.deepEqual([call.channel, call.status, call.origin, call.callAttempt], ['call', 'sent', 'follow_up', 1]);
  assert.equal(carrierTo(lead.phone, 'Calls').length, 1);
  return { lead, call };
}

describe("a step-only PATCH on a lead without its own cadence uses its agent's", () => {
  const agentCadence = { '1': { hours: 7, channel: 'text' } };

  test('native PATCH /api/leads/{id} {followUpStep: 1} → now + the agent step\'s 7 hours', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Agent cadence native');
    const agent = await createAgent(org, { name: 'Seven', followUpConfig: agentCadence });
    const lead = await createLead(app, org, { agentId: agent._id });
    app.clock.advance(5 * MINUTE);
    const res = await app.request('PATCH', `/api/leads/${lead._id}`, { token: org.token, body: { followUpStep: 1 } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.followUpConfig, null, 'the lead has no cadence of its own');
    assert.equal(res.body.data.followUpStep, 1);
    assert.equal(res.body.data.nextFollowUpAt, later(7).toISOString());
    assert.deepEqual((await leadRow(app, lead._id)).next_follow_up_at, later(7));
  });

  test('Apten PATCH /apten/v1/leads/{id} {followUpStep: 1} → now + the agent step\'s 7 hours', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Agent cadence apten');
    await createAgent(org, { name: 'Seven', followUpConfig: agentCadence });
    const key = await apiKeyFor(app, org);
    const apten = (method: string, path: string, body?: unknown) => app.request(method, `/apten/v1${path}`, { body, headers: { 'x-api-key': key } });
    const created = await apten('POST', '/leads/create', { firstName: 'Ada', lastName: 'Lovelace', phone: '+14155557001', customerProfile: 'Seven' });
    assert.equal(created.status, 200, created.text);
    const id = created.body.id as string;
    app.clock.advance(5 * MINUTE);
    const patched = await apten('PATCH', `/leads/${id}`, { followUpStep: 1 });
    assert.deepEqual([patched.status, patched.body], [200, { message: 'Lead updated successfully.' }]);
    const lead = (await apten('GET', `/leads/${id}`)).body;
    assert.equal(lead.customerProfile, 'Seven');
    assert.equal(lead.followUpConfig, null);
    assert.equal(lead.followUpStep, 1);
    assert.equal(lead.nextFollowUpAt, later(7).toISOString());
  });
});

describe('PATCH followUpStep -2 (LONG_TERM)', () => {
  test("waits the organization's long_term_interval_hours (48), not the default 720", async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Long term');
    await setOrganization(app, org, { long_term_interval_hours: 48 });
    const lead = await createLead(app, org, { followUpConfig: { '1': { hours: 2, channel: 'text' } } });
    const res = await app.request('PATCH', `/api/leads/${lead._id}`, { token: org.token, body: { followUpStep: LONG_TERM } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.followUpStep, LONG_TERM);
    assert.equal(res.body.data.nextFollowUpAt, later(48).toISOString());
    // the same on the Apten surface
    const key = await apiKeyFor(app, org);
    const other = await createLead(app, org);
    app.clock.advance(MINUTE);
    const patched = await app.request('PATCH', `/apten/v1/leads/${other._id}`, { body: { followUpStep: LONG_TERM }, headers: { 'x-api-key': key } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((await app.request('GET', `/apten/v1/leads/${other._id}`, { headers: { 'x-api-key': key } })).body.nextFollowUpAt, later(48).toISOString());
  });
});

describe('replies and campaign call retries', () => {
  test('an inbound SMS reply cancels a queued call retry: the carrier gets no new call when the retry time passes', async () => {
    app.clock.set('2026-06-01T12:00:00Z'); // Monday, inside the campaign's hours
    const org = await registerOrganization(app, 'Retry canceled');
    const { lead, call } = await campaignCallSent(org);
    await callStatus(call.providerMessageId, 'no-answer');
    let messages = await messagesOf(app, org, lead._id);
    const retry = messages.find((m) => m.origin === 'call_retry');
    assert.ok(retry, 'the unanswered call queued a retry');
    assert.deepEqual([retry.status, retry.callAttempt, retry.nextAttemptAt], ['queued', 2, later(10 / 60).toISOString()]);

    app.clock.advance(2 * MINUTE);
    await inboundSms(lead.phone, 'Sorry I missed you, text me instead', 'SMcov-retry-1');
    messages = await messagesOf(app, org, lead._id);
    const afterReply = messages.find((m) => m._id === retry._id);
    assert.equal(afterReply.status, 'canceled');
    assert.equal(afterReply.nextAttemptAt, null);

    app.clock.advance(30 * MINUTE); // well past the retry's time
    await runWorker();
    assert.equal(carrierTo(lead.phone, 'Calls').length, 1, 'only the first call reached the carrier');
    assert.equal((await messagesOf(app, org, lead._id)).find((m) => m._id === retry._id).status, 'canceled');
  });

  test('a call reported unanswered after the lead replied is not retried', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Replied first');
    const { lead, call } = await campaignCallSent(org);
    app.clock.advance(MINUTE);
    await inboundSms(lead.phone, 'Who is calling?', 'SMcov-replied-1');
    assert.equal((await leadRow(app, lead._id)).has_replied, true);
    app.clock.advance(MINUTE);
    await callStatus(call.providerMessageId, 'no-answer');
    const messages = await messagesOf(app, org, lead._id);
    assert.equal(messages.find((m) => m._id === call._id).status, 'no_answer', 'the callback was applied');
    assert.deepEqual(messages.filter((m) => m.origin === 'call_retry'), []);
    app.clock.advance(HOUR);
    await runWorker();
    assert.equal(carrierTo(lead.phone, 'Calls').length, 1);
  });
});

describe('stopping a lead\'s follow-ups (followUpStep -1) stops what is already pending', () => {
  const stop = async (account: Account, leadId: string) => {
    const res = await app.request('PATCH', `/api/leads/${leadId}`, { token: account.token, body: { followUpStep: -1 } });
    assert.equal(res.status, 200, res.text);
  };

  test('a queued call retry is canceled, and the carrier is not called again', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Stopped retry');
    const { lead, call } = await campaignCallSent(org);
    await callStatus(call.providerMessageId, 'no-answer');
    const retry = (await messagesOf(app, org, lead._id)).find((m) => m.origin === 'call_retry');
    assert.equal(retry?.status, 'queued');

    app.clock.advance(MINUTE);
    await stop(org, lead._id);
    const canceled = (await messagesOf(app, org, lead._id)).find((m) => m._id === retry._id);
    assert.deepEqual([canceled.status, canceled.nextAttemptAt, canceled.lastError], ['canceled', null, 'the follow-ups were stopped']);
    app.clock.advance(30 * MINUTE);
    await runWorker();
    assert.equal(carrierTo(lead.phone, 'Calls').length, 1);
  });

  test('a call reported unanswered after the stop (Apten surface) is not retried', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Stopped in flight');
    const { lead, call } = await campaignCallSent(org);
    const key = await apiKeyFor(app, org);
    const stopped = await app.request('PATCH', `/apten/v1/leads/${lead._id}`, { body: { followUpStep: -1 }, headers: { 'x-api-key': key } });
    assert.equal(stopped.status, 200, stopped.text);
    await callStatus(call.providerMessageId, 'no-answer');
    assert.deepEqual((await messagesOf(app, org, lead._id)).filter((m) => m.origin === 'call_retry'), []);
    assert.notEqual((await leadRow(app, lead._id)).status, 'reached-max-retries');
  });

  test('a follow-up text waiting out a delivery backoff is canceled; a manual message is not', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Stopped backoff');
    const lead = await createLead(app, org, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 5, channel: 'text' } } });
    const manual = await app.request('POST', `/api/leads/${lead._id}/messages`, { token: org.token, body: { content: 'See you at three', scheduledTime: '2026-06-01T15:00:00Z' } });
    assert.equal(manual.status, 201, manual.text);
    await scheduleLead(app, lead._id, 1, now());
    twilio.failNext(1, 503);
    await runWorker();
    const touch = (await messagesOf(app, org, lead._id)).find((m) => m.origin === 'follow_up');
    assert.equal(touch.status, 'failed', 'the carrier refused it once: it waits to be tried again');

    await stop(org, lead._id);
    const messages = await messagesOf(app, org, lead._id);
    assert.equal(messages.find((m) => m._id === touch._id).status, 'canceled');
    assert.equal(messages.find((m) => m._id === manual.body.data._id).status, 'queued');
    app.clock.set('2026-06-01T15:00:00Z');
    await runWorker();
    assert.deepEqual(carrierTo(lead.phone, 'Messages').map((c) => c.params.Body), ['See you at three']);
  });

  test('a lead that replied and was put back into its cadence has its unanswered calls retried again', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Restarted after reply');
    const { lead } = await campaignCallSent(org);
    app.clock.advance(MINUTE);
    await inboundSms(lead.phone, 'Call me next week', 'SMcov-restart-1');
    const restarted = await app.request('PATCH', `/api/leads/${lead._id}`, { token: org.token, body: { followUpStep: 1 } });
    assert.equal(restarted.status, 200, restarted.text);
    app.clock.set(restarted.body.data.nextFollowUpAt);
    await runWorker();
    const second = (await messagesOf(app, org, lead._id)).filter((m) => m.channel === 'call' && m.origin === 'follow_up').at(-1);
    assert.equal(carrierTo(lead.phone, 'Calls').length, 2);
    await callStatus(second.providerMessageId, 'no-answer');
    const retry = (await messagesOf(app, org, lead._id)).find((m) => m.origin === 'call_retry');
    assert.deepEqual([retry?.status, retry?.callAttempt], ['queued', 2]);
  });
});

describe('a queued manual message whose lead is opted out or deleted through the API', () => {
  const scheduleManual = async (account: Account, leadId: string) => {
    const res = await app.request('POST', `/api/leads/${leadId}/messages`, { token: account.token, body: { content: 'See you at three', scheduledTime: '2026-06-01T15:00:00Z' } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual([res.body.data.status, res.body.data.nextAttemptAt], ['queued', '2026-06-01T15:00:00.000Z']);
    return res.body.data as { _id: string };
  };

  test('PATCH optedOut: true → the message ends canceled and the carrier is never called', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Opt out by API');
    const lead = await createLead(app, org);
    const message = await scheduleManual(org, lead._id);
    const patched = await app.request('PATCH', `/api/leads/${lead._id}`, { token: org.token, body: { optedOut: true } });
    assert.equal(patched.status, 200, patched.text);
    app.clock.set('2026-06-01T15:30:00Z');
    await runWorker();
    const [after] = await messagesOf(app, org, lead._id);
    assert.equal(after._id, message._id);
    assert.equal(after.status, 'canceled');
    assert.equal(after.sentAt, null);
    assert.equal(carrierTo(lead.phone).length, 0);
  });

  test('DELETE → the message ends canceled and the carrier is never called', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Deleted by API');
    const lead = await createLead(app, org);
    const message = await scheduleManual(org, lead._id);
    assert.equal((await app.request('DELETE', `/api/leads/${lead._id}`, { token: org.token })).status, 200);
    app.clock.set('2026-06-01T15:30:00Z');
    await runWorker();
    // the lead's own listing is gone with it; the organization's outbox still lists the message
    const canceled = await app.request('GET', '/api/messages?status=canceled', { token: org.token });
    assert.equal(canceled.status, 200, canceled.text);
    assert.deepEqual(canceled.body.data.map((m: { _id: string }) => m._id), [message._id]);
    assert.equal(carrierTo(lead.phone).length, 0);
  });
});

describe("the dispatcher honours a campaign's allowed days", () => {
  test('a campaign lead due on a Saturday the campaign does not allow waits for Monday\'s opening; nothing reaches the carrier', async () => {
    app.clock.set('2026-06-06T17:00:00Z'); // Saturday 12:00 in Chicago; the organization's own window (UTC, Mon–Sat 09–20) is open
    const org = await registerOrganization(app, 'Weekdays only');
    const campaign = await createCampaign(org, { name: 'Weekdays', timezone: 'America/Chicago', allowedHours: { start: '10:00', end: '16:00' }, allowedDays: [1, 2, 3, 4, 5] });
    const lead = await createLead(app, org, { campaignId: campaign._id, followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 24, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    const opening = new Date('2026-06-08T15:00:00Z'); // Monday 10:00 CDT
    const state = await leadRow(app, lead._id);
    assert.equal(state.follow_up_step, 1);
    assert.deepEqual(state.next_follow_up_at, opening);
    assert.deepEqual(state.follow_up_deferred_until, opening);
    assert.equal((await app.request('GET', `/api/leads/${lead._id}`, { token: org.token })).body.data.nextFollowUpAt, opening.toISOString());
    assert.deepEqual(await messagesOf(app, org, lead._id), []);
    assert.equal(carrierTo(lead.phone).length, 0);
  });
});

describe('"auto" strategy choice counts use on this lead only', () => {
  test("another lead's heavy use of A does not stop this lead getting A first, then B, then C", async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Per lead strategies');
    const ids: string[] = [];
    for (const name of ['A', 'B', 'C']) {
      const res = await app.request('POST', '/api/strategies', { token: org.token, body: { name, instructions: `Strategy ${name}` } });
      assert.equal(res.status, 201, res.text);
      ids.push(res.body.data._id);
      app.clock.advance(1000); // distinct creation times: creation order is the tie-break
    }
    const [a, b, c] = ids;
    const onlyA = { hours: 1, channel: 'text', strategyIds: [a] };
    const heavy = await createLead(app, org, { useStrategiesForFollowUps: true, followUpConfig: { '1': onlyA, '2': onlyA, '3': onlyA } });
    await scheduleLead(app, heavy._id, 1, now());
    for (let i = 0; i < 3; i++) {
      await runWorker();
      app.clock.advance(HOUR);
    }
    assert.deepEqual((await messagesOf(app, org, heavy._id)).map((m) => m.strategyId), [a, a, a]);

    const auto = { hours: 1, channel: 'text', strategyIds: 'auto' };
    const lead = await createLead(app, org, { useStrategiesForFollowUps: true, followUpConfig: { '1': auto, '2': auto, '3': auto } });
    await scheduleLead(app, lead._id, 1, now());
    for (let i = 0; i < 3; i++) {
      await runWorker();
      app.clock.advance(HOUR);
    }
    const sent = await messagesOf(app, org, lead._id);
    assert.deepEqual(sent.map((m) => m.strategyId), [a, b, c]);
    assert.ok(sent.every((m) => m.status === 'sent'));
  });
});

describe('sending windows and templates through the worker', () => {
  test('a touch due at exactly 20:00:00 local is deferred (the end is exclusive); one due at 19:59:59 fires', async () => {
    app.clock.set('2026-06-01T23:59:59Z'); // Monday 19:59:59 EDT
    const org = await registerOrganization(app, 'Closing time');
    await setOrganization(app, org, { timezone: 'America/New_York' });
    const config = { '1': { hours: 1, channel: 'text' }, '2': { hours: 24, channel: 'text' } };
    const early = await createLead(app, org, { followUpConfig: config });
    await scheduleLead(app, early._id, 1, now());
    await runWorker();
    assert.equal((await messagesOf(app, org, early._id)).length, 1, 'inside the window, one second before it closes');

    app.clock.set('2026-06-02T00:00:00Z'); // Monday 20:00:00 EDT
    const closing = await createLead(app, org, { followUpConfig: config });
    await scheduleLead(app, closing._id, 1, now());
    await runWorker();
    assert.deepEqual(await messagesOf(app, org, closing._id), []);
    const state = await leadRow(app, closing._id);
    const opening = new Date('2026-06-02T13:00:00Z'); // Tuesday 09:00 EDT
    assert.deepEqual(state.next_follow_up_at, opening);
    assert.deepEqual(state.follow_up_deferred_until, opening);
    assert.equal(carrierTo(closing.phone).length, 0);
  });

  test('deferrals across the autumn DST change land on the next opening at the right UTC instant, and fire there', async () => {
    // New York falls back on Sunday 2026-11-01 (EDT → EST); Paris on Sunday 2026-10-25 (CEST → CET)
    app.clock.set('2026-11-01T01:00:00Z'); // Saturday 2026-10-31 21:00 EDT
    const org = await registerOrganization(app, 'Autumn');
    await setOrganization(app, org, { timezone: 'America/New_York' });
    const everyDay = await createAgent(org, { name: 'Every day', businessHours: { timezone: 'America/New_York', start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6, 7] } });
    const config = { '1': { hours: 1, channel: 'text' }, '2': { hours: 24, channel: 'text' } };
    const weekdays = await createLead(app, org, { followUpConfig: config });
    const sundays = await createLead(app, org, { agentId: everyDay._id, followUpConfig: config });
    for (const lead of [weekdays, sundays]) await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    const monday = new Date('2026-11-02T14:00:00Z'); // Monday 09:00 EST
    const sunday = new Date('2026-11-01T14:00:00Z'); // Sunday 09:00 EST, on the day of the change
    assert.deepEqual((await leadRow(app, weekdays._id)).next_follow_up_at, monday);
    assert.deepEqual((await leadRow(app, sundays._id)).next_follow_up_at, sunday);

    app.clock.set(new Date(sunday.getTime() - 1000));
    await runWorker();
    assert.equal((await messagesOf(app, org, sundays._id)).length, 0, 'not before 09:00 EST');
    app.clock.set(sunday);
    await runWorker();
    assert.equal((await messagesOf(app, org, sundays._id)).length, 1);
    app.clock.set(monday);
    await runWorker();
    assert.equal((await messagesOf(app, org, weekdays._id)).length, 1);

    app.clock.set('2026-10-24T19:00:00Z'); // Saturday 21:00 CEST
    const paris = await registerOrganization(app, 'Paris autumn');
    const parisLead = await createLead(app, paris, { timezone: 'Europe/Paris', followUpConfig: config });
    await scheduleLead(app, parisLead._id, 1, now());
    await runWorker();
    const parisMonday = new Date('2026-10-26T08:00:00Z'); // Monday 09:00 CET
    assert.deepEqual((await leadRow(app, parisLead._id)).next_follow_up_at, parisMonday);
    assert.deepEqual((await leadRow(app, parisLead._id)).follow_up_deferred_until, parisMonday);
  });

  test('{{name}} renders in a step template: the name given, else first and last name', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Names');
    const config = { '1': { hours: 1, channel: 'text', template: 'Hello {{name}}, about {{company}}?' } };
    const derived = await createLead(app, org, { firstName: 'Ada', lastName: 'Lovelace', additionalInfo: { company: 'Engines' }, followUpConfig: config });
    const named = await createLead(app, org, { firstName: 'Ada', lastName: 'Lovelace', name: 'The Countess', additionalInfo: { company: 'Engines' }, followUpConfig: config });
    for (const lead of [derived, named]) await scheduleLead(app, lead._id, 1, now());
    await runWorker();
    const [first] = await messagesOf(app, org, derived._id);
    assert.equal(first.content, 'Hello Ada Lovelace, about Engines?');
    assert.equal(carrierTo(derived.phone)[0].params.Body, 'Hello Ada Lovelace, about Engines?');
    const [second] = await messagesOf(app, org, named._id);
    assert.equal(second.content, 'Hello The Countess, about Engines?');
  });

  test('a message dead after its last failed attempt is listed by GET /api/messages?status=dead and on its lead, with attempts and last error', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const org = await registerOrganization(app, 'Dead letters');
    const lead = await createLead(app, org, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, now());
    twilio.failNext(MAX_DELIVERY_ATTEMPTS, 503);
    await runWorker(); // attempt 1, inline
    for (let i = 1; i < MAX_DELIVERY_ATTEMPTS; i++) {
      const [pending] = await messagesOf(app, org, lead._id);
      assert.deepEqual([pending.status, pending.attempts], ['failed', i]);
      app.clock.set(pending.nextAttemptAt);
      await runWorker();
    }
    const [message, ...others] = await messagesOf(app, org, lead._id);
    assert.equal(others.length, 0);
    assert.equal(message.status, 'dead');
    assert.equal(message.attempts, MAX_DELIVERY_ATTEMPTS);
    assert.equal(message.nextAttemptAt, null);
    assert.match(message.lastError, /503/);
    const dead = await app.request('GET', '/api/messages?status=dead', { token: org.token });
    assert.equal(dead.status, 200, dead.text);
    assert.equal(dead.body.data.length, 1);
    const [listed] = dead.body.data;
    assert.deepEqual([listed._id, listed.status, listed.attempts, listed.lastError], [message._id, 'dead', MAX_DELIVERY_ATTEMPTS, message.lastError]);
    assert.equal(carrierTo(lead.phone).length, 0);
    app.clock.advance(24 * HOUR);
    await runWorker();
    assert.equal((await messagesOf(app, org, lead._id))[0].attempts, MAX_DELIVERY_ATTEMPTS, 'a dead message is not tried again');
  });
});

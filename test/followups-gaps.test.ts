import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deliverOnce, releaseChannels } from '../src/worker/delivery.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { createLead, messagesOf } from './support/followups.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

// Rules of the follow-up engine (issue 6) that an audit could break without any other test
// noticing: each test here fails under one of those mutations and passes on the real code.

const HOUR = 3_600_000;
const ALL_WEEK = [1, 2, 3, 4, 5, 6, 7];

let app: TestApp;
let twilio: FakeTwilio;
let smtp: SmtpSink;
let acme: Account;
let aptenKey: string;
let mailerId: string;
let callerId: string;

before(async () => {
  twilio = await startFakeTwilio();
  smtp = await startSmtpSink();
  app = await startApp({
    smtpUrl: smtp.url,
    smtpFrom: 'Acme <sales@acme.test>',
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, baseUrl: twilio.baseUrl },
  });
  // the carrier must call back the address it was given; only known once the app listens
  app.ctx.config.publicUrl = app.url;
  acme = await registerOrganization(app, 'Acme');
  aptenKey = await apiKeyFor(app, acme);
  mailerId = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Mailer', emailEnabled: true } })).body.data._id;
  callerId = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Caller', voiceEnabled: true } })).body.data._id;
});
after(async () => {
  await releaseChannels(app.ctx);
  await app.close();
  await twilio.close();
  await smtp.close();
});

/** As the worker role runs: dispatch delivers its own touches, delivery loops the rest of the outbox. */
async function runWorker(): Promise<void> {
  while ((await runDispatcherOnce(app.ctx, { deliverInline: true })) > 0);
  while ((await deliverOnce(app.ctx)) > 0);
}

const getLead = async (id: string) => {
  const res = await app.request('GET', `/api/leads/${id}`, { token: acme.token });
  assert.equal(res.status, 200, res.text);
  return res.body.data;
};

const listed = async (status: string): Promise<string[]> => {
  const res = await app.request('GET', `/api/messages?status=${status}&limit=200`, { token: acme.token });
  assert.equal(res.status, 200, res.text);
  return res.body.data.map((m: { _id: string }) => m._id);
};

const at = (iso: string) => new Date(iso).toISOString();
const fromNow = (ms: number) => new Date(app.clock.now().getTime() + ms).toISOString();
const hoursFromNow = (hours: number) => fromNow(hours * HOUR);

const carrierPost = (path: string, params: Record<string, string>) => {
  const signed = twilio.signed(app.url + path, params);
  return app.request('POST', path, { raw: signed.raw, headers: signed.headers });
};

describe('email delivery: attempts, backoff and the dead state through a refusing SMTP server', () => {
  test('a temporary 4xx leaves the email failed with exponential backoff; a permanent 5xx makes it dead at once, never tried again', async () => {
    app.clock.set('2026-06-01T12:00:00Z'); // Monday, inside the default 09:00–20:00 window
    const lead = await createLead(app, acme, { agentId: mailerId, email: 'bounce@example.com', followUpConfig: { '1': { hours: 1, channel: 'email' } } });
    app.clock.set('2026-06-01T13:00:00Z');
    const mailed = smtp.received.length;

    smtp.refuseNext(452, 'Mailbox full, try again later');
    await runWorker();
    let [message] = await messagesOf(app, acme, lead._id);
    // a refusal reported as a send would lose the email silently: it must stay in the outbox
    assert.deepEqual([message.channel, message.status, message.attempts], ['email', 'failed', 1]);
    assert.equal(message.nextAttemptAt, fromNow(30_000));
    assert.match(message.lastError, /452/);
    assert.ok((await listed('failed')).includes(message._id), 'listed as failed for an operator to see');

    // the backoff doubles: the second temporary refusal waits twice as long
    app.clock.advance(30_000);
    smtp.refuseNext(452, 'Mailbox full, try again later');
    await runWorker();
    [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts], ['failed', 2]);
    assert.equal(message.nextAttemptAt, fromNow(60_000));

    // a mailbox that does not exist will not exist on the next attempt either: retrying only
    // hammers the server, so the message is dead after this one attempt
    app.clock.advance(60_000);
    smtp.refuseNext(550, 'No such user here');
    await runWorker();
    [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts, message.nextAttemptAt], ['dead', 3, null]);
    assert.match(message.lastError, /550/);
    assert.ok(!(await listed('failed')).includes(message._id));
    assert.ok((await listed('dead')).includes(message._id));

    const tried = smtp.recipientsTried();
    app.clock.advance(6 * HOUR);
    await runWorker();
    assert.equal(smtp.recipientsTried(), tried, 'a dead message is never attempted again');
    assert.equal(smtp.received.length, mailed);
  });

  test('after a temporary refusal the retry delivers the email once, under the same Message-ID', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { agentId: mailerId, email: 'later@example.com', followUpConfig: { '1': { hours: 1, channel: 'email', template: 'Hello {{firstName}}' } } });
    app.clock.set('2026-06-01T13:00:00Z');
    const mailed = smtp.received.length;
    smtp.refuseNext(451, 'Greylisted, please try again later');
    await runWorker();
    let [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts], ['failed', 1]);
    assert.equal(smtp.received.length, mailed);

    app.clock.advance(30_000);
    await runWorker();
    [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts, message.nextAttemptAt], ['sent', 2, null]);
    assert.equal(smtp.received.length, mailed + 1);
    assert.equal(smtp.received.at(-1)!.messageId, `<${message.idempotencyKey}@openlead>`);
  });
});

describe('a reply cancels pending follow-ups', () => {
  test('a follow-up waiting out a delivery backoff (failed) is canceled by the reply and never reaches the carrier', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 24, channel: 'text' } } });
    app.clock.set('2026-06-01T13:00:00Z');
    twilio.failNext(1, 503);
    await runWorker();
    let [touch] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([touch.status, touch.attempts], ['failed', 1]);

    // the lead answers while the touch waits for its retry: the touch was written for a lead
    // that had not answered, so it must not go out now
    app.clock.advance(10_000);
    const reply = await carrierPost('/api/webhook/twilio/sms', { From: lead.phone, To: twilio.from, Body: 'Already bought one, thanks', MessageSid: 'SMgapsreply1', AccountSid: twilio.accountSid });
    assert.equal(reply.status, 200);
    [touch] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([touch.status, touch.nextAttemptAt, touch.lastError], ['canceled', null, 'the lead replied']);
    assert.ok(!(await listed('failed')).includes(touch._id));

    app.clock.advance(HOUR);
    await runWorker();
    assert.deepEqual(twilio.created.filter((c) => c.params.To === lead.phone), [], 'nothing reaches the lead after its reply');
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'canceled');
  });
});

describe('carrier status callbacks never rewind a message', () => {
  test('a delivered text stays delivered whatever late callback follows (sent, queued, undelivered, failed)', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    app.clock.set('2026-06-01T13:00:00Z');
    await runWorker();
    const [sent] = await messagesOf(app, acme, lead._id);
    assert.equal(sent.status, 'sent');
    const status = (MessageStatus: string) => carrierPost('/api/webhook/twilio/status', { MessageSid: sent.providerMessageId, MessageStatus, AccountSid: twilio.accountSid });

    assert.equal((await status('delivered')).status, 204);
    const deliveredAt = app.clock.now().toISOString();
    // carriers do not promise order: earlier states can arrive after the final one
    for (const late of ['sent', 'queued', 'undelivered', 'failed']) {
      app.clock.advance(60_000);
      assert.equal((await status(late)).status, 204, late);
      const [message] = await messagesOf(app, acme, lead._id);
      assert.deepEqual([message.status, message.deliveredAt], ['delivered', deliveredAt], `after a late ${late}`);
    }
  });

  test('an undelivered text is not revived by a late delivered callback', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    app.clock.set('2026-06-01T13:00:00Z');
    await runWorker();
    const [sent] = await messagesOf(app, acme, lead._id);
    const status = (MessageStatus: string) => carrierPost('/api/webhook/twilio/status', { MessageSid: sent.providerMessageId, MessageStatus });
    assert.equal((await status('undelivered')).status, 204);
    assert.equal((await status('delivered')).status, 204);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.deliveredAt], ['undelivered', null]);
  });

  test('an answered campaign call is not turned into an unanswered one by a late callback, so no retry is queued', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const campaign = (await app.request('POST', '/api/campaigns', {
      token: acme.token,
      body: { name: 'Late callbacks', agentId: callerId, maxRetries: 3, retryIntervalMinutes: 10, timezone: 'UTC', allowedHours: { start: '09:00', end: '20:00' }, allowedDays: ALL_WEEK },
    })).body.data;
    const lead = await createLead(app, acme, { agentId: callerId, campaignId: campaign._id, followUpConfig: { '1': { hours: 1, channel: 'call' } } });
    app.clock.set('2026-06-01T13:00:00Z');
    await runWorker();
    const [call] = await messagesOf(app, acme, lead._id);
    assert.equal(call.status, 'sent');
    const callStatus = (CallStatus: string) => carrierPost('/api/webhook/twilio/status', { CallSid: call.providerMessageId, CallStatus, AccountSid: twilio.accountSid });
    assert.equal((await callStatus('completed')).status, 204);
    // a "no-answer" arriving after "completed" would otherwise schedule a pointless call
    assert.equal((await callStatus('no-answer')).status, 204);
    const messages = await messagesOf(app, acme, lead._id);
    assert.deepEqual(messages.map((m) => [m.origin, m.status]), [['follow_up', 'delivered']]);
    assert.notEqual((await getLead(lead._id)).status, 'reached-max-retries');
  });
});

describe('a new schedule clears the business-hours deferral', () => {
  /** A lead whose step 1 fell due at 04:00 UTC Monday and was deferred to the 09:00 opening. */
  async function deferredLead(): Promise<string> {
    app.clock.set('2026-06-01T03:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 2, channel: 'text' } } });
    app.clock.set('2026-06-01T04:00:00Z');
    await runWorker();
    const deferred = await getLead(lead._id);
    assert.deepEqual([deferred.followUpStep, deferred.nextFollowUpAt, deferred.followUpDeferredUntil], [1, at('2026-06-01T09:00:00Z'), at('2026-06-01T09:00:00Z')]);
    assert.equal((await messagesOf(app, acme, lead._id)).length, 0);
    app.clock.set('2026-06-01T05:00:00Z');
    return lead._id;
  }

  // the deferral described the old timer; left on the lead it claims a wait that no longer
  // applies to the new one
  const patches: [string, Record<string, unknown>, number, number][] = [
    ['followUpStep only', { followUpStep: 2 }, 2, 2],
    ['followUpConfig only', { followUpConfig: { '1': { hours: 3, channel: 'text' }, '2': { hours: 2, channel: 'text' } } }, 1, 3],
    ['both', { followUpStep: 1, followUpConfig: { '1': { hours: 5, channel: 'text' } } }, 1, 5],
  ];

  for (const [label, body, step, hours] of patches) {
    test(`native PATCH /api/leads/{id} with ${label}`, async () => {
      const id = await deferredLead();
      const res = await app.request('PATCH', `/api/leads/${id}`, { token: acme.token, body });
      assert.equal(res.status, 200, res.text);
      const lead = await getLead(id);
      assert.deepEqual([lead.followUpStep, lead.nextFollowUpAt, lead.followUpDeferredUntil], [step, hoursFromNow(hours), null]);
    });

    test(`Apten PATCH /apten/v1/leads/{id} with ${label}`, async () => {
      const id = await deferredLead();
      const res = await app.request('PATCH', `/apten/v1/leads/${id}`, { body, headers: { 'x-api-key': aptenKey } });
      assert.equal(res.status, 200, res.text);
      const lead = await getLead(id);
      assert.deepEqual([lead.followUpStep, lead.nextFollowUpAt, lead.followUpDeferredUntil], [step, hoursFromNow(hours), null]);
    });
  }
});

describe("the agent's sending window wins over the organization's", () => {
  // the organization keeps its default 09:00–20:00 UTC window, Monday to Saturday

  test('an agent opening later (13:00) than the organization holds a touch due at 10:00 until 13:00', async () => {
    const agent = await app.request('POST', '/api/agents', {
      token: acme.token,
      body: { name: 'Afternoons', businessHours: { timezone: 'UTC', start: '13:00', end: '20:00', days: ALL_WEEK } },
    });
    assert.equal(agent.status, 201, agent.text);
    app.clock.set('2026-06-01T09:00:00Z');
    const lead = await createLead(app, acme, { agentId: agent.body.data._id, followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    app.clock.set('2026-06-01T10:00:00Z');
    await runWorker();
    assert.deepEqual(await messagesOf(app, acme, lead._id), [], "inside the organization's window but not the agent's");
    assert.deepEqual(twilio.created.filter((c) => c.params.To === lead.phone), []);
    assert.equal((await getLead(lead._id)).followUpDeferredUntil, at('2026-06-01T13:00:00Z'));

    app.clock.set('2026-06-01T13:00:00Z');
    await runWorker();
    const [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.status, 'sent');
    assert.equal(message.sentAt, at('2026-06-01T13:00:00Z'));
  });

  test('an agent opening earlier (06:00) than the organization sends a touch due at 07:00 at once', async () => {
    const agent = await app.request('POST', '/api/agents', {
      token: acme.token,
      body: { name: 'Early birds', businessHours: { timezone: 'UTC', start: '06:00', end: '12:00', days: ALL_WEEK } },
    });
    assert.equal(agent.status, 201, agent.text);
    app.clock.set('2026-06-01T06:00:00Z');
    const lead = await createLead(app, acme, { agentId: agent.body.data._id, followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    app.clock.set('2026-06-01T07:00:00Z');
    await runWorker();
    const [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message?.status, 'sent', "outside the organization's window but inside the agent's");
    assert.equal((await getLead(lead._id)).followUpDeferredUntil, null);
  });
});

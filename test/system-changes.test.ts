import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { startInboundSmtp, type InboundSmtp } from '../src/modules/inbound/smtp.ts';
import { deliverOnce, releaseChannels } from '../src/worker/delivery.ts';
import { COMPOSE_LEASE_MS, runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { createLead, messagesOf } from './support/followups.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

// Changes the system makes to a lead (replies, the dispatcher's schedule, carrier outcomes)
// are in the lead's event log like a client's PATCH, and a reply moves the heat score.

const HOUR = 3_600_000;
const MINUTE = 60_000;
const REPLY_DOMAIN = 'reply.acme.test';
let app: TestApp;
let twilio: FakeTwilio;
let outbound: SmtpSink;
let inbound: InboundSmtp;
let acme: Account;
let emailAgentId: string;
let callAgentId: string;

before(async () => {
  twilio = await startFakeTwilio();
  outbound = await startSmtpSink();
  app = await startApp({
    smtpUrl: outbound.url,
    smtpFrom: 'Acme <sales@acme.test>',
    replyEmailDomain: REPLY_DOMAIN,
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, baseUrl: twilio.baseUrl },
  });
  // carrier webhooks are signed for the address the carrier was given
  app.ctx.config.publicUrl = app.url;
  inbound = await startInboundSmtp(app.ctx, { host: '127.0.0.1', port: 0 });
  acme = await registerOrganization(app, 'Acme');
  const agent = (body: Record<string, unknown>) => app.request('POST', '/api/agents', { token: acme.token, body }).then((res) => res.body.data._id as string);
  emailAgentId = await agent({ name: 'Mailer', emailEnabled: true });
  callAgentId = await agent({ name: 'Caller', voiceEnabled: true });
});
after(async () => {
  await releaseChannels(app.ctx);
  await inbound.stop();
  await app.close();
  await twilio.close();
  await outbound.close();
});

const getLead = async (id: string) => (await app.request('GET', `/api/leads/${id}`, { token: acme.token })).body.data;

async function eventsOf(id: string): Promise<any[]> {
  const res = await app.request('GET', `/api/leads/${id}/events`, { token: acme.token });
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

/** The one event written since `seen` events, checked to be the system's, now. */
async function systemChange(id: string, seen: number): Promise<Record<string, unknown>> {
  const events = await eventsOf(id);
  assert.equal(events.length, seen + 1, `one new event: ${JSON.stringify(events.slice(seen))}`);
  const event = events[seen];
  assert.deepEqual(
    { kind: event.kind, actor: event.actor, actorUserId: event.actorUserId, at: event.at },
    { kind: 'updated', actor: 'system', actorUserId: null, at: app.clock.now().toISOString() },
  );
  return event.changes;
}

const carrierPost = (path: string, params: Record<string, string>) => {
  const signed = twilio.signed(app.url + path, { ...params, AccountSid: twilio.accountSid });
  return app.request('POST', path, { raw: signed.raw, headers: signed.headers });
};

async function runWorker(): Promise<void> {
  while ((await runDispatcherOnce(app.ctx, { deliverInline: true })) > 0);
  while ((await deliverOnce(app.ctx)) > 0);
}

const TEXT_CADENCE = { '1': { hours: 1, channel: 'text' }, '2': { hours: 24, channel: 'text' } };

describe('a reply', () => {
  test('by SMS: the heat is recomputed (10 for the reply, 25 for recency, 5 for the second of six stages) and the change is an event', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { stageId: 'Contacted', followUpConfig: TEXT_CADENCE });
    const was = await getLead(lead._id);
    assert.deepEqual([was.hotScore, was.hotLabel, was.followUpStep, was.nextFollowUpAt], [5, 'cold', 1, '2026-06-01T13:00:00.000Z']);
    const seen = (await eventsOf(lead._id)).length;

    app.clock.advance(10 * MINUTE);
    assert.equal((await carrierPost('/api/webhook/twilio/sms', { From: lead.phone, To: twilio.from, Body: 'Sounds good', MessageSid: 'SMheat1' })).status, 200);
    const now = app.clock.now().toISOString();
    const replied = await getLead(lead._id);
    assert.deepEqual([replied.hotScore, replied.hotLabel, replied.lastActivityDate, replied.version], [40, 'warm', now, was.version + 1]);
    assert.deepEqual(await systemChange(lead._id, seen), {
      hasReplied: { from: false, to: true },
      followUpStep: { from: 1, to: -1 },
      nextFollowUpAt: { from: '2026-06-01T13:00:00.000Z', to: null },
      lastActivityDate: { from: was.lastActivityDate, to: now },
      hotScore: { from: 5, to: 40 },
      hotLabel: { from: 'cold', to: 'warm' },
    });
    await app.ctx.background.drain();
  });

  test('by SMS, an opt-out keyword: opting out is in the same event', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: TEXT_CADENCE });
    const seen = (await eventsOf(lead._id)).length;
    await carrierPost('/api/webhook/twilio/sms', { From: lead.phone, To: twilio.from, Body: 'STOP', MessageSid: 'SMheat2' });
    const changes = await systemChange(lead._id, seen);
    assert.deepEqual(changes.optedOut, { from: false, to: true });
    assert.deepEqual(changes.hasReplied, { from: false, to: true });
    assert.deepEqual(changes.hotScore, { from: 0, to: 35 });
  });

  test('by SMS, while a touch waits for the sending window: the wait ends in the same event', async () => {
    app.clock.set('2026-06-01T19:30:00Z');
    const lead = await createLead(app, acme, { followUpConfig: TEXT_CADENCE });
    app.clock.set('2026-06-01T20:30:00Z');
    await runDispatcherOnce(app.ctx);
    assert.equal((await getLead(lead._id)).followUpDeferredUntil, '2026-06-02T09:00:00.000Z');
    const seen = (await eventsOf(lead._id)).length;
    await carrierPost('/api/webhook/twilio/sms', { From: lead.phone, To: twilio.from, Body: 'Call me tomorrow', MessageSid: 'SMheat3' });
    const changes = await systemChange(lead._id, seen);
    assert.deepEqual(changes.followUpDeferredUntil, { from: '2026-06-02T09:00:00.000Z', to: null });
    assert.deepEqual(changes.nextFollowUpAt, { from: '2026-06-02T09:00:00.000Z', to: null });
    assert.equal((await getLead(lead._id)).followUpDeferredUntil, null);
    await app.ctx.background.drain();
  });

  test('by email: the heat is recomputed (10 + 25 + 10 for the third of six stages) and the change is an event', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const email = 'heat@example.com';
    const lead = await createLead(app, acme, {
      email,
      agentId: emailAgentId,
      stageId: 'Engaged',
      followUpConfig: { '1': { hours: 1, channel: 'email' }, '2': { hours: 24, channel: 'email' } },
    });
    app.clock.set('2026-06-01T13:00:00Z');
    await runWorker();
    const mail = outbound.received.find((m) => m.to && !Array.isArray(m.to) && m.to.value[0].address === email);
    const replyTo = mail?.replyTo?.value[0].address;
    assert.ok(replyTo, 'the first step went out by email, with a reply address');
    const was = await getLead(lead._id);
    assert.deepEqual([was.hotScore, was.hotLabel, was.followUpStep], [10, 'cold', 2]);
    const seen = (await eventsOf(lead._id)).length;

    app.clock.advance(MINUTE);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: email, to: replyTo, subject: 'Re', text: 'Yes, tell me more.', messageId: '<heat@client.example.com>' });
    const now = app.clock.now().toISOString();
    const replied = await getLead(lead._id);
    assert.deepEqual([replied.hotScore, replied.hotLabel], [45, 'warm']);
    assert.deepEqual(await systemChange(lead._id, seen), {
      hasReplied: { from: false, to: true },
      followUpStep: { from: 2, to: -1 },
      nextFollowUpAt: { from: '2026-06-02T13:00:00.000Z', to: null },
      lastActivityDate: { from: was.lastActivityDate, to: now },
      hotScore: { from: 10, to: 45 },
      hotLabel: { from: 'cold', to: 'warm' },
    });
    await app.ctx.background.drain();
  });
});

describe('the dispatcher', () => {
  test('a touch that fires: step and timer, old and new, in one event', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: TEXT_CADENCE });
    const seen = (await eventsOf(lead._id)).length;
    app.clock.set('2026-06-01T13:00:00Z');
    await runDispatcherOnce(app.ctx);
    assert.equal((await messagesOf(app, acme, lead._id)).length, 1, 'the touch fired');
    assert.deepEqual(await systemChange(lead._id, seen), {
      followUpStep: { from: 1, to: 2 },
      nextFollowUpAt: { from: '2026-06-01T13:00:00.000Z', to: '2026-06-02T13:00:00.000Z' },
    });
  });

  test('a touch deferred to the sending window, then fired there: the deferral is an event too', async () => {
    app.clock.set('2026-06-01T19:30:00Z');
    const lead = await createLead(app, acme, { followUpConfig: TEXT_CADENCE });
    const seen = (await eventsOf(lead._id)).length;
    app.clock.set('2026-06-01T20:30:00Z'); // the window (09:00–20:00 UTC) is closed
    await runDispatcherOnce(app.ctx);
    assert.deepEqual(await systemChange(lead._id, seen), {
      nextFollowUpAt: { from: '2026-06-01T20:30:00.000Z', to: '2026-06-02T09:00:00.000Z' },
      followUpDeferredUntil: { from: null, to: '2026-06-02T09:00:00.000Z' },
    });
    app.clock.set('2026-06-02T09:00:00Z');
    await runDispatcherOnce(app.ctx);
    assert.deepEqual(await systemChange(lead._id, seen + 1), {
      followUpStep: { from: 1, to: 2 },
      nextFollowUpAt: { from: '2026-06-02T09:00:00.000Z', to: '2026-06-03T09:00:00.000Z' },
      followUpDeferredUntil: { from: '2026-06-02T09:00:00.000Z', to: null },
    });
  });

  test('a touch a model writes: the lease and the next step are each an event', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: TEXT_CADENCE });
    const seen = (await eventsOf(lead._id)).length;
    app.clock.set('2026-06-01T13:00:00Z');
    const lease = new Date(app.clock.now().getTime() + COMPOSE_LEASE_MS).toISOString();
    let leased: Record<string, unknown> | undefined;
    await runDispatcherOnce(app.ctx, {
      composer: async () => {
        leased = await systemChange(lead._id, seen);
        return { content: 'Written by a model' };
      },
    });
    assert.deepEqual(leased, { nextFollowUpAt: { from: '2026-06-01T13:00:00.000Z', to: lease } });
    assert.deepEqual(await systemChange(lead._id, seen + 1), {
      followUpStep: { from: 1, to: 2 },
      nextFollowUpAt: { from: lease, to: '2026-06-02T13:00:00.000Z' },
    });
  });
});

describe('a campaign call', () => {
  test('unanswered past maxRetries: reached-max-retries is an event', async () => {
    app.clock.set('2026-06-01T12:00:00Z'); // Monday, inside the campaign's hours
    const campaign = (await app.request('POST', '/api/campaigns', {
      token: acme.token,
      body: { name: 'Dialer', agentId: callAgentId, maxRetries: 1, retryIntervalMinutes: 10, timezone: 'UTC', allowedHours: { start: '09:00', end: '20:00' }, allowedDays: [1, 2, 3, 4, 5] },
    })).body.data;
    const lead = await createLead(app, acme, { agentId: callAgentId, campaignId: campaign._id, followUpConfig: { '1': { hours: 1, channel: 'call' } } });
    app.clock.set('2026-06-01T13:00:00Z');
    await runWorker();
    const [first] = await messagesOf(app, acme, lead._id);
    assert.equal((await carrierPost('/api/webhook/twilio/status', { CallSid: first.providerMessageId, CallStatus: 'no-answer' })).status, 204);
    app.clock.advance(10 * MINUTE);
    await runWorker();
    const [, retry] = await messagesOf(app, acme, lead._id);
    assert.equal(retry.status, 'sent', 'the retry went out');
    const seen = (await eventsOf(lead._id)).length;

    app.clock.advance(HOUR);
    assert.equal((await carrierPost('/api/webhook/twilio/status', { CallSid: retry.providerMessageId, CallStatus: 'no-answer' })).status, 204);
    assert.equal((await getLead(lead._id)).status, 'reached-max-retries');
    assert.deepEqual(await systemChange(lead._id, seen), { status: { from: 'created', to: 'reached-max-retries' } });
  });
});

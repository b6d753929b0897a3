import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { smtpProvider } from '../src/modules/channels/smtp.ts';
import { claimOutbox, recordDeliveryOutcomes } from '../src/modules/messages/store.ts';
import { channelsFor, deliverOnce, DELIVERY_LEASE_MS, MAX_DELIVERY_ATTEMPTS, releaseChannels } from '../src/worker/delivery.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { createLead, leadRow, messagesOf, scheduleLead } from './support/followups.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
let app: TestApp;
let twilio: FakeTwilio;
let smtp: SmtpSink;
let acme: Account;
let emailAgentId: string;
let callAgentId: string;

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
  emailAgentId = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Mailer', emailEnabled: true } })).body.data._id;
  callAgentId = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Caller', voiceEnabled: true } })).body.data._id;
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

async function fireStep(body: Record<string, unknown>, config: Record<string, unknown>) {
  app.clock.set('2026-06-01T12:00:00Z');
  const lead = await createLead(app, acme, { ...body, followUpConfig: config });
  await scheduleLead(app, lead._id, 1, app.clock.now());
  await runWorker();
  return { lead, messages: await messagesOf(app, acme, lead._id) };
}

/**
 * A lead of a new weekday 09:00–20:00 UTC campaign (calls retried 10 minutes apart) whose
 * one-step call cadence is due now.
 */
async function dueCampaignCall(name: string, maxRetries: number) {
  const campaign = (await app.request('POST', '/api/campaigns', {
    token: acme.token,
    body: { name, agentId: callAgentId, maxRetries, retryIntervalMinutes: 10, timezone: 'UTC', allowedHours: { start: '09:00', end: '20:00' }, allowedDays: [1, 2, 3, 4, 5] },
  })).body.data;
  const lead = await createLead(app, acme, { agentId: callAgentId, campaignId: campaign._id, followUpConfig: { '1': { hours: 1, channel: 'call' } } });
  await scheduleLead(app, lead._id, 1, app.clock.now());
  return lead;
}

const carrierPost = (path: string, params: Record<string, string | string[]>, signature?: string) => {
  const signed = twilio.signed(app.url + path, params);
  if (signature !== undefined) signed.headers['x-twilio-signature'] = signature;
  return app.request('POST', path, { raw: signed.raw, headers: signed.headers });
};

describe('Twilio-compatible SMS and calls', () => {
  test('a text step goes to Messages.json with basic auth, the idempotency token and a status callback', async () => {
    const { lead, messages } = await fireStep({}, { '1': { hours: 1, channel: 'text', template: 'Hi {{firstName}}' } });
    const [message] = messages;
    assert.equal(message.status, 'sent');
    assert.equal(message.provider, 'twilio');
    const sent = twilio.created.find((c) => c.sid === message.providerMessageId)!;
    assert.equal(sent.resource, 'Messages');
    assert.deepEqual(sent.params, { To: lead.phone, From: twilio.from, Body: 'Hi Ada', StatusCallback: `${app.url}/api/webhook/twilio/status?message=${message._id}` });
    assert.equal(sent.idempotencyToken, message.idempotencyKey);
  });

  test('a signed status callback marks the message delivered; a bad or missing signature is refused with 403', async () => {
    const { lead, messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    const sid = messages[0].providerMessageId;
    const forged = await carrierPost('/api/webhook/twilio/status', { MessageSid: sid, MessageStatus: 'delivered' }, 'bm90IGEgc2lnbmF0dXJl');
    assert.equal(forged.status, 403);
    assert.equal(forged.body.success, false);
    const unsigned = await app.request('POST', '/api/webhook/twilio/status', { raw: `MessageSid=${sid}&MessageStatus=delivered`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(unsigned.status, 403);
    // a signature over other parameters does not verify these
    const replayed = twilio.signed(app.url + '/api/webhook/twilio/status', { MessageSid: sid, MessageStatus: 'sent' });
    const tampered = await app.request('POST', '/api/webhook/twilio/status', { raw: `MessageSid=${sid}&MessageStatus=delivered`, headers: replayed.headers });
    assert.equal(tampered.status, 403);
    // checked before the body is judged: an unsigned caller learns nothing of what it must hold
    for (const path of ['/api/webhook/twilio/status', '/api/webhook/twilio/sms']) {
      for (const body of [{ MessageSid: { nested: true } }, undefined]) {
        const unsignedJson = await app.request('POST', path, { body });
        assert.equal(unsignedJson.status, 403, `${path} ${JSON.stringify(body)}: ${unsignedJson.text}`);
      }
    }
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'sent');

    assert.equal((await carrierPost('/api/webhook/twilio/status', { MessageSid: sid, MessageStatus: 'delivered', AccountSid: twilio.accountSid })).status, 204);
    const [delivered] = await messagesOf(app, acme, lead._id);
    assert.equal(delivered.status, 'delivered');
    assert.equal(delivered.deliveredAt, app.clock.now().toISOString());
    // a late "sent" never rewinds it (accepted with the route's 204, so it was read and ignored, not refused)
    assert.equal((await carrierPost('/api/webhook/twilio/status', { MessageSid: sid, MessageStatus: 'sent' })).status, 204);
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'delivered');
  });

  test('a parameter sent more than once is signed with each of its values, sorted; changing, dropping or adding one is refused', async () => {
    const { lead, messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    const sid = messages[0].providerMessageId;
    const path = '/api/webhook/twilio/status';
    // as a group conversation's callback lists each MessagingBinding.Address, here out of order
    const params = { MessageSid: sid, MessageStatus: 'delivered', 'MessagingBinding.Address': ['+15550009999', '+15550001111'] };
    const genuine = twilio.signed(app.url + path, params);
    const forms = [
      `MessageSid=${sid}&MessageStatus=delivered&MessagingBinding.Address=%2B15550009999&MessagingBinding.Address=%2B15550002222`,
      `MessageSid=${sid}&MessageStatus=delivered&MessagingBinding.Address=%2B15550009999`,
      `${genuine.raw}&MessagingBinding.Address=%2B15550002222`,
    ];
    for (const raw of forms) {
      const tampered = await app.request('POST', path, { raw, headers: genuine.headers });
      assert.equal(tampered.status, 403, raw);
      assert.equal(tampered.body.success, false);
    }
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'sent');
    assert.equal((await app.request('POST', path, { raw: genuine.raw, headers: genuine.headers })).status, 204);
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'delivered');

    // a value repeated under one name: twilio-python signs it twice, twilio-node once; both are taken
    const second = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    const status = { MessageSid: second.messages[0].providerMessageId, MessageStatus: 'delivered' };
    const once = twilio.signed(app.url + path, { ...status, Digits: '1' });
    assert.equal((await app.request('POST', path, { raw: `${once.raw}&Digits=1`, headers: once.headers })).status, 204);
    assert.equal((await messagesOf(app, acme, second.lead._id))[0].status, 'delivered');
    assert.equal((await carrierPost(path, { ...status, Digits: ['1', '1'] })).status, 204);
    assert.equal((await app.request('POST', path, { raw: `${once.raw}&Digits=2`, headers: once.headers })).status, 403);
  });

  test('carrier failure is recorded as undelivered', async () => {
    const { lead, messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    await carrierPost('/api/webhook/twilio/status', { MessageSid: messages[0].providerMessageId, MessageStatus: 'undelivered', ErrorCode: '30003' });
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'undelivered');
  });

  test('a call step goes to Calls.json with TwiML, and with answering-machine detection when voicemail is enabled', async () => {
    const plain = await fireStep({ agentId: callAgentId }, { '1': { hours: 1, channel: 'call', template: 'Call me <back> & soon' } });
    const plainCall = twilio.created.find((c) => c.sid === plain.messages[0].providerMessageId)!;
    assert.equal(plainCall.resource, 'Calls');
    assert.equal(plainCall.params.Twiml, '<Response><Say>Call me &lt;back&gt; &amp; soon</Say></Response>');
    assert.equal(plainCall.params.MachineDetection, undefined);
    const voicemail = await fireStep({ agentId: callAgentId }, { '1': { hours: 1, channel: 'call', voicemailEnabled: true } });
    const voicemailCall = twilio.created.find((c) => c.sid === voicemail.messages[0].providerMessageId)!;
    assert.equal(voicemailCall.params.MachineDetection, 'DetectMessageEnd');
    assert.equal(voicemail.messages[0].voicemailEnabled, true);
  });

  test("a call or email step the lead's agent does not speak on is skipped, not sent (the organization's default cadence, or a channel given up later)", async () => {
    const org = await registerOrganization(app, 'Quiet agents');
    const defaults = await app.request('PATCH', '/api/organization', {
      token: org.token,
      body: { defaultFollowUpConfig: { '1': { hours: 1, channel: 'call' }, '2': { hours: 1, channel: 'email' }, '3': { hours: 1, channel: 'text' } } },
    });
    assert.equal(defaults.status, 200, defaults.text);
    const agent = (await app.request('POST', '/api/agents', { token: org.token, body: { name: 'Texter' } })).body.data;
    assert.deepEqual([agent.voiceEnabled, agent.emailEnabled], [false, false]);
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, org, { agentId: agent._id, email: 'quiet@example.com' });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    const created = twilio.created.length;
    const mailed = smtp.received.length;
    for (let step = 1; step <= 3; step++) {
      await runWorker();
      app.clock.advance(HOUR);
    }
    const messages = await messagesOf(app, org, lead._id);
    assert.deepEqual(messages.map((m) => [m.channel, m.status, m.lastError]), [
      ['call', 'skipped', "the lead's agent does not make calls"],
      ['email', 'skipped', "email is disabled for the lead's agent"],
      ['text', 'sent', null],
    ]);
    assert.deepEqual(twilio.created.slice(created).map((c) => c.resource), ['Messages']);
    assert.equal(smtp.received.length, mailed);
  });
});

describe('SMTP email', () => {
  test('an email step is delivered through SMTP with a subject and the idempotency key as Message-ID', async () => {
    const before = smtp.received.length;
    const { lead, messages } = await fireStep(
      { email: 'ada@example.com', agentId: emailAgentId },
      { '1': { hours: 1, channel: 'email', template: 'Dear {{firstName}}, shall we talk?' } },
    );
    assert.equal(messages[0].status, 'sent', messages[0].lastError);
    assert.equal(messages[0].provider, 'smtp');
    assert.equal(smtp.received.length, before + 1);
    const mail = smtp.received.at(-1)!;
    assert.equal(mail.subject, 'Following up');
    assert.equal(mail.text?.trim(), 'Dear Ada, shall we talk?');
    assert.equal(mail.to && !Array.isArray(mail.to) ? mail.to.text : '', 'ada@example.com');
    assert.equal(mail.messageId, `<${messages[0].idempotencyKey}@openlead>`);
    assert.ok(lead);
  });

  test('emails share pooled SMTP connections unless the URL says pool=false', async () => {
    const sink = await startSmtpSink();
    try {
      const sendThree = async (url: string) => {
        const provider = smtpProvider(url, 'Acme <sales@acme.test>');
        for (let i = 0; i < 3; i++) {
          const key = `pool-test:${url}:${i}`;
          await provider.send({ messageId: key, idempotencyKey: key, channel: 'email', to: 'ada@example.com', subject: null, content: 'Hello', voicemailEnabled: false });
        }
        await provider.close?.();
      };
      await sendThree(sink.url);
      assert.equal(sink.connections(), 1);
      await sendThree(`${sink.url}?pool=false`);
      assert.equal(sink.connections(), 4);
      assert.equal(sink.received.length, 6);
    } finally {
      await sink.close();
    }
  });

  test('a manual email carries its own subject', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { email: 'grace@example.com' });
    const res = await app.request('POST', `/api/leads/${lead._id}/messages`, { token: acme.token, body: { content: 'Body', channel: 'email', subject: 'Your quote' } });
    assert.equal(res.status, 201, res.text);
    await runWorker();
    assert.equal(smtp.received.at(-1)!.subject, 'Your quote');
  });
});

describe('delivery retries', () => {
  test('transient failures back off exponentially, are listed as failed, and succeed later with the same key', async () => {
    twilio.failNext(2, 503);
    const { lead, messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    let [message] = messages;
    assert.equal(message.status, 'failed');
    assert.equal(message.attempts, 1);
    assert.match(message.lastError, /503/);
    assert.equal(message.nextAttemptAt, new Date(app.clock.now().getTime() + 30_000).toISOString());
    const failed = await app.request('GET', '/api/messages?status=failed', { token: acme.token });
    assert.ok(failed.body.data.some((m: { _id: string }) => m._id === message._id));

    app.clock.advance(29_000);
    await runWorker();
    assert.equal((await messagesOf(app, acme, lead._id))[0].attempts, 1, 'not before its backoff');
    app.clock.advance(1_000);
    await runWorker();
    [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.attempts, 2);
    assert.equal(message.nextAttemptAt, new Date(app.clock.now().getTime() + 60_000).toISOString());
    app.clock.advance(60_000);
    await runWorker();
    [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.status, 'sent');
    assert.equal(message.attempts, 3);
    assert.equal(twilio.created.filter((c) => c.idempotencyToken === message.idempotencyKey).length, 1);
  });

  test('a retry whose backoff ends after the window closes waits for the next opening, its attempt not counted', async () => {
    app.clock.set('2026-06-01T19:59:40Z'); // Monday, 20 s before the organization's 20:00 UTC close
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    twilio.failNext(1, 503);
    await runWorker();
    let [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts, message.nextAttemptAt], ['failed', 1, '2026-06-01T20:00:10.000Z']);

    app.clock.set('2026-06-01T20:00:10Z');
    const created = twilio.created.length;
    await runWorker();
    assert.equal(twilio.created.length, created, 'nothing goes out after hours');
    [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts, message.nextAttemptAt], ['queued', 1, '2026-06-02T09:00:00.000Z']);
    assert.match(message.lastError, /503/);

    app.clock.set('2026-06-02T09:00:00Z');
    await runWorker();
    [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts], ['sent', 2]);
    assert.equal(twilio.created.filter((c) => c.idempotencyToken === message.idempotencyKey).length, 1);
  });

  test(`after ${MAX_DELIVERY_ATTEMPTS} failed attempts the message is dead`, async () => {
    twilio.failNext(MAX_DELIVERY_ATTEMPTS, 500);
    const { lead } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    for (let i = 0; i < MAX_DELIVERY_ATTEMPTS; i++) {
      app.clock.advance(HOUR);
      await runWorker();
    }
    const [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.status, 'dead');
    assert.equal(message.attempts, MAX_DELIVERY_ATTEMPTS);
    assert.equal(message.nextAttemptAt, null);
  });

  test('a request the carrier rejects (4xx) is dead at once', async () => {
    twilio.failNext(1, 400);
    const { messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    assert.equal(messages[0].status, 'dead');
    assert.equal(messages[0].attempts, 1);
  });

  test('a message re-sent after a crash reuses its key, so the carrier creates it once', async () => {
    const { lead, messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    const created = twilio.created.length;
    // as if the worker died after the carrier accepted it but before recording that
    await app.db.query(`UPDATE messages SET status = 'queued', next_attempt_at = $2 WHERE id = $1`, [messages[0]._id, app.clock.now()]);
    await runWorker();
    assert.equal(twilio.created.length, created);
    const [again] = await messagesOf(app, acme, lead._id);
    assert.equal(again.providerMessageId, messages[0].providerMessageId);
  });
});

describe('replies and opt-out', () => {
  const inbound = (from: string, body: string, sid: string) => carrierPost('/api/webhook/twilio/sms', { From: from, To: twilio.from, Body: body, MessageSid: sid, AccountSid: twilio.accountSid });

  test('a reply is recorded, stops the cadence, sets hasReplied and cancels pending follow-ups', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 2, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    await runDispatcherOnce(app.ctx); // written to the outbox, not yet delivered
    const res = await inbound(lead.phone, 'Sounds good, call me', 'SMreply1');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /xml/);
    assert.match(res.text, /<Response><\/Response>/);
    const state = await leadRow(app, lead._id);
    assert.equal(state.has_replied, true);
    assert.equal(state.follow_up_step, -1);
    assert.equal(state.next_follow_up_at, null);
    assert.equal(state.opted_out, false);
    const messages = await messagesOf(app, acme, lead._id);
    assert.deepEqual(messages.map((m) => [m.direction, m.status]), [['outbound', 'canceled'], ['inbound', 'received']]);
    assert.equal(messages[1].content, 'Sounds good, call me');
    // the carrier retrying the same webhook records nothing twice (and is answered 200, so it was read, not refused)
    assert.equal((await inbound(lead.phone, 'Sounds good, call me', 'SMreply1')).status, 200);
    assert.equal((await messagesOf(app, acme, lead._id)).length, 2);
  });

  test('a redelivered reply changes nothing: a cadence restarted since stays running, its touches stay queued', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 2, channel: 'text' } } });
    assert.equal((await inbound(lead.phone, 'Not now, maybe next week', 'SMredeliver1')).status, 200);
    assert.equal((await leadRow(app, lead._id)).follow_up_step, -1);
    // a rep restarts the cadence, and its first touch is written to the outbox
    app.clock.advance(MINUTE);
    assert.equal((await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpStep: 1 } })).status, 200);
    app.clock.advance(HOUR);
    await runDispatcherOnce(app.ctx);
    const restarted = await leadRow(app, lead._id);
    assert.equal(restarted.follow_up_step, 2);

    assert.equal((await inbound(lead.phone, 'Not now, maybe next week', 'SMredeliver1')).status, 200);
    const after = await leadRow(app, lead._id);
    assert.equal(after.follow_up_step, 2);
    assert.equal(new Date(after.next_follow_up_at).getTime(), new Date(restarted.next_follow_up_at).getTime());
    const messages = await messagesOf(app, acme, lead._id);
    assert.deepEqual(messages.map((m) => [m.direction, m.status]), [['inbound', 'received'], ['outbound', 'queued']]);
    // leave nothing due for the tests after this one
    await runWorker();
    await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpStep: -1 } });
  });

  test('isAiOn false pauses automatic sends already queued (canceled at delivery), not what a rep sends', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 2, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    await runDispatcherOnce(app.ctx); // the touch waits in the outbox
    assert.equal((await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { isAiOn: false } })).status, 200);
    const manual = await app.request('POST', `/api/leads/${lead._id}/messages`, { token: acme.token, body: { content: 'From Ada, by hand', sendWhenOff: true, overrideBusinessHours: true } });
    assert.equal(manual.status, 201, manual.text);
    const created = twilio.created.length;
    await runWorker();
    assert.deepEqual(twilio.created.slice(created).map((m) => m.params.Body), ['From Ada, by hand']);
    const [touch, sent] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([touch.origin, touch.status, touch.lastError], ['follow_up', 'canceled', "the lead's AI was turned off before delivery"]);
    assert.deepEqual([sent.origin, sent.status], ['manual', 'sent']);
  });

  test('an opt-out keyword opts the lead out: no follow-up, no manual send, nothing pending goes out', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme);
    const manual = await app.request('POST', `/api/leads/${lead._id}/messages`, { token: acme.token, body: { content: 'Later', scheduledTime: '2026-06-01T15:00:00Z' } });
    assert.equal(manual.status, 201);
    assert.equal((await inbound(lead.phone, ' Stop ', 'SMstop1')).status, 200);
    const state = await leadRow(app, lead._id);
    assert.equal(state.opted_out, true);
    assert.equal(state.follow_up_step, -1);
    // even if something schedules it again, nothing contacts it
    await scheduleLead(app, lead._id, 1, app.clock.now());
    app.clock.set('2026-06-01T16:00:00Z');
    const created = twilio.created.length;
    await runWorker();
    assert.equal(twilio.created.length, created);
    const refused = await app.request('POST', `/api/leads/${lead._id}/messages`, { token: acme.token, body: { content: 'x', sendWhenOff: true } });
    assert.equal(refused.status, 400);
    const statuses = (await messagesOf(app, acme, lead._id)).map((m) => m.status);
    assert.deepEqual(statuses, ['canceled', 'received']);
  });

  test('every opt-out keyword counts, other words do not', async () => {
    for (const [index, word] of ['STOP', 'stopall', 'Unsubscribe', 'CANCEL', 'end', 'QUIT.'].entries()) {
      const lead = await createLead(app, acme);
      await inbound(lead.phone, word, `SMkw${index}`);
      assert.equal((await leadRow(app, lead._id)).opted_out, true, word);
    }
    const lead = await createLead(app, acme);
    // answered 200: the reply was read, and the words in it are not a keyword
    assert.equal((await inbound(lead.phone, 'please stop calling at night', 'SMkwx')).status, 200);
    assert.equal((await leadRow(app, lead._id)).opted_out, false);
  });

  test('a reply on a number two organizations share belongs only to the lead last messaged there', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const globex = await registerOrganization(app, 'Globex');
    const ofAcme = await createLead(app, acme);
    const ofGlobex = await createLead(app, globex, { phone: ofAcme.phone });
    await scheduleLead(app, ofGlobex._id, 1, '2026-06-09T12:00:00Z');
    const sendNow = async (account: Account, leadId: string) => {
      const res = await app.request('POST', `/api/leads/${leadId}/messages`, { token: account.token, body: { content: 'Hello', overrideBusinessHours: true } });
      assert.equal(res.status, 201, res.text);
      while ((await deliverOnce(app.ctx)) > 0);
    };
    await sendNow(globex, ofGlobex._id);
    app.clock.advance(MINUTE);
    await sendNow(acme, ofAcme._id);
    // Globex's lead was updated last, but Acme messaged the number last
    await app.request('PATCH', `/api/leads/${ofGlobex._id}`, { token: globex.token, body: { firstName: 'Grace' } });
    app.clock.advance(MINUTE);

    await inbound(ofAcme.phone, 'Who is this?', 'SMshared1');
    await inbound(ofAcme.phone, 'STOP', 'SMshared2');
    const acmeState = await leadRow(app, ofAcme._id);
    assert.deepEqual([acmeState.has_replied, acmeState.opted_out, acmeState.follow_up_step], [true, true, -1]);
    const globexState = await leadRow(app, ofGlobex._id);
    assert.deepEqual([globexState.has_replied, globexState.opted_out, globexState.follow_up_step], [false, false, 1]);
    assert.equal(new Date(globexState.next_follow_up_at).toISOString(), '2026-06-09T12:00:00.000Z');
    assert.deepEqual((await messagesOf(app, acme, ofAcme._id)).map((m) => m.direction), ['outbound', 'inbound', 'inbound']);
    assert.deepEqual((await messagesOf(app, globex, ofGlobex._id)).map((m) => m.direction), ['outbound']);
  });

  test('a reply on a number never messaged belongs only to the most recently updated lead with it', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const globex = await registerOrganization(app, 'Globex 2');
    const ofGlobex = await createLead(app, globex);
    app.clock.advance(MINUTE);
    const ofAcme = await createLead(app, acme, { phone: ofGlobex.phone });
    await inbound(ofAcme.phone, 'Hi', 'SMunsent1');
    assert.equal((await leadRow(app, ofAcme._id)).has_replied, true);
    assert.equal((await leadRow(app, ofGlobex._id)).has_replied, false);
    assert.equal((await messagesOf(app, globex, ofGlobex._id)).length, 0);
  });

  test('inbound SMS with a bad signature changes nothing', async () => {
    const lead = await createLead(app, acme);
    const res = await carrierPost('/api/webhook/twilio/sms', { From: lead.phone, To: twilio.from, Body: 'STOP', MessageSid: 'SMforged' }, 'Zm9yZ2Vk');
    assert.equal(res.status, 403);
    assert.equal((await leadRow(app, lead._id)).opted_out, false);
  });
});

describe('delivery lease', () => {
  test('while a provider takes its time, the database serves other requests', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    await runDispatcherOnce(app.ctx);
    const release = twilio.hold();
    let delivered = false;
    const delivery = deliverOnce(app.ctx).finally(() => (delivered = true));
    try {
      // bounded wait for the claim; the carrier then holds the batch
      for (let i = 0; i < 200; i++) {
        if ((await messagesOf(app, acme, lead._id))[0].status === 'sending') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const write = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { firstName: 'Grace' } });
      assert.equal(write.status, 200, write.text);
      assert.equal(delivered, false, 'the provider call was still in flight');
      assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'sending');
    } finally {
      release();
    }
    assert.equal(await delivery, 1);
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'sent');
  });

  test('a claim whose worker died mid-send is claimed again when its lease expires and re-sent with the same key', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    await runDispatcherOnce(app.ctx);
    // a worker claims the row, the carrier accepts the message, and the worker dies before recording it
    const [claimed] = await claimOutbox(app.db, app.clock.now(), new Date(app.clock.now().getTime() + DELIVERY_LEASE_MS), 10, MAX_DELIVERY_ATTEMPTS);
    assert.equal(claimed.lead_id, lead._id);
    assert.equal(claimed.status, 'sending');
    await channelsFor(app.ctx).text.send({
      messageId: claimed.id, idempotencyKey: claimed.idempotency_key, channel: 'text', to: claimed.to_address!, subject: null, content: claimed.content, voicemailEnabled: false,
    });
    const created = twilio.created.length;

    app.clock.advance(DELIVERY_LEASE_MS - 1_000);
    assert.equal(await deliverOnce(app.ctx), 0, 'the lease still holds the row');
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'sending');

    app.clock.advance(1_000);
    assert.equal(await deliverOnce(app.ctx), 1);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.status, 'sent');
    assert.equal(message.idempotencyKey, claimed.idempotency_key);
    assert.equal(message.attempts, 2);
    assert.equal(twilio.created.length, created, 'the carrier deduped the second send');
    assert.equal(twilio.created.filter((c) => c.idempotencyToken === claimed.idempotency_key).length, 1);
    // the dead claim's outcome, arriving late, changes nothing
    const late = await recordDeliveryOutcomes(app.db, [
      { id: claimed.id, claimedAttempts: claimed.attempts, status: 'failed', provider: 'twilio', providerMessageId: null, attempted: true, nextAttemptAt: app.clock.now(), lastError: 'late' },
    ], app.clock.now());
    assert.deepEqual(late, []);
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'sent');
  });
});

describe('touches the dispatching worker delivers itself', () => {
  const dueLead = async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    return lead;
  };

  test('go out in the dispatching call, as the first attempt, with nothing left for the delivery loops', async () => {
    const lead = await dueLead();
    assert.equal(await runDispatcherOnce(app.ctx, { deliverInline: true }), 1);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts, message.provider], ['sent', 1, 'twilio']);
    assert.equal(twilio.created.filter((c) => c.idempotencyToken === message.idempotencyKey).length, 1);
    assert.equal(await deliverOnce(app.ctx), 0);
  });

  test('without inline delivery they wait in the outbox, queued, for a delivery loop', async () => {
    const lead = await dueLead();
    await runDispatcherOnce(app.ctx);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts], ['queued', 0]);
    assert.equal(await deliverOnce(app.ctx), 1);
    assert.equal((await messagesOf(app, acme, lead._id))[0].status, 'sent');
  });

  test('are written under a delivery lease: if the worker stalls or dies, a delivery loop takes them over when it ends, and the carrier creates each once', async () => {
    const lead = await dueLead();
    const release = twilio.hold();
    const stalled = runDispatcherOnce(app.ctx, { deliverInline: true });
    let takeover: Promise<number> | undefined;
    try {
      // bounded wait for the batch to commit; the carrier then holds its request
      let message;
      for (let i = 0; i < 200 && message?.status !== 'sending'; i++) {
        [message] = await messagesOf(app, acme, lead._id);
        if (message?.status !== 'sending') await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual([message.status, message.attempts], ['sending', 1]);
      assert.equal(message.nextAttemptAt, new Date(app.clock.now().getTime() + DELIVERY_LEASE_MS).toISOString());
      assert.equal(await deliverOnce(app.ctx), 0, 'the lease holds the row');
      app.clock.advance(DELIVERY_LEASE_MS);
      takeover = deliverOnce(app.ctx);
      for (let i = 0; i < 200 && (await messagesOf(app, acme, lead._id))[0].attempts !== 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      release();
    }
    assert.equal(await stalled, 1);
    assert.equal(await takeover, 1);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.status, message.attempts], ['sent', 2]);
    assert.equal(twilio.created.filter((c) => c.idempotencyToken === message.idempotencyKey).length, 1);
    const timeline = (await app.request('GET', `/api/leads/${lead._id}/activities`, { token: acme.token })).body.data;
    assert.equal(timeline.filter((activity: any) => activity.metadata?.messageId === message._id).length, 1);
  });
});

describe('a message whose worker dies on every attempt', () => {
  test('is marked dead once its last lease expires, instead of being claimed forever', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await createLead(app, acme, { followUpConfig: { '1': { hours: 1, channel: 'text' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    await runDispatcherOnce(app.ctx);
    const claimUnderLease = () =>
      claimOutbox(app.db, app.clock.now(), new Date(app.clock.now().getTime() + DELIVERY_LEASE_MS), 10, MAX_DELIVERY_ATTEMPTS);
    // each claim "crashes": nothing is recorded, and the lease runs out
    for (let attempt = 1; attempt <= MAX_DELIVERY_ATTEMPTS; attempt++) {
      const claimed = (await claimUnderLease()).filter((message) => message.lead_id === lead._id);
      assert.equal(claimed.length, 1, `claim ${attempt}`);
      assert.equal(claimed[0].attempts, attempt);
      app.clock.advance(DELIVERY_LEASE_MS);
    }
    assert.deepEqual((await claimUnderLease()).filter((message) => message.lead_id === lead._id), []);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.status, 'dead');
    assert.equal(message.attempts, MAX_DELIVERY_ATTEMPTS);
    assert.match(message.lastError, /lease expired/);
  });
});

describe('the CRM timeline', () => {
  const timelineOf = async (leadId: string) => {
    const res = await app.request('GET', `/api/leads/${leadId}/activities`, { token: acme.token });
    assert.equal(res.status, 200, res.text);
    return res.body.data.filter((activity: any) => activity.type !== 'System');
  };

  test('each message that goes out is an activity on its lead: Message for text, Call for call, Email for email', async () => {
    const text = await fireStep({}, { '1': { hours: 1, channel: 'text', template: 'Hi {{firstName}}' } });
    const call = await fireStep({ agentId: callAgentId }, { '1': { hours: 1, channel: 'call' } });
    const email = await fireStep({ agentId: emailAgentId, email: 'ada@example.com' }, { '1': { hours: 1, channel: 'email' } });
    for (const [fired, type] of [[text, 'Message'], [call, 'Call'], [email, 'Email']] as const) {
      const [activity, ...others] = await timelineOf(fired.lead._id);
      assert.equal(others.length, 0);
      assert.equal(activity.type, type);
      assert.equal(activity.completed, true);
      assert.equal(activity.metadata.messageId, fired.messages[0]._id);
      assert.equal(activity.metadata.content, fired.messages[0].content);
    }
    assert.equal(text.messages[0].content, 'Hi Ada');
  });

  test('a message that is not sent leaves no activity', async () => {
    twilio.failNext(1);
    const { lead, messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    assert.equal(messages[0].status, 'failed');
    assert.deepEqual(await timelineOf(lead._id), []);
  });
});

describe('a carrier status that arrives before the send is recorded', () => {
  test('is held on the message and applied when the worker records the send', async () => {
    twilio.callBackBeforeAnswering({ MessageStatus: 'delivered' });
    const { messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    const [message] = messages;
    assert.equal(message.status, 'delivered');
    assert.equal(message.deliveredAt, message.sentAt);
    assert.ok(message.providerMessageId);
  });

  test('an early "sent" changes nothing and a later final status still applies', async () => {
    twilio.callBackBeforeAnswering({ MessageStatus: 'sent' });
    const { messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    assert.equal(messages[0].status, 'sent');
    const res = await carrierPost(`/api/webhook/twilio/status?message=${messages[0]._id}`, { MessageSid: messages[0].providerMessageId, MessageStatus: 'undelivered' });
    assert.equal(res.status, 204);
    assert.equal((await messagesOf(app, acme, messages[0].leadId))[0].status, 'undelivered');
  });

  test('an unanswered campaign call reported early is still retried', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await dueCampaignCall('Quick dialer', 1);
    twilio.callBackBeforeAnswering({ CallStatus: 'no-answer' });
    await runWorker();
    const calls = await messagesOf(app, acme, lead._id);
    assert.deepEqual(calls.map((c) => [c.status, c.origin, c.callAttempt]), [
      ['no_answer', 'follow_up', 1],
      ['queued', 'call_retry', 2],
    ]);
    assert.equal(calls[1].nextAttemptAt, new Date(app.clock.now().getTime() + 10 * MINUTE).toISOString());
  });

  test('a status for a message id that is not ours or not being sent is ignored', async () => {
    const { messages } = await fireStep({}, { '1': { hours: 1, channel: 'text' } });
    const before = messages[0];
    for (const query of ['?message=ffffffffffffffffffffffff', '?message=not-an-id', `?message=${before._id}`]) {
      const res = await carrierPost(`/api/webhook/twilio/status${query}`, { MessageSid: 'SM' + '9'.repeat(32), MessageStatus: 'delivered' });
      assert.equal(res.status, 204, query);
    }
    const [after] = await messagesOf(app, acme, before.leadId);
    assert.equal(after.status, 'sent', 'a callback whose sid is not the message\'s moves nothing');
  });
});

describe('campaign call retries', () => {
  test('an unanswered campaign call is retried retryIntervalMinutes later up to maxRetries, then the lead reached-max-retries', async () => {
    app.clock.set('2026-06-01T12:00:00Z'); // Monday, inside the campaign's hours
    const lead = await dueCampaignCall('Dialer', 2);
    await runWorker();

    const unanswered = ['no-answer', 'busy', 'no-answer'];
    for (const [attempt, callStatus] of unanswered.entries()) {
      const calls = (await messagesOf(app, acme, lead._id)).filter((m) => m.channel === 'call');
      assert.equal(calls.length, attempt + 1);
      const current = calls[attempt];
      assert.equal(current.callAttempt, attempt + 1);
      assert.equal(current.status, 'sent');
      assert.equal((await carrierPost('/api/webhook/twilio/status', { CallSid: current.providerMessageId, CallStatus: callStatus })).status, 204);
      if (attempt < 2) {
        const retry = (await messagesOf(app, acme, lead._id)).at(-1);
        assert.equal(retry.origin, 'call_retry');
        assert.equal(retry.nextAttemptAt, new Date(app.clock.now().getTime() + 10 * MINUTE).toISOString());
        app.clock.advance(10 * MINUTE);
        await runWorker();
      }
    }
    const calls = (await messagesOf(app, acme, lead._id)).filter((m) => m.channel === 'call');
    assert.equal(calls.length, 3, 'the first call and two retries');
    assert.ok(calls.every((c) => c.status === 'no_answer'));
    assert.equal((await leadRow(app, lead._id)).status, 'reached-max-retries');
    assert.equal(new Set(calls.map((c) => c.idempotencyKey)).size, 3);
  });

  test('an unanswered call of a lead whose AI was turned off meanwhile is not retried', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const lead = await dueCampaignCall('Paused dialer', 2);
    await runWorker();
    const [call] = await messagesOf(app, acme, lead._id);
    assert.equal((await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { isAiOn: false } })).status, 200);
    assert.equal((await carrierPost('/api/webhook/twilio/status', { CallSid: call.providerMessageId, CallStatus: 'no-answer' })).status, 204);
    assert.deepEqual((await messagesOf(app, acme, lead._id)).map((m) => [m.origin, m.status]), [['follow_up', 'no_answer']]);
    assert.equal((await leadRow(app, lead._id)).status, 'created');
  });

  test('a retry that would fall outside the campaign hours waits for the next opening; an answered call is not retried', async () => {
    app.clock.set('2026-06-05T19:55:00Z'); // Friday 19:55 UTC
    const lead = await dueCampaignCall('Late dialer', 1);
    await runWorker();
    const [call] = await messagesOf(app, acme, lead._id);
    await carrierPost('/api/webhook/twilio/status', { CallSid: call.providerMessageId, CallStatus: 'no-answer' });
    const retry = (await messagesOf(app, acme, lead._id)).at(-1);
    assert.equal(retry.nextAttemptAt, '2026-06-08T09:00:00.000Z'); // Monday opening
    app.clock.set('2026-06-08T09:00:00Z');
    await runWorker();
    const [, retried] = await messagesOf(app, acme, lead._id);
    await carrierPost('/api/webhook/twilio/status', { CallSid: retried.providerMessageId, CallStatus: 'completed' });
    assert.equal((await messagesOf(app, acme, lead._id))[1].status, 'delivered');
    assert.equal((await messagesOf(app, acme, lead._id)).length, 2);
    assert.equal((await leadRow(app, lead._id)).status, 'created');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REPLY_FALLBACK } from '../src/modules/ai/conversation.ts';
import { answerOverdueReplies, ANSWER_LEASE_MS, MAX_ANSWER_ATTEMPTS, recordReply } from '../src/modules/replies/service.ts';
import { deliverOnce } from '../src/worker/delivery.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { setOrganization } from './support/followups.ts';
import { approvalsOf, createConfiguration, messagesOf } from './support/intake.ts';

let app: TestApp;
let openai: FakeOpenAI;
let twilio: FakeTwilio;
let acme: Account;
let apiKey: string;
let phoneCounter = 4100;

before(async () => {
  openai = await startFakeOpenAI();
  twilio = await startFakeTwilio();
  app = await startApp({
    openai: { baseUrl: openai.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 300 },
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, baseUrl: twilio.baseUrl },
  });
  app.ctx.config.publicUrl = app.url;
  acme = await registerOrganization(app, 'Acme');
  apiKey = await apiKeyFor(app, acme);
});
after(async () => {
  await app.close();
  await twilio.close();
  await openai.close();
});

async function leadThrough(configuration: { _id: string }): Promise<{ id: string; phone: string }> {
  const phone = `+1212555${String(phoneCounter++).padStart(4, '0')}`;
  const res = await app.request('POST', '/api/webhook/outreach', { token: apiKey, body: { configurationId: configuration._id, firstName: 'Ada', phoneNumber: phone } });
  assert.equal(res.status, 200, res.text);
  return { id: res.body.data.contactId, phone };
}

async function inboundSms(from: string, body: string, sid: string): Promise<void> {
  const path = '/api/webhook/twilio/sms';
  const signed = twilio.signed(app.url + path, { From: from, To: twilio.from, Body: body, MessageSid: sid, AccountSid: twilio.accountSid });
  const res = await app.request('POST', path, { raw: signed.raw, headers: signed.headers });
  assert.equal(res.status, 200, res.text);
  // the answer is composed after the webhook was answered
  await app.ctx.background.drain();
}

const repliesOf = async (leadId: string) => (await messagesOf(app, leadId)).filter((m) => m.origin !== 'first_message');

describe('an inbound SMS gets an AI answer', () => {
  test('on autopilot the answer is queued once, even when the carrier retries the webhook', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: true, starterMessage: 'Hi {{firstName}}' }));
    openai.script({ answer: 'Panels pay off in about 7 years.' });
    await inboundSms(lead.phone, 'When does it pay off?', 'SMai1');
    await inboundSms(lead.phone, 'When does it pay off?', 'SMai1');
    const messages = await repliesOf(lead.id);
    assert.deepEqual(messages.map((m) => [m.direction, m.origin, m.status, m.content]), [
      ['inbound', 'reply', 'received', 'When does it pay off?'],
      ['outbound', 'reply_answer', 'queued', 'Panels pay off in about 7 years.'],
    ]);
    assert.equal(openai.requests.at(-1)!.messages.at(-1)!.content, 'When does it pay off?');
  });

  test('not on autopilot the answer waits in the approval queue', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: false, starterMessage: 'Hi' }));
    openai.script({ fail: 500 }, { fail: 500 });
    await inboundSms(lead.phone, 'Call me?', 'SMai2');
    const reply = (await approvalsOf(app, lead.id)).find((a) => a.purpose === 'reply');
    assert.equal(reply?.content, REPLY_FALLBACK);
    const approved = await app.request('POST', `/api/approvals/${reply.id}/approve`, { token: acme.token });
    assert.equal(approved.status, 200, approved.text);
    const answer = (await repliesOf(lead.id)).find((m) => m.direction === 'outbound');
    assert.deepEqual([answer?.origin, answer?.content], ['reply_answer', REPLY_FALLBACK]);
  });

  test('the webhook is answered before the model is: a slow model never holds the carrier', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: true, starterMessage: 'Hi' }));
    openai.script({ hang: true }, { hang: true });
    const path = '/api/webhook/twilio/sms';
    const signed = twilio.signed(app.url + path, { From: lead.phone, To: twilio.from, Body: 'Still there?', MessageSid: 'SMslow', AccountSid: twilio.accountSid });
    const res = await app.request('POST', path, { raw: signed.raw, headers: signed.headers });
    assert.equal(res.status, 200);
    assert.deepEqual((await repliesOf(lead.id)).map((m) => m.direction), ['inbound'], 'answered while the model still hangs');
    await app.ctx.background.drain();
    assert.deepEqual((await repliesOf(lead.id)).map((m) => [m.direction, m.content]), [
      ['inbound', 'Still there?'],
      ['outbound', REPLY_FALLBACK],
    ]);
  });

  test('an opt-out is not answered', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: true, starterMessage: 'Hi' }));
    const calls = openai.requests.length;
    await inboundSms(lead.phone, 'STOP', 'SMai3');
    assert.equal(openai.requests.length, calls);
    assert.deepEqual((await repliesOf(lead.id)).map((m) => m.direction), ['inbound']);
  });
});

describe('a reply whose answer was never written', () => {
  /** What the SMS webhook commits before it answers the carrier; the process then "dies" before answering the reply. */
  const recordedOnly = async (lead: { id: string; phone: string }, body: string, sid: string) => {
    const now = app.clock.now();
    const answer = await app.db.transaction((tx) =>
      recordReply(app.ctx, tx, { id: lead.id, organization_id: acme.organizationId }, {
        id: sid.toLowerCase().padEnd(24, '0').slice(0, 24), channel: 'text', subject: null, content: body, from: lead.phone, to: twilio.from,
        provider: 'twilio', providerMessageId: sid, optOut: false, now,
      }),
    );
    assert.ok(answer);
  };
  const answersOf = async (leadId: string) => (await repliesOf(leadId)).filter((m) => m.direction === 'outbound');

  test('is answered by a worker once its first attempt\'s lease ends, and only once', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: true, starterMessage: 'Hi' }));
    await recordedOnly(lead, 'Are you open on Sunday?', 'SMdied1');
    assert.equal(await answerOverdueReplies(app.ctx), 0, 'the first attempt still owns it');
    app.clock.advance(ANSWER_LEASE_MS);
    openai.script({ answer: 'Yes, 10 to 4.' });
    assert.equal(await answerOverdueReplies(app.ctx), 1);
    assert.deepEqual((await answersOf(lead.id)).map((m) => m.content), ['Yes, 10 to 4.']);
    app.clock.advance(ANSWER_LEASE_MS);
    assert.equal(await answerOverdueReplies(app.ctx), 0);
    assert.equal((await answersOf(lead.id)).length, 1);
  });

  test('an attempt still composing when its lease ends and a worker takes over writes nothing: one answer', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: true, starterMessage: 'Hi' }));
    openai.script({ hang: true }, { hang: true });
    const path = '/api/webhook/twilio/sms';
    const signed = twilio.signed(app.url + path, { From: lead.phone, To: twilio.from, Body: 'Hello?', MessageSid: 'SMslow2', AccountSid: twilio.accountSid });
    assert.equal((await app.request('POST', path, { raw: signed.raw, headers: signed.headers })).status, 200);
    // the background attempt waits on the model; its lease runs out and a worker takes the reply over
    app.clock.advance(ANSWER_LEASE_MS);
    assert.equal(await answerOverdueReplies(app.ctx), 1);
    await app.ctx.background.drain();
    assert.equal((await answersOf(lead.id)).length, 1);
  });

  test(`is given up after ${MAX_ANSWER_ATTEMPTS} attempts`, async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: true, starterMessage: 'Hi' }));
    await recordedOnly(lead, 'Anyone?', 'SMdied2');
    // every attempt dies before it answers: only the lease ending moves it on
    await app.db.query(`UPDATE messages SET answer_attempts = $2 WHERE lead_id = $1 AND direction = 'inbound'`, [lead.id, MAX_ANSWER_ATTEMPTS]);
    app.clock.advance(ANSWER_LEASE_MS);
    assert.equal(await answerOverdueReplies(app.ctx), 0);
    const [pending] = await app.db.query<{ answer_due_at: Date | null }>(`SELECT answer_due_at FROM messages WHERE lead_id = $1 AND direction = 'inbound'`, [lead.id]);
    assert.equal(pending.answer_due_at, null);
    assert.equal((await answersOf(lead.id)).length, 0);
  });

  test('an opt-out and an answered reply are not pending', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: true, starterMessage: 'Hi' }));
    await inboundSms(lead.phone, 'Thanks', 'SMdone1');
    await inboundSms(lead.phone, 'STOP', 'SMdone2');
    const pending = await app.db.query(`SELECT id FROM messages WHERE lead_id = $1 AND answer_due_at IS NOT NULL`, [lead.id]);
    assert.deepEqual(pending, []);
  });
});

describe('automatic messages wait for the lead’s sending window', () => {
  // Monday 23:00 in New York (EDT): the window (09:00–20:00) opens Tuesday 09:00 = 13:00Z
  const night = '2026-06-02T03:00:00.000Z';
  const opening = '2026-06-02T13:00:00.000Z';
  let owl: Account;
  let owlKey: string;
  before(async () => {
    owl = await registerOrganization(app, 'Night Owl');
    owlKey = await apiKeyFor(app, owl);
    await setOrganization(app, owl, { timezone: 'America/New_York' });
  });

  const carrierRequestsTo = (phone: string) => twilio.created.filter((request) => request.params.To === phone).map((request) => request.params.Body);
  const outbound = async (leadId: string): Promise<any[]> => {
    const listed = await app.request('GET', `/api/leads/${leadId}/messages`, { token: owl.token });
    assert.equal(listed.status, 200, listed.text);
    return listed.body.data.filter((m: any) => m.direction === 'outbound');
  };

  test('an autopilot first message to a lead arriving at night is queued for the opening and sent only then', async () => {
    app.clock.set(night);
    const configuration = await createConfiguration(app, owl, { isAutopilot: true, starterMessage: 'Hi {{firstName}}' });
    const phone = `+1212555${String(phoneCounter++).padStart(4, '0')}`;
    const res = await app.request('POST', '/api/webhook/outreach', { token: owlKey, body: { configurationId: configuration._id, firstName: 'Nox', phoneNumber: phone } });
    assert.equal(res.status, 200, res.text);
    const leadId = res.body.data.contactId;
    assert.deepEqual((await outbound(leadId)).map((m) => [m.origin, m.status, m.nextAttemptAt]), [['first_message', 'queued', opening]]);

    await deliverOnce(app.ctx);
    assert.deepEqual(carrierRequestsTo(phone), [], 'nothing goes out before the window opens');
    app.clock.set(opening);
    await deliverOnce(app.ctx);
    assert.deepEqual(carrierRequestsTo(phone), ['Hi Nox']);
    assert.deepEqual((await outbound(leadId)).map((m) => m.status), ['sent']);
  });

  test('an autopilot answer to a reply that arrives at night waits for the opening too', async () => {
    app.clock.set('2026-06-01T18:00:00.000Z'); // Monday 14:00 EDT: the first message goes at once
    const configuration = await createConfiguration(app, owl, { isAutopilot: true, starterMessage: 'Hi' });
    const phone = `+1212555${String(phoneCounter++).padStart(4, '0')}`;
    const res = await app.request('POST', '/api/webhook/outreach', { token: owlKey, body: { configurationId: configuration._id, firstName: 'Luna', phoneNumber: phone } });
    const leadId = res.body.data.contactId;
    await deliverOnce(app.ctx);
    assert.deepEqual(carrierRequestsTo(phone), ['Hi']);

    app.clock.set(night);
    openai.script({ answer: 'We open at 9.' });
    await inboundSms(phone, 'Are you open?', 'SMnight1');
    const answer = (await outbound(leadId)).find((m) => m.origin === 'reply_answer');
    assert.deepEqual([answer?.status, answer?.nextAttemptAt], ['queued', opening]);
    await deliverOnce(app.ctx);
    assert.deepEqual(carrierRequestsTo(phone), ['Hi']);
    app.clock.set(opening);
    await deliverOnce(app.ctx);
    assert.deepEqual(carrierRequestsTo(phone), ['Hi', 'We open at 9.']);
  });
});

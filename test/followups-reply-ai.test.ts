import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REPLY_FALLBACK } from '../src/modules/ai/conversation.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
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
    assert.deepEqual(messages.map((m) => [m.direction, m.status, m.content]), [
      ['inbound', 'received', 'When does it pay off?'],
      ['outbound', 'queued', 'Panels pay off in about 7 years.'],
    ]);
    assert.equal(openai.requests.at(-1)!.messages.at(-1)!.content, 'When does it pay off?');
  });

  test('not on autopilot the answer waits in the approval queue', async () => {
    const lead = await leadThrough(await createConfiguration(app, acme, { isAutopilot: false, starterMessage: 'Hi' }));
    openai.script({ fail: 500 }, { fail: 500 });
    await inboundSms(lead.phone, 'Call me?', 'SMai2');
    const reply = (await approvalsOf(app, lead.id)).find((a) => a.purpose === 'reply');
    assert.equal(reply?.content, REPLY_FALLBACK);
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

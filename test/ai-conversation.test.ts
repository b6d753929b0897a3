import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { aiFollowUpComposer, answerReply, REPLY_FALLBACK } from '../src/modules/ai/conversation.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { approvalsOf, createConfiguration, messagesOf } from './support/intake.ts';

let app: TestApp;
let fake: FakeOpenAI;
let admin: Account;
let apiKey: string;
let phoneCounter = 800;

before(async () => {
  fake = await startFakeOpenAI();
  app = await startApp({ openai: { baseUrl: fake.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 300 } });
  admin = await registerOrganization(app);
  apiKey = await apiKeyFor(app, admin);
});
after(async () => {
  await app.close();
  await fake.close();
});

async function newLead(config: any, firstName = 'Ada'): Promise<string> {
  const res = await app.request('POST', '/api/webhook/outreach', {
    token: apiKey,
    body: { configurationId: config._id, firstName, phoneNumber: `+1212555${String(phoneCounter++).padStart(4, '0')}` },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.data.contactId;
}

describe('AI answers to a lead\'s reply', () => {
  test('on autopilot the answer is queued, written from the process and the conversation so far', async () => {
    const config = await createConfiguration(app, admin, { isAutopilot: true, starterMessage: 'Hi {{firstName}}, want solar?' });
    const leadId = await newLead(config);
    fake.script({ answer: 'It usually pays for itself in 7 years.' });
    const sent = await answerReply(app.ctx, admin.organizationId, leadId, { content: 'How long until it pays off?', channel: 'text' });
    assert.ok(sent?.messageId);
    const messages = await messagesOf(app, leadId);
    assert.equal(messages.at(-1).content, 'It usually pays for itself in 7 years.');
    assert.equal(messages.at(-1).status, 'queued');
    const request = fake.requests.at(-1)!;
    assert.match(request.messages[0].content, /solar installer/);
    assert.deepEqual(request.messages.slice(1), [
      { role: 'assistant', content: 'Hi Ada, want solar?' },
      { role: 'user', content: 'How long until it pays off?' },
    ]);
  });

  test('not on autopilot the answer waits for approval; a failing model falls back to a holding reply', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi' });
    const leadId = await newLead(config);
    fake.script({ fail: 500 }, { fail: 500 });
    const sent = await answerReply(app.ctx, admin.organizationId, leadId, { content: 'Call me?', channel: 'text' });
    assert.ok(sent?.approvalId);
    const reply = (await approvalsOf(app, leadId)).find((a) => a.purpose === 'reply');
    assert.equal(reply.content, REPLY_FALLBACK);
    assert.equal(reply.composed_by, 'template');
  });

  test('no answer when the AI is off for the lead', async () => {
    const config = await createConfiguration(app, admin, { isAutopilot: true, starterMessage: 'Hi' });
    const leadId = await newLead(config);
    await app.db.query('UPDATE leads SET is_ai_on = false WHERE id = $1', [leadId]);
    assert.equal(await answerReply(app.ctx, admin.organizationId, leadId, { content: 'Hello?', channel: 'text' }), undefined);
  });
});

describe('AI follow-ups (the composer for the dispatcher\'s seam)', () => {
  const touchFor = async (leadId: string, template?: string) => {
    const [lead] = await app.db.query<any>('SELECT * FROM leads WHERE id = $1', [leadId]);
    return { lead, step: 2, touch: { hours: 24, channel: 'text' as const, ...(template ? { template } : {}) }, strategy: { id: 's', name: 'Urgency', instructions: 'Mention the rebate ends Friday.' } };
  };

  test('without a step template the model writes the touch from the process, conversation and strategy', async () => {
    const config = await createConfiguration(app, admin, { isAutopilot: true, starterMessage: 'Hi {{firstName}}' });
    const leadId = await newLead(config, 'Flo');
    fake.script({ answer: 'Flo, the rebate ends Friday!' });
    const composed = await aiFollowUpComposer(app.ctx)(await touchFor(leadId));
    assert.equal(composed.content, 'Flo, the rebate ends Friday!');
    const system = fake.requests.at(-1)!.messages[0].content;
    assert.match(system, /follow-up message number 2/);
    assert.match(system, /rebate ends Friday/);
    assert.match(system, /solar installer/);
  });

  test('a step template wins and the model is not called; a failing model falls back to the template', async () => {
    const config = await createConfiguration(app, admin, { isAutopilot: true, starterMessage: 'Hi' });
    const leadId = await newLead(config, 'Gus');
    const before = fake.requests.length;
    const templated = await aiFollowUpComposer(app.ctx)(await touchFor(leadId, 'Hey {{firstName}}!'));
    assert.equal(templated.content, 'Hey Gus!');
    assert.equal(fake.requests.length, before);
    fake.script({ hang: true }, { hang: true });
    const fallback = await aiFollowUpComposer(app.ctx)(await touchFor(leadId));
    assert.match(fallback.content, /^Hi Gus, just following up/);
  });
});

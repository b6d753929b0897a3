import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { composeMessage } from '../src/modules/ai/composer.ts';
import { buildChatMessages } from '../src/modules/ai/prompt.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let fake: FakeOpenAI;
let app: TestApp;
let admin: Account;
let promptId: string;

before(async () => {
  fake = await startFakeOpenAI();
  app = await startApp({ openai: { baseUrl: fake.baseUrl, apiKey: 'test-key', model: 'fake-model', timeoutMs: 300 } });
  admin = await registerOrganization(app);
  const prompt = await app.request('POST', '/api/prompts', {
    token: admin.token,
    body: { name: 'Solar', content: 'You sell rooftop solar. Always offer a free assessment.' },
  });
  promptId = prompt.body.data._id;
});
after(async () => {
  await app.close();
  await fake.close();
});

describe('the prompt the composer sends', () => {
  test('carries the process instructions, the lead fields, the conversation and the task', () => {
    const messages = buildChatMessages({
      instructions: 'Sell solar.',
      lead: { firstName: 'Ada', email: 'ada@example.com', customFields: { roof: 'south' } },
      conversation: [
        { from: 'agent', content: 'Hi Ada!' },
        { from: 'lead', content: 'Hello' },
      ],
      task: { kind: 'follow_up', step: 2, strategy: 'mention the tax credit', channel: 'sms' },
    });
    assert.equal(messages[0].role, 'system');
    assert.match(messages[0].content, /Sell solar\./);
    assert.match(messages[0].content, /First name: Ada/);
    assert.match(messages[0].content, /roof: south/);
    assert.match(messages[0].content, /follow-up message number 2/);
    assert.match(messages[0].content, /mention the tax credit/);
    assert.deepEqual(messages.slice(1, 3), [
      { role: 'assistant', content: 'Hi Ada!' },
      { role: 'user', content: 'Hello' },
    ]);
    assert.equal(messages.at(-1)?.role, 'user');
  });

  test('a reply ends with the lead\'s message itself', () => {
    const messages = buildChatMessages({ instructions: '', lead: {}, conversation: [], task: { kind: 'reply', message: 'How much?' } });
    assert.deepEqual(messages.at(-1), { role: 'user', content: 'How much?' });
  });
});

describe('POST /api/ai/playground', () => {
  test('answers with the model reply, sending the process instructions and the conversation', async () => {
    fake.script({ answer: 'A free assessment is on us!' });
    const before = fake.requests.length;
    const res = await app.request('POST', '/api/ai/playground', {
      token: admin.token,
      body: { promptId, message: 'Is it expensive?', conversation: [{ from: 'agent', content: 'Hi there' }] },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.reply, 'A free assessment is on us!');
    assert.equal(res.body.data.usage.totalTokens, 49);
    const sent = fake.requests[before];
    assert.equal(sent.model, 'fake-model');
    assert.match(sent.messages[0].content, /rooftop solar/);
    assert.deepEqual(sent.messages.slice(1), [
      { role: 'assistant', content: 'Hi there' },
      { role: 'user', content: 'Is it expensive?' },
    ]);
  });

  test('retries a 5xx once and then answers', async () => {
    fake.script({ fail: 503 }, { answer: 'Second time lucky' });
    const res = await app.request('POST', '/api/ai/playground', { token: admin.token, body: { promptId, message: 'Hi' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.reply, 'Second time lucky');
  });

  test('a model that keeps failing answers 502 and does not hang', async () => {
    fake.script({ fail: 500 }, { fail: 500 });
    const res = await app.request('POST', '/api/ai/playground', { token: admin.token, body: { promptId, message: 'Hi' } });
    assert.equal(res.status, 502);
    assert.equal(res.body.success, false);
    assert.match(res.body.error, /did not answer/);
  });

  test('an unknown, malformed or other organization\'s prompt is 404; a bad body is 400', async () => {
    const other = await registerOrganization(app, 'Other');
    for (const token of [other.token]) {
      const res = await app.request('POST', '/api/ai/playground', { token, body: { promptId, message: 'Hi' } });
      assert.equal(res.status, 404);
    }
    const malformed = await app.request('POST', '/api/ai/playground', { token: admin.token, body: { promptId: 'nope', message: 'Hi' } });
    assert.equal(malformed.status, 404);
    const empty = await app.request('POST', '/api/ai/playground', { token: admin.token, body: { promptId, message: '' } });
    assert.equal(empty.status, 400);
    const noAuth = await app.request('POST', '/api/ai/playground', { body: { promptId, message: 'Hi' } });
    assert.equal(noAuth.status, 401);
  });
});

describe('composeMessage', () => {
  const input = () => ({
    organizationId: admin.organizationId,
    leadId: null,
    instructions: 'Be brief.',
    lead: { firstName: 'Ada' },
    conversation: [],
    task: { kind: 'first_touch' as const },
    fallback: 'Hi Ada, thanks for reaching out!',
  });

  test('uses the model answer and traces the call with its tokens', async () => {
    fake.script({ answer: 'Hey Ada!' });
    const result = await composeMessage(app.ctx, input());
    assert.deepEqual({ content: result.content, source: result.source }, { content: 'Hey Ada!', source: 'ai' });
    const [trace] = await app.db.query<any>('SELECT * FROM ai_traces WHERE id = $1', [result.traceId]);
    assert.equal(trace.outcome, 'ok');
    assert.equal(trace.total_tokens, 49);
    assert.equal(trace.attempts, 1);
    assert.equal(trace.response, 'Hey Ada!');
  });

  test('falls back to the template when the model hangs past the timeout, and traces the timeout', async () => {
    fake.script({ hang: true }, { hang: true });
    const started = Date.now();
    const result = await composeMessage(app.ctx, input());
    assert.ok(Date.now() - started < 5000, 'the timeout bounds the wait');
    assert.equal(result.source, 'fallback');
    assert.equal(result.content, 'Hi Ada, thanks for reaching out!');
    const [trace] = await app.db.query<any>('SELECT * FROM ai_traces WHERE id = $1', [result.traceId]);
    assert.equal(trace.outcome, 'fallback');
    assert.equal(trace.attempts, 2);
    assert.match(trace.error, /timed out/i);
  });

  test('falls back when the model answers an error that is not worth retrying', async () => {
    fake.script({ fail: 400 });
    const before = fake.requests.length;
    const result = await composeMessage(app.ctx, input());
    assert.equal(result.source, 'fallback');
    assert.equal(fake.requests.length, before + 1, 'a 400 is not retried');
  });

  test('falls back, traced, when AI is not configured at all', async () => {
    const result = await composeMessage({ ...app.ctx, config: { ...app.ctx.config, openai: undefined } }, input());
    assert.equal(result.source, 'fallback');
    const [trace] = await app.db.query<any>('SELECT * FROM ai_traces WHERE id = $1', [result.traceId]);
    assert.match(trace.error, /not configured/);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { aiFollowUpComposer } from '../src/modules/ai/conversation.ts';
import { followUpIdempotencyKey } from '../src/modules/followups/touch.ts';
import { COMPOSE_LEASE_MS, runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { createLead, leadRow, messagesOf, scheduleLead } from './support/followups.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

const HOUR = 3_600_000;
const CADENCE = { '1': { hours: 1, channel: 'text' }, '2': { hours: 2, channel: 'text' } };
let app: TestApp;
let openai: FakeOpenAI;
let acme: Account;

before(async () => {
  openai = await startFakeOpenAI();
  app = await startApp({ openai: { baseUrl: openai.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 300 } });
  acme = await registerOrganization(app, 'Acme');
});
after(async () => {
  await app.close();
  await openai.close();
});

const dispatchWithModel = () => runDispatcherOnce(app.ctx, { composer: aiFollowUpComposer(app.ctx) });

async function dueLead(): Promise<{ _id: string; dueAt: Date }> {
  app.clock.set('2026-06-01T15:00:00Z');
  const lead = await createLead(app, acme, { followUpConfig: CADENCE });
  const dueAt = app.clock.now();
  await scheduleLead(app, lead._id, 1, dueAt);
  return { _id: lead._id, dueAt };
}

/** Polls (bounded) until the dispatcher has leased the lead, i.e. the model is being asked. */
async function untilLeased(leadId: string): Promise<void> {
  const lease = app.clock.now().getTime() + COMPOSE_LEASE_MS;
  for (let i = 0; i < 300; i++) {
    const res = await app.request('GET', `/api/leads/${leadId}`, { token: acme.token });
    if (Date.parse(res.body.data.nextFollowUpAt) === lease) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail('the lead was never leased');
}

describe('follow-ups written by the AI composer', () => {
  test('as the worker runs it, the touch the model wrote goes out from the dispatching call', async () => {
    const lead = await dueLead();
    openai.script({ answer: 'Ada, shall we book a visit?' });
    assert.equal(await runDispatcherOnce(app.ctx, { composer: aiFollowUpComposer(app.ctx), deliverInline: true }), 1);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.deepEqual([message.content, message.status, message.attempts, message.provider], ['Ada, shall we book a visit?', 'delivered', 1, 'log']);
  });

  test('the model writes the touch; the lead moves on and the message keeps the due time in its key', async () => {
    const lead = await dueLead();
    openai.script({ answer: 'Ada, still thinking about solar?' });
    assert.equal(await dispatchWithModel(), 1);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.equal(message.content, 'Ada, still thinking about solar?');
    assert.equal(message.status, 'queued');
    assert.equal(message.idempotencyKey, followUpIdempotencyKey(lead._id, 1, lead.dueAt));
    const state = await leadRow(app, lead._id);
    assert.equal(state.follow_up_step, 2);
    assert.equal(new Date(state.next_follow_up_at).toISOString(), new Date(app.clock.now().getTime() + 2 * HOUR).toISOString());
  });

  test('no transaction is held while the model answers: the lead is readable and writable meanwhile', async () => {
    const lead = await dueLead();
    openai.script({ hang: true }, { hang: true });
    const dispatch = dispatchWithModel();
    await untilLeased(lead._id);
    const write = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { lastName: 'Lovelace' } });
    assert.equal(write.status, 200, write.text);
    assert.equal(await dispatch, 1);
    const [message] = await messagesOf(app, acme, lead._id);
    assert.match(message.content, /^Hi Ada, just following up/, 'the template is the fallback');
  });

  test('a lead stopped while its touch is being composed gets no message', async () => {
    const lead = await dueLead();
    openai.script({ hang: true }, { hang: true });
    const dispatch = dispatchWithModel();
    await untilLeased(lead._id);
    const stopped = await app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { followUpStep: -1 } });
    assert.equal(stopped.status, 200, stopped.text);
    await dispatch;
    assert.deepEqual(await messagesOf(app, acme, lead._id), []);
    assert.equal((await leadRow(app, lead._id)).follow_up_step, -1);
  });

  test('a worker that dies while composing leaves the lead leased; it fires once when the lease ends', async () => {
    const lead = await dueLead();
    const dying = () => Promise.reject(new Error('worker died'));
    await assert.rejects(runDispatcherOnce(app.ctx, { composer: dying }), /worker died/);
    assert.deepEqual(await messagesOf(app, acme, lead._id), []);
    app.clock.advance(COMPOSE_LEASE_MS - 1);
    assert.equal(await dispatchWithModel(), 0, 'still leased');
    app.clock.advance(1);
    openai.script({ answer: 'Back again, Ada.' });
    assert.equal(await dispatchWithModel(), 1);
    assert.equal(await dispatchWithModel(), 0);
    assert.deepEqual((await messagesOf(app, acme, lead._id)).map((m) => m.content), ['Back again, Ada.']);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createConfiguration, messagesOf } from './support/intake.ts';

let app: TestApp;
let admin: Account;
let apiKey: string;
let config: any;
let phoneCounter = 300;

before(async () => {
  app = await startApp();
  admin = await registerOrganization(app);
  apiKey = await apiKeyFor(app, admin);
  config = await createConfiguration(app, admin, { starterMessage: 'Hi {{firstName}}!' });
});
after(() => app.close());

/** A new lead through the webhook: its first message lands in the approval queue. */
async function pendingApproval(firstName = 'Ada'): Promise<{ id: string; leadId: string }> {
  const res = await app.request('POST', '/api/webhook/outreach', {
    token: apiKey,
    body: { configurationId: config._id, firstName, phoneNumber: `+1212555${String(phoneCounter++).padStart(4, '0')}` },
  });
  assert.equal(res.status, 200, res.text);
  const queue = await app.request('GET', `/api/approvals?status=pending&leadId=${res.body.data.contactId}`, { token: admin.token });
  assert.equal(queue.body.data.length, 1);
  return { id: queue.body.data[0]._id, leadId: res.body.data.contactId };
}

const approve = (id: string, body?: unknown) => app.request('POST', `/api/approvals/${id}/approve`, { token: admin.token, body });
const reject = (id: string) => app.request('POST', `/api/approvals/${id}/reject`, { token: admin.token });

describe('approval queue', () => {
  test('GET /api/approvals?status=pending lists waiting messages with their rendered content', async () => {
    const { id } = await pendingApproval('Quinn');
    const res = await app.request('GET', '/api/approvals?status=pending', { token: admin.token });
    assert.equal(res.status, 200);
    const item = res.body.data.find((a: any) => a._id === id);
    assert.equal(item.content, 'Hi Quinn!');
    assert.equal(item.status, 'pending');
    assert.equal(item.channel, 'text');
    const bad = await app.request('GET', '/api/approvals?status=maybe', { token: admin.token });
    assert.equal(bad.status, 400);
  });

  test('approve queues the message once; approving again is 409', async () => {
    const { id, leadId } = await pendingApproval();
    const first = await approve(id);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.data.status, 'approved');
    const [message] = await messagesOf(app, leadId);
    assert.equal(message.status, 'queued');
    assert.equal(message.content, 'Hi Ada!');
    assert.equal(first.body.data.messageId, message.id);
    const second = await approve(id);
    assert.equal(second.status, 409);
    assert.match(second.body.error, /already approved/);
    assert.equal((await messagesOf(app, leadId)).length, 1);
  });

  test('approve with edited content sends the edit', async () => {
    const { id, leadId } = await pendingApproval();
    const res = await approve(id, { content: 'Edited hello' });
    assert.equal(res.status, 200, res.text);
    const [message] = await messagesOf(app, leadId);
    assert.equal(message.content, 'Edited hello');
    const empty = await pendingApproval();
    assert.equal((await approve(empty.id, { content: '' })).status, 400);
    const blank = await approve(empty.id, { content: ' \n\t ' });
    assert.equal(blank.status, 400, blank.text);
    assert.equal(blank.body.error, 'content must not be blank');
    assert.equal((await messagesOf(app, empty.leadId)).length, 0, 'nothing was queued');
  });

  test('approve takes an empty body sent as JSON (as generated clients send one) as no body', async () => {
    const { id, leadId } = await pendingApproval('Edie');
    const res = await app.request('POST', `/api/approvals/${id}/approve`, { token: admin.token, raw: '', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200, res.text);
    assert.equal((await messagesOf(app, leadId))[0].content, 'Hi Edie!');
  });

  test('reject: never sent; approving a rejected item is 409, rejecting twice too', async () => {
    const { id, leadId } = await pendingApproval();
    const res = await reject(id);
    assert.equal(res.status, 200);
    assert.equal(res.body.data.status, 'rejected');
    assert.equal((await approve(id)).status, 409);
    assert.equal((await reject(id)).status, 409);
    assert.equal((await messagesOf(app, leadId)).length, 0);
  });

  test('concurrent approvals and a reject: exactly one wins, and only its outcome is written', async () => {
    const { id, leadId } = await pendingApproval();
    const results = await Promise.all([approve(id), approve(id), approve(id), reject(id)]);
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 409).length, 3);
    // whichever won decides the outcome: an approve queues exactly one message, the reject none
    const winner = results.findIndex((r) => r.status === 200);
    const approved = winner < 3;
    assert.equal(results[winner].body.data.status, approved ? 'approved' : 'rejected');
    const messages = await messagesOf(app, leadId);
    assert.equal(messages.length, approved ? 1 : 0, `${approved ? 'an approve' : 'the reject'} won`);
    if (approved) {
      assert.equal(messages[0].status, 'queued');
      assert.equal(results[winner].body.data.messageId, messages[0].id);
    }
  });

  test('another organization\'s, unknown or malformed ids are 404', async () => {
    const { id } = await pendingApproval();
    const other = await registerOrganization(app, 'Other');
    assert.equal((await app.request('POST', `/api/approvals/${id}/approve`, { token: other.token })).status, 404);
    assert.equal((await app.request('POST', `/api/approvals/${id}/reject`, { token: other.token })).status, 404);
    assert.equal((await approve('0123456789abcdef01234567')).status, 404);
    assert.equal((await approve('nope')).status, 404);
    const list = await app.request('GET', '/api/approvals', { token: other.token });
    assert.deepEqual(list.body.data, []);
  });
});

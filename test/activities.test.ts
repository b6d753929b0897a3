import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { upsertActivitiesWithin } from '../src/modules/activities/service.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let app: TestApp;
let admin: Account;
let phone = 3000;

before(async () => {
  app = await startApp();
  admin = await registerOrganization(app, 'Timeline');
});
after(() => app.close());

async function newLead(body: Record<string, unknown> = {}) {
  const res = await app.request('POST', '/api/leads', { token: admin.token, body: { phone: `+1 212 555 ${phone++}`, ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

const addActivity = (leadId: string, body: unknown) => app.request('POST', `/api/leads/${leadId}/activities`, { token: admin.token, body });
const getLead = async (leadId: string) => (await app.request('GET', `/api/leads/${leadId}`, { token: admin.token })).body.data;
/** Convocore's crmActivities upsert, as its routes run it: in a transaction of its own here. */
const upsertActivities = (leadId: string, inputs: Parameters<typeof upsertActivitiesWithin>[4]) => {
  const actor = { organizationId: admin.organizationId, userId: admin.userId, email: admin.email };
  return app.ctx.db.transaction((tx) => upsertActivitiesWithin(app.ctx, tx, actor, leadId, inputs));
};

describe('CRM timeline', () => {
  test('creation writes a System activity; activities list oldest first', async () => {
    const lead = await newLead();
    const res = await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.map((a: any) => a.type), ['System']);
  });

  test('POST adds an activity in Convocore\'s shape; a note starts the notes history', async () => {
    const lead = await newLead();
    const res = await addActivity(lead._id, {
      type: 'Call',
      title: 'Intro call',
      date: '2026-06-01T11:00:00.000Z',
      dueDate: 1780315200000,
      firstChannel: 'Phone/Call',
      firstEngaged: true,
      note: 'left a voicemail',
      metadata: { durationSec: 42 },
    });
    assert.equal(res.status, 201, res.text);
    const activity = res.body.data;
    assert.equal(activity.type, 'Call');
    assert.equal(activity.firstChannel, 'Phone/Call');
    assert.equal(activity.dueDate, new Date(1780315200000).toISOString());
    assert.deepEqual(activity.metadata, { durationSec: 42 });
    assert.equal(activity.notesHistory.length, 1);
    assert.equal(activity.notesHistory[0].text, 'left a voicemail');
    assert.equal(activity.notesHistory[0].agentId, admin.userId);
    assert.equal((await getLead(lead._id)).lastActivityDate, '2026-06-01T11:00:00.000Z');
  });

  test('a client-chosen id is 1 to 100 characters, counted as the schema counts them (code points)', async () => {
    const lead = await newLead();
    const longest = '😀'.repeat(100);
    const res = await addActivity(lead._id, { id: longest, type: 'Note' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.data.id, longest);
    const tooLong = await addActivity(lead._id, { id: '😀'.repeat(101), type: 'Note' });
    assert.equal(tooLong.status, 400, tooLong.text);
    assert.match(tooLong.body.error, /^id /);
  });

  test('types and channels are checked; type is required', async () => {
    const lead = await newLead();
    assert.equal((await addActivity(lead._id, { type: 'Party' })).status, 400);
    assert.equal((await addActivity(lead._id, { type: 'Call', firstChannel: 'Telegraph' })).status, 400);
    const missing = await addActivity(lead._id, { title: 'no type' });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /type/);
  });

  test('PATCH changes fields and appends notes; the history is never rewritten', async () => {
    const lead = await newLead();
    const created = (await addActivity(lead._id, { type: 'Note', note: 'first' })).body.data;
    const path = `/api/leads/${lead._id}/activities/${created.id}`;
    const second = await app.request('PATCH', path, { token: admin.token, body: { note: 'second', completed: true } });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.data.note, 'second');
    assert.equal(second.body.data.completed, true);
    assert.deepEqual(second.body.data.notesHistory.map((n: any) => n.text), ['first', 'second']);
    // a client sending a shorter history (or the same note again) cannot remove or duplicate entries
    const resend = await app.request('PATCH', path, {
      token: admin.token,
      body: { note: 'second', notesHistory: [{ text: 'imported', agentName: 'Bot', timestamp: 1 }] },
    });
    assert.deepEqual(resend.body.data.notesHistory.map((n: any) => n.text), ['first', 'second', 'imported']);
    const again = await app.request('PATCH', path, { token: admin.token, body: { notesHistory: [{ text: 'imported', agentName: 'Bot', timestamp: 1 }] } });
    assert.deepEqual(again.body.data.notesHistory.map((n: any) => n.text), ['first', 'second', 'imported']);
    const missing = await app.request('PATCH', `/api/leads/${lead._id}/activities/nope`, { token: admin.token, body: { note: 'x' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'Activity not found');
  });

  test('the Convocore crmActivities upsert inserts by client id, then changes the same activity', async () => {
    const lead = await newLead();
    await upsertActivities(lead._id, [
      { id: 'act-1', type: 'Message', title: 'hello', notesHistory: [{ text: 'a' }] },
      { id: 'act-2', type: 'Email' },
    ]);
    await upsertActivities(lead._id, [{ id: 'act-1', type: 'Message', title: 'hello again', responded: true, notesHistory: [{ text: 'a' }, { text: 'b' }] }]);
    const list = (await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token })).body.data;
    const act1 = list.find((a: any) => a.id === 'act-1');
    assert.equal(act1.title, 'hello again');
    assert.equal(act1.responded, true);
    assert.deepEqual(act1.notesHistory.map((n: any) => n.text), ['a', 'b']);
    assert.equal(list.filter((a: any) => a.id === 'act-1').length, 1);
    const duplicate = await addActivity(lead._id, { id: 'act-2', type: 'Email' });
    assert.equal(duplicate.status, 400);
  });

  test('concurrent POSTs of one client-chosen id: exactly one 201, the other the documented 400, and the winner is stored', async () => {
    const lead = await newLead();
    for (let round = 0; round < 20; round++) {
      const id = `race-${round}`;
      const bodies = ['first', 'second'].map((title) => ({ id, type: 'Note', title, note: `${title} note`, metadata: { by: title } }));
      const results = await Promise.all(bodies.map((body) => addActivity(lead._id, body)));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 400], `round ${round}: ${results.map((r) => r.text).join(' | ')}`);
      const winner = results.find((r) => r.status === 201)!.body.data;
      const loser = results.find((r) => r.status === 400)!;
      assert.equal(loser.body.error, `An activity with id ${id} already exists; PATCH it instead`);
      const stored = (await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token })).body.data.filter((a: any) => a.id === id);
      assert.equal(stored.length, 1);
      // the loser changed nothing: the stored activity is exactly the one the winner was answered
      assert.deepEqual(stored[0], winner, `round ${round}`);
      assert.deepEqual(stored[0].notesHistory.map((n: any) => n.text), [`${winner.title} note`]);
    }
  });
});

describe('heat score', () => {
  test('replies, recency, stage progress and completed meetings raise it; the label follows', async () => {
    const lead = await newLead();
    assert.equal(lead.hotScore, 0);
    assert.equal(lead.hotLabel, 'cold');
    const now = app.clock.now().toISOString();
    // a reply just now: 10 (reply) + 25 (recency)
    await addActivity(lead._id, { type: 'Message', responded: true, date: now });
    let current = await getLead(lead._id);
    assert.equal(current.hotScore, 35);
    assert.equal(current.hotLabel, 'cold');
    // a completed demo: +10
    await addActivity(lead._id, { type: 'Demo', completed: true, date: now });
    current = await getLead(lead._id);
    assert.equal(current.hotScore, 45);
    assert.equal(current.hotLabel, 'warm');
    // stage Qualified is position 3 of 0..5: +15
    current = (await app.request('PATCH', `/api/leads/${lead._id}`, { token: admin.token, body: { stageId: 'Qualified' } })).body.data;
    assert.equal(current.hotScore, 60);
    // two more replies and a meeting: 30 + 25 + 15 + 20 = 90
    await addActivity(lead._id, { type: 'Message', responded: true, date: now });
    await addActivity(lead._id, { type: 'Message', responded: true, date: now });
    await addActivity(lead._id, { type: 'Meeting', completed: true, date: now });
    current = await getLead(lead._id);
    assert.equal(current.hotScore, 90);
    assert.equal(current.hotLabel, 'hot');
    // a change that is not engagement leaves the score alone, however much time passed
    app.clock.advance(6 * 86_400_000);
    current = (await app.request('PATCH', `/api/leads/${lead._id}`, { token: admin.token, body: { source: 'later' } })).body.data;
    assert.equal(current.hotScore, 90);
    // the next engagement change recomputes it, recency now a fifth lower (20), and Lost is no progress
    current = (await app.request('PATCH', `/api/leads/${lead._id}`, { token: admin.token, body: { stageId: 'Lost' } })).body.data;
    assert.equal(current.hotScore, 70);
    assert.equal(current.hotLabel, 'hot');
  });
});

describe('engagement counts kept on the lead', () => {
  const counts = async (leadId: string) =>
    (await app.db.query<{ kept: string; counted: string }>(
      `SELECT l.replies || '/' || l.completed_meetings AS kept,
              (SELECT count(*) FILTER (WHERE responded) || '/' || count(*) FILTER (WHERE completed AND type IN ('Demo', 'Meeting'))
                 FROM lead_activities a WHERE a.organization_id = l.organization_id AND a.lead_id = l.id) AS counted
         FROM leads l WHERE l.id = $1`,
      [leadId],
    ))[0];

  test('follow every timeline write (added, changed either way, retyped) and match a count of the timeline', async () => {
    const lead = await newLead();
    const now = app.clock.now().toISOString();
    const reply = (await addActivity(lead._id, { type: 'Message', responded: true, date: now })).body.data;
    const demo = (await addActivity(lead._id, { type: 'Demo', completed: true, date: now })).body.data;
    await addActivity(lead._id, { type: 'Call', completed: true, date: now });
    assert.deepEqual(await counts(lead._id), { kept: '1/1', counted: '1/1' });
    const patch = (id: string, body: unknown) => app.request('PATCH', `/api/leads/${lead._id}/activities/${id}`, { token: admin.token, body });
    assert.equal((await patch(reply.id, { responded: false })).status, 200);
    assert.equal((await patch(demo.id, { type: 'Call' })).status, 200);
    assert.deepEqual(await counts(lead._id), { kept: '0/0', counted: '0/0' });
    assert.equal((await patch(demo.id, { type: 'Meeting' })).status, 200);
    assert.deepEqual(await counts(lead._id), { kept: '0/1', counted: '0/1' });
    // and the heat follows the kept counts: one completed meeting (10) + recency (25)
    assert.equal((await getLead(lead._id)).hotScore, 35);
  });

  test("follow Convocore's upserts too (inserted, then changed by the same client id)", async () => {
    const lead = await newLead();
    await upsertActivities(lead._id, [{ id: 'up-1', type: 'Message', responded: true }, { id: 'up-2', type: 'Demo' }]);
    assert.deepEqual(await counts(lead._id), { kept: '1/0', counted: '1/0' });
    await upsertActivities(lead._id, [{ id: 'up-1', type: 'Message', responded: false }, { id: 'up-2', type: 'Demo', completed: true }]);
    assert.deepEqual(await counts(lead._id), { kept: '0/1', counted: '0/1' });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertNumbered } from '../src/db/bulk.ts';
import {
  createLead as createLeadDirect,
  findLeadByContact,
  findLeadByPhone,
  findLeadBySeq,
  updateLead,
} from '../src/modules/leads/service.ts';
import { SEARCH_WINDOW } from '../src/modules/leads/store.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { addUser, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let app: TestApp;
let admin: Account;
let other: Account;
let phoneCounter = 2000;

/** A fresh, realistic New York number for each lead so tests never collide on dedupe. */
const nextPhone = () => `+1 212 555 ${String(phoneCounter++).padStart(4, '0')}`;

before(async () => {
  app = await startApp();
  admin = await registerOrganization(app, 'Acme');
  other = await registerOrganization(app, 'Rival');
});
after(() => app.close());

async function createLead(body: Record<string, unknown> = {}, account = admin) {
  const res = await app.request('POST', '/api/leads', { token: account.token, body: { phone: nextPhone(), ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

const patch = (id: string, body: unknown, headers?: Record<string, string>) =>
  app.request('PATCH', `/api/leads/${id}`, { token: admin.token, body, headers });

describe('creating leads', () => {
  test('answers 201 with the lead: E.164 phone, derived name, first stage of the default pipeline, version 1', async () => {
    const res = await app.request('POST', '/api/leads', {
      token: admin.token,
      body: { firstName: 'Ada', lastName: 'Lovelace', phone: '(212) 555-0199', email: 'Ada@Example.com', timezone: 'America/New_York', source: 'web' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.success, true);
    const lead = res.body.data;
    assert.match(lead._id, /^[0-9a-f]{24}$/);
    assert.equal(lead.phone, '+12125550199');
    assert.equal(lead.name, 'Ada Lovelace');
    assert.equal(lead.stageName, 'New Lead');
    assert.equal(lead.status, 'created');
    assert.equal(lead.version, 1);
    assert.equal(lead.ownerId, admin.userId);
    assert.equal(lead.hotLabel, 'cold');
    assert.equal(res.headers.get('etag'), '"1"');
    assert.equal(lead.dedupeKey, undefined, 'the dedupe key is internal');
  });

  test('phone formats normalise to E.164; impossible numbers answer 400 naming phone', async () => {
    const cases: [string, string][] = [
      ['+1 (212) 555-0123', '+12125550123'],
      ['212.555.0124', '+12125550124'],
      ['0044 20 7946 0958', '+442079460958'],
      ['+44 20 7946 0959', '+442079460959'],
      ['+1 (555) 555-5555', '+15555555555'],
    ];
    for (const [input, e164] of cases) {
      const lead = await createLead({ phone: input });
      assert.equal(lead.phone, e164, input);
    }
    for (const bad of ['12', 'call me', '+1 212 555 01234567']) {
      const res = await app.request('POST', '/api/leads', { token: admin.token, body: { phone: bad } });
      assert.equal(res.status, 400, bad);
      assert.match(res.body.error, /phone/);
    }
  });

  test('email and timezone are validated', async () => {
    const email = await app.request('POST', '/api/leads', { token: admin.token, body: { email: 'not-an-email' } });
    assert.equal(email.status, 400);
    assert.match(email.body.error, /email/);
    const zone = await app.request('POST', '/api/leads', { token: admin.token, body: { phone: nextPhone(), timezone: 'Mars/Olympus' } });
    assert.equal(zone.status, 400);
    assert.match(zone.body.error, /timezone/);
  });

  test('unknown top-level fields answer 400 listing each of them', async () => {
    const res = await app.request('POST', '/api/leads', { token: admin.token, body: { phone: nextPhone(), colour: 'red', size: 3 } });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /colour/);
    assert.match(res.body.error, /size/);
    const update = await patch((await createLead())._id, { nickname: 'x' });
    assert.equal(update.status, 400);
    assert.match(update.body.error, /nickname/);
  });

  test('a duplicate phone (any format) or, without phone, email answers 409 with the existing id', async () => {
    const lead = await createLead({ phone: '+1 212 555 0188' });
    const dup = await app.request('POST', '/api/leads', { token: admin.token, body: { phone: '(212) 555-0188' } });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.body, { success: false, error: 'Lead already exists', data: { id: lead._id } });

    const byEmail = await app.request('POST', '/api/leads', { token: admin.token, body: { email: 'dup@example.com' } });
    assert.equal(byEmail.status, 201);
    const again = await app.request('POST', '/api/leads', { token: admin.token, body: { email: 'DUP@example.com' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.data.id, byEmail.body.data._id);

    // another organization may hold the same phone
    const elsewhere = await app.request('POST', '/api/leads', { token: other.token, body: { phone: '+1 212 555 0188' } });
    assert.equal(elsewhere.status, 201);
    // a deleted lead frees its phone
    assert.equal((await app.request('DELETE', `/api/leads/${lead._id}`, { token: admin.token })).status, 200);
    assert.equal((await app.request('POST', '/api/leads', { token: admin.token, body: { phone: '+1 212 555 0188' } })).status, 201);
  });

  test('two concurrent creates of one phone: exactly one 201 and one 409', async () => {
    const phone = nextPhone();
    const results = await Promise.all([0, 1].map(() => app.request('POST', '/api/leads', { token: admin.token, body: { phone } })));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409]);
    const created = results.find((r) => r.status === 201)!;
    const conflict = results.find((r) => r.status === 409)!;
    assert.equal(conflict.body.data.id, created.body.data._id);
  });

  test('status: clients may set created, completed, reached-max-retries; system statuses answer 400 saying so', async () => {
    const lead = await createLead({ status: 'completed' });
    assert.equal(lead.status, 'completed');
    const system = await patch(lead._id, { status: 'scheduled' });
    assert.equal(system.status, 400);
    assert.match(system.body.error, /assigned automatically/);
    const unknown = await patch(lead._id, { status: 'banana' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /status/);
    assert.equal((await patch(lead._id, { status: 'reached-max-retries' })).body.data.status, 'reached-max-retries');
  });
});

describe('updating leads', () => {
  test('additionalInfo merges as RFC 7396: adds, replaces, null removes, untouched keys kept, nested objects merge', async () => {
    const lead = await createLead({ additionalInfo: { keep: 1, replace: 'old', drop: true, nested: { a: 1, b: 2 } } });
    const res = await patch(lead._id, { additionalInfo: { replace: 'new', drop: null, added: [1, 2], nested: { b: null, c: 3 } } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.additionalInfo, { keep: 1, replace: 'new', added: [1, 2], nested: { a: 1, c: 3 } });
  });

  test('100 concurrent PATCHes each adding a different key leave all 100 keys', async () => {
    const lead = await createLead({ additionalInfo: { base: true } });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => patch(lead._id, { additionalInfo: { [`key${i}`]: i } })),
    );
    assert.ok(results.every((r) => r.status === 200));
    const final = await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token });
    assert.equal(Object.keys(final.body.data.additionalInfo).length, 101);
    for (let i = 0; i < 100; i++) assert.equal(final.body.data.additionalInfo[`key${i}`], i);
    assert.equal(final.body.data.version, 101);
  });

  test('__proto__ and constructor keys are stored as plain data', async () => {
    const lead = await createLead();
    const res = await app.request('PATCH', `/api/leads/${lead._id}`, {
      token: admin.token,
      raw: `{"additionalInfo":{"__proto__":{"polluted":true},"constructor":"x"}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    const fetched = await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token });
    assert.match(fetched.text, /"__proto__":\{"polluted":true\}/);
    assert.match(fetched.text, /"constructor":"x"/);
  });

  test('additionalInfo is bounded: key count, key length and size answer a clear 400, nothing written', async () => {
    const lead = await createLead();
    const tooMany = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, i]));
    const many = await patch(lead._id, { additionalInfo: tooMany });
    assert.equal(many.status, 400);
    assert.match(many.body.error, /additionalInfo.*200 keys/);
    const long = await patch(lead._id, { additionalInfo: { ['x'.repeat(101)]: 1 } });
    assert.equal(long.status, 400);
    assert.match(long.body.error, /additionalInfo/);
    const big = await patch(lead._id, { additionalInfo: { blob: 'x'.repeat(70_000) } });
    assert.equal(big.status, 400);
    assert.match(big.body.error, /additionalInfo/);
    // the total stays bounded across several merges too
    const half = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`a${i}`, i]));
    assert.equal((await patch(lead._id, { additionalInfo: half })).status, 200);
    const more = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`b${i}`, i]));
    const over = await patch(lead._id, { additionalInfo: more });
    assert.equal(over.status, 400);
    assert.match(over.body.error, /additionalInfo/);
    const current = await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token });
    assert.equal(Object.keys(current.body.data.additionalInfo).length, 150);
  });

  test('If-Match or body version makes an update conditional: stale → 412, current applies', async () => {
    const lead = await createLead();
    const got = await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token });
    const etag = got.headers.get('etag')!;
    assert.equal(etag, '"1"');
    const first = await patch(lead._id, { source: 'a' }, { 'if-match': etag });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('etag'), '"2"');
    const stale = await patch(lead._id, { source: 'b' }, { 'if-match': etag });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.success, false);
    const staleBody = await patch(lead._id, { source: 'c', version: 1 });
    assert.equal(staleBody.status, 412);
    const fresh = await patch(lead._id, { source: 'd', version: 2 });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.data.source, 'd');
    const unconditional = await patch(lead._id, { source: 'e' });
    assert.equal(unconditional.body.data.version, 4);
    const bad = await patch(lead._id, { source: 'f' }, { 'if-match': 'yesterday' });
    assert.equal(bad.status, 400);
  });

  test('agentId can be set once and never changed', async () => {
    const agent = await app.request('POST', '/api/agents', { token: admin.token, body: { name: `Agent ${nextPhone()}` } });
    assert.equal(agent.status, 201, agent.text);
    const agentId = agent.body.data._id ?? agent.body.data.id;
    const second = await app.request('POST', '/api/agents', { token: admin.token, body: { name: `Agent ${nextPhone()}` } });
    const secondId = second.body.data._id ?? second.body.data.id;
    const lead = await createLead();
    assert.equal((await patch(lead._id, { agentId })).body.data.agentId, agentId);
    assert.equal((await patch(lead._id, { agentId })).status, 200, 'the same value is not a change');
    const change = await patch(lead._id, { agentId: secondId });
    assert.equal(change.status, 400);
    assert.match(change.body.error, /agentId/);
    const foreign = await app.request('POST', '/api/leads', { token: other.token, body: { phone: nextPhone(), agentId } });
    assert.equal(foreign.status, 400, 'another organization\'s agent does not exist for this one');
    assert.match(foreign.body.error, /agentId/);
  });

  test('changing the phone to another lead\'s phone answers 409 with that lead\'s id', async () => {
    const a = await createLead();
    const b = await createLead();
    const res = await patch(b._id, { phone: a.phone });
    assert.equal(res.status, 409);
    assert.equal(res.body.data.id, a._id);
    const ok = await patch(b._id, { phone: nextPhone() });
    assert.equal(ok.status, 200);
  });

  test('a stage change writes a Stage Change activity and a stage-history row; by name or id', async () => {
    const lead = await createLead({ source: 'facebook' });
    const res = await patch(lead._id, { stageId: 'Contacted' });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.stageName, 'Contacted');
    const stageId = res.body.data.stageId;
    const activities = await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token });
    const change = activities.body.data.find((a: any) => a.type === 'Stage Change');
    assert.ok(change, 'Stage Change activity');
    assert.equal(change.metadata.fromStage, 'New Lead');
    assert.equal(change.metadata.toStage, 'Contacted');
    assert.equal(change.metadata.by, admin.email);
    const history = await app.db.query<any>(
      `SELECT from_stage_id, to_stage_id, source, changed_by FROM stage_history WHERE lead_id = $1 ORDER BY id`,
      [lead._id],
    );
    assert.equal(history.length, 2, 'creation and the change');
    assert.equal(history[0].from_stage_id, null);
    assert.equal(history[1].from_stage_id, lead.stageId);
    assert.equal(history[1].to_stage_id, stageId);
    assert.equal(history[1].source, 'facebook');
    // the same stage again is not a change (an accepted PATCH, so the missing row is not a refusal's)
    const same = await patch(lead._id, { stageId });
    assert.equal(same.status, 200, same.text);
    assert.equal(same.body.data.stageId, stageId);
    const again = await app.db.query(`SELECT 1 FROM stage_history WHERE lead_id = $1`, [lead._id]);
    assert.equal(again.length, 2);
    const missing = await patch(lead._id, { stageId: 'Nowhere' });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /stageId/);
  });

  test('an assignment writes a Handoff activity; the assignee filter finds the lead', async () => {
    const rep = await addUser(app, admin);
    const lead = await createLead();
    const res = await patch(lead._id, { assignedTo: { userId: rep.userId, name: 'Rita Rep', note: 'hot one' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.assignedTo.userId, rep.userId);
    // name and email are the assignment's as the client gave them (seed 004), not read from the user
    assert.equal(res.body.data.assignedTo.name, 'Rita Rep');
    assert.equal(res.body.data.assignedTo.email, null);
    assert.equal(res.body.data.assignedTo.status, 'pending');
    assert.equal(res.body.data.assignedTo.assignedAt, app.clock.now().toISOString());
    const activities = await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token });
    const handoffs = activities.body.data.filter((a: any) => a.type === 'Handoff');
    assert.equal(handoffs.length, 1);
    assert.equal(handoffs[0].metadata.to.userId, rep.userId);
    // changing only the assignment's status is not a new handoff (an accepted PATCH, so the missing row is not a refusal's)
    const accepted = await patch(lead._id, { assignedTo: { userId: rep.userId, status: 'accepted' } });
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.body.data.assignedTo.userId, rep.userId);
    assert.equal(accepted.body.data.assignedTo.status, 'accepted');
    const after = await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token });
    assert.equal(after.body.data.filter((a: any) => a.type === 'Handoff').length, 1);
    const list = await app.request('GET', `/api/leads?assignee=${rep.userId}`, { token: admin.token });
    assert.deepEqual(list.body.data.leads.map((l: any) => l._id), [lead._id]);
  });

  test("assignedTo.userId must be a user of the organization: another organization's user answers exactly as a missing one, and nothing is written", async () => {
    const foreignRep = await addUser(app, other);
    const ownRep = await addUser(app, admin);
    const lead = await createLead();
    const read = async () => (await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token })).body.data;
    const timeline = async () => (await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token })).body.data;
    const before = { lead: await read(), timeline: await timeline() };
    // the same answer as an unknown agentId's, naming the field
    const refused = {
      success: false,
      error: 'assignedTo.userId does not exist',
      details: [{ field: 'assignedTo.userId', message: 'assignedTo.userId does not exist' }],
    };
    for (const userId of [foreignRep.userId, '0123456789abcdef01234567', 'rep-7']) {
      const res = await patch(lead._id, { assignedTo: { userId, name: 'Borrowed' }, firstName: 'Changed' });
      assert.equal(res.status, 400, `${userId}: ${res.text}`);
      assert.deepEqual(res.body, refused, userId);
      const created = await app.request('POST', '/api/leads', { token: admin.token, body: { phone: nextPhone(), assignedTo: { userId } } });
      assert.equal(created.status, 400, `${userId}: ${created.text}`);
      assert.deepEqual(created.body, refused, userId);
    }
    assert.deepEqual({ lead: await read(), timeline: await timeline() }, before);
    const listed = await app.request('GET', '/api/leads?limit=200', { token: admin.token });
    assert.ok(!listed.text.includes('Borrowed') && !listed.text.includes(foreignRep.userId), 'no lead was created or assigned');
    // the control: the organization's own user is accepted
    const own = await patch(lead._id, { assignedTo: { userId: ownRep.userId } });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body.data.assignedTo.userId, ownRep.userId);
  });

  test('every change is in the event log with who, when, old and new values', async () => {
    const lead = await createLead({ firstName: 'Old', additionalInfo: { a: 1 } });
    app.clock.advance(60_000);
    await patch(lead._id, { firstName: 'New', additionalInfo: { a: 2, b: 3 } });
    const res = await app.request('GET', `/api/leads/${lead._id}/events`, { token: admin.token });
    assert.equal(res.status, 200);
    const [created, updated] = res.body.data;
    assert.equal(created.kind, 'created');
    assert.equal(updated.kind, 'updated');
    assert.equal(updated.actor, admin.email);
    assert.equal(updated.actorUserId, admin.userId);
    assert.equal(updated.at, app.clock.now().toISOString());
    assert.deepEqual(updated.changes.firstName, { from: 'Old', to: 'New' });
    assert.deepEqual(updated.changes.name, { from: 'Old', to: 'New' });
    assert.deepEqual(updated.changes.additionalInfo, { from: { a: 1, b: null }, to: { a: 2, b: 3 } });
  });

  test('the event log pages oldest first with after = the last id seen', async () => {
    const lead = await createLead({ firstName: 'Page0' });
    for (let i = 1; i <= 4; i++) await patch(lead._id, { firstName: `Page${i}` });
    const page = (query: string) => app.request('GET', `/api/leads/${lead._id}/events${query}`, { token: admin.token });
    const all = (await page('')).body.data;
    assert.equal(all.length, 5);
    const first = (await page('?limit=2')).body.data;
    assert.deepEqual(first.map((e: any) => e.id), all.slice(0, 2).map((e: any) => e.id));
    const second = (await page(`?limit=2&after=${first[1].id}`)).body.data;
    assert.deepEqual(second.map((e: any) => e.id), all.slice(2, 4).map((e: any) => e.id));
    const last = (await page(`?limit=2&after=${second[1].id}`)).body.data;
    assert.deepEqual(last.map((e: any) => e.changes.firstName.to), ['Page4']);
    for (const bad of ['?limit=0', '?limit=501', '?after=-1', '?limit=abc', '?page=2']) {
      const res = await page(bad);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.success, false);
    }
  });

  test('an explicit hotScore wins and the label follows it', async () => {
    const lead = await createLead();
    assert.deepEqual(
      ((r) => [r.hotScore, r.hotLabel])((await patch(lead._id, { hotScore: 85 })).body.data),
      [85, 'hot'],
    );
    assert.equal((await patch(lead._id, { hotScore: 40 })).body.data.hotLabel, 'warm');
    assert.equal((await patch(lead._id, { hotScore: 39 })).body.data.hotLabel, 'cold');
    assert.equal((await patch(lead._id, { hotScore: 101 })).status, 400);
    // it stays until engagement changes: a rename keeps it, a stage change recomputes it
    assert.equal((await patch(lead._id, { firstName: 'Renamed' })).body.data.hotScore, 39);
    const moved = (await patch(lead._id, { stageId: 'Contacted' })).body.data;
    assert.equal(moved.hotScore, 5, 'stage 1 of 0..5: 25 × 1/5');
    assert.equal(moved.hotLabel, 'cold');
  });
});

describe('deleting and listing', () => {
  test('DELETE is soft: gone from the API, the row kept', async () => {
    const lead = await createLead();
    const res = await app.request('DELETE', `/api/leads/${lead._id}`, { token: admin.token });
    assert.equal(res.status, 200);
    assert.equal((await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token })).status, 404);
    assert.equal((await patch(lead._id, { source: 'x' })).status, 404);
    assert.equal((await app.request('DELETE', `/api/leads/${lead._id}`, { token: admin.token })).status, 404);
    const rows = await app.db.query(`SELECT deleted_at FROM leads WHERE id = $1`, [lead._id]);
    assert.equal(rows.length, 1);
  });

  test('cursor pagination walks every lead exactly once, newest first, stable under inserts', async () => {
    const fresh = await registerOrganization(app, 'Pager');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await createLead({}, fresh))._id);
      app.clock.advance(i % 2 === 0 ? 0 : 1000); // some share a created_at
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query: string = `/api/leads?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.request('GET', query, { token: fresh.token });
      assert.equal(res.status, 200);
      seen.push(...res.body.data.leads.map((l: any) => l._id));
      if (page === 0) await createLead({}, fresh); // a new lead does not shift later pages
      cursor = res.body.data.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, [...ids].reverse());
    const bad = await app.request('GET', '/api/leads?cursor=garbage', { token: fresh.token });
    assert.equal(bad.status, 400);
  });

  test('filters: stage, status, source, hotLabel, created range and free text', async () => {
    const fresh = await registerOrganization(app, 'Filters');
    const start = app.clock.now().toISOString();
    const a = await createLead({ name: 'Grace Hopper', email: 'grace@navy.mil', source: 'ads', status: 'completed' }, fresh);
    app.clock.advance(10_000);
    const middle = app.clock.now().toISOString();
    const b = await createLead({ name: 'Alan Turing', phone: '+44 20 7946 0000', source: 'referral' }, fresh);
    await app.request('PATCH', `/api/leads/${b._id}`, { token: fresh.token, body: { stageId: 'Qualified', hotScore: 90 } });
    const ids = async (query: string) =>
      (await app.request('GET', `/api/leads?${query}`, { token: fresh.token })).body.data.leads.map((l: any) => l._id);
    assert.deepEqual(await ids('source=ads'), [a._id]);
    assert.deepEqual(await ids('status=completed'), [a._id]);
    assert.deepEqual(await ids('stage=Qualified'), [b._id]);
    assert.deepEqual(await ids('hotLabel=hot'), [b._id]);
    assert.deepEqual(await ids(`createdFrom=${encodeURIComponent(start)}&createdTo=${encodeURIComponent(middle)}`), [a._id]);
    assert.deepEqual(await ids('q=hopper'), [a._id]);
    assert.deepEqual(await ids('q=navy.mil'), [a._id]);
    assert.deepEqual(await ids('q=7946'), [b._id]);
    assert.deepEqual(await ids('q=%25'), [], 'a % is matched literally');
  });

  test('free text finds a rare match beyond the newest leads, and pages a common one in order', async () => {
    const fresh = await registerOrganization(app, 'Search');
    const oldest = await createLead({ name: 'Zebulon Quill' }, fresh);
    app.clock.advance(1000);
    const [stage] = await app.db.query<{ id: string; pipeline_id: string }>(
      `SELECT st.id, st.pipeline_id FROM pipeline_stages st JOIN pipelines p ON p.id = st.pipeline_id
        WHERE p.organization_id = $1 AND p.is_default AND st.position = 0`,
      [fresh.organizationId],
    );
    // more leads than the search reads in listing order before it asks the trigram index
    const now = app.clock.now().getTime();
    await insertNumbered(
      app.db,
      'leads',
      fresh.organizationId,
      ['id', 'name', 'pipeline_id', 'stage_id', 'created_at', 'updated_at'],
      Array.from({ length: SEARCH_WINDOW + 100 }, (_, k) => ({
        id: `bb${(k + 1).toString(16).padStart(22, '0')}`,
        name: `Bulk lead ${k + 1}`,
        pipeline_id: stage.pipeline_id,
        stage_id: stage.id,
        created_at: new Date(now + k + 1),
        updated_at: new Date(now),
      })),
    );
    const search = (query: string) => app.request('GET', `/api/leads?${query}`, { token: fresh.token });
    const rare = await search('q=zebulon');
    assert.deepEqual(rare.body.data.leads.map((l: any) => l._id), [oldest._id]);
    const common = await search('q=bulk%20lead&limit=3');
    assert.deepEqual(common.body.data.leads.map((l: any) => l.name), [
      `Bulk lead ${SEARCH_WINDOW + 100}`,
      `Bulk lead ${SEARCH_WINDOW + 99}`,
      `Bulk lead ${SEARCH_WINDOW + 98}`,
    ]);
    const next = await search(`q=bulk%20lead&limit=2&cursor=${common.body.data.nextCursor}`);
    assert.deepEqual(next.body.data.leads.map((l: any) => l.name), [`Bulk lead ${SEARCH_WINDOW + 97}`, `Bulk lead ${SEARCH_WINDOW + 96}`]);
  });
});

describe('tenant isolation', () => {
  test('another organization\'s lead answers 404 on every lead route, and malformed ids too', async () => {
    const lead = await createLead();
    const note = await app.request('POST', `/api/leads/${lead._id}/activities`, { token: admin.token, body: { type: 'Note', note: 'mine' } });
    const routes: [string, string, unknown?][] = [
      ['PATCH', `/api/leads/${lead._id}/activities/${note.body.data.id}`, { note: 'stolen' }],
      ['GET', `/api/leads/${lead._id}`],
      ['PATCH', `/api/leads/${lead._id}`, { source: 'stolen' }],
      ['DELETE', `/api/leads/${lead._id}`],
      ['GET', `/api/leads/${lead._id}/events`],
      ['GET', `/api/leads/${lead._id}/activities`],
      ['POST', `/api/leads/${lead._id}/activities`, { type: 'Note', note: 'x' }],
    ];
    for (const [method, path, body] of routes) {
      const res = await app.request(method, path, { token: other.token, body });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(res.body, { success: false, error: 'Lead not found' });
      const malformed = await app.request(method, path.replace(lead._id, 'not-an-id'), { token: admin.token, body });
      assert.equal(malformed.status, 404, `${method} malformed`);
    }
    // the other organization has a lead of its own, so its list is not empty and the check below checks something
    const theirs = await createLead({}, other);
    const list = await app.request('GET', '/api/leads?limit=200', { token: other.token });
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body.data.leads.some((l: any) => l._id === theirs._id), 'the other organization lists its own lead');
    assert.ok(list.body.data.leads.every((l: any) => l.organizationId === other.organizationId));
    assert.ok(!list.body.data.leads.some((l: any) => l._id === lead._id), 'this organization\'s lead is not in it');
    const untouched = await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token });
    assert.equal(untouched.body.data.source, null);
    assert.equal(untouched.body.data.version, 2, 'only the owner\'s note changed it');
    const timeline = await app.request('GET', `/api/leads/${lead._id}/activities`, { token: admin.token });
    assert.deepEqual(timeline.body.data.find((a: any) => a.type === 'Note').notesHistory.map((n: any) => n.text), ['mine']);
  });

  test('another organization\'s stage never names a lead\'s or an application\'s stage, even when a row points at it', async () => {
    // No route writes such a row; a direct write stands for a bug elsewhere, which the stage joins must not turn into a leak.
    const theirs = await createLead({}, other);
    await app.db.query(`UPDATE pipeline_stages SET name = 'Rival secret stage' WHERE id = $1`, [theirs.stageId]);
    const lead = await createLead({ firstName: 'Misfiled' });
    await app.db.query(`UPDATE leads SET stage_id = $1 WHERE id = $2`, [theirs.stageId, lead._id]);
    await app.db.query(
      `INSERT INTO applications (id, organization_id, lead_id, name, stage_id, created_at, updated_at)
       VALUES ('0000000000000000000000a1', $1, $2, 'Misfiled application', $3, now(), now())`,
      [admin.organizationId, lead._id, theirs.stageId],
    );
    const answers = [
      (await app.request('GET', `/api/leads/${lead._id}`, { token: admin.token })).body.data,
      (await patch(lead._id, { source: 'web' })).body.data,
      (await app.request('GET', '/api/leads?limit=200', { token: admin.token })).body.data.leads.find((l: any) => l._id === lead._id),
      (await app.request('GET', '/api/leads?q=Misfiled', { token: admin.token })).body.data.leads[0],
      (await app.request('GET', '/api/applications/0000000000000000000000a1', { token: admin.token })).body.data,
    ];
    for (const answer of answers) assert.equal(answer.stageName, null, JSON.stringify(answer));
  });

  test('routes need credentials', async () => {
    assert.equal((await app.request('GET', '/api/leads')).status, 401);
  });
});

describe('service interface used by the dialects, intake and follow-ups', () => {
  const actor = () => ({ organizationId: admin.organizationId, userId: admin.userId, email: admin.email });

  test('findLeadByPhone reads any format; findLeadByContact falls back to email only without a phone', async () => {
    const lead = await createLead({ phone: '+1 212 555 0177', email: 'Finder@Example.com' });
    assert.equal((await findLeadByPhone(app.ctx, admin.organizationId, '(212) 555-0177'))?.id, lead._id);
    assert.equal((await findLeadByContact(app.ctx, admin.organizationId, { email: 'finder@example.com' }))?.id, lead._id);
    assert.equal(await findLeadByContact(app.ctx, admin.organizationId, { phone: '+1 212 555 0178', email: 'finder@example.com' }), undefined);
    assert.equal(await findLeadByPhone(app.ctx, other.organizationId, '(212) 555-0177'), undefined, 'scoped by organization');
  });

  test('findLeadBySeq finds by the integer id, 404 for another organization', async () => {
    const lead = await createLead();
    assert.equal((await findLeadBySeq(app.ctx, actor(), lead.seq)).id, lead._id);
    await assert.rejects(findLeadBySeq(app.ctx, { organizationId: other.organizationId }, lead.seq), { status: 404 });
  });

  test('dedupe options: an explicit key scopes duplicates, null allows them', async () => {
    const phone = nextPhone();
    const a = await createLeadDirect(app.ctx, actor(), { phone }, { dedupeKey: `campaign-1:${phone}` });
    const b = await createLeadDirect(app.ctx, actor(), { phone }, { dedupeKey: `campaign-2:${phone}` });
    assert.notEqual(a.id, b.id);
    await assert.rejects(createLeadDirect(app.ctx, actor(), { phone }, { dedupeKey: `campaign-1:${phone}` }), (error: any) => {
      assert.equal(error.status, 409);
      assert.deepEqual(error.data, { id: a.id });
      return true;
    });
    const c = await createLeadDirect(app.ctx, actor(), { phone }, { dedupeKey: null });
    const d = await createLeadDirect(app.ctx, actor(), { phone }, { dedupe: 'allow' });
    assert.notEqual(c.id, d.id);
  });

  test('updateLead with {system: true} writes system statuses that clients may not', async () => {
    const lead = await createLead();
    const scheduled = await updateLead(app.ctx, { organizationId: admin.organizationId }, lead._id, { status: 'scheduled' }, { system: true });
    assert.equal(scheduled.status, 'scheduled');
    const events = await app.request('GET', `/api/leads/${lead._id}/events`, { token: admin.token });
    assert.equal(events.body.data.at(-1).actor, 'system');
    await assert.rejects(updateLead(app.ctx, actor(), lead._id, { status: 'blacklisted' }), { status: 400 });
  });
});

describe('DEFAULT_COUNTRY', () => {
  let uk: TestApp;
  before(async () => {
    uk = await startApp({ defaultCountry: 'GB' });
  });
  after(() => uk.close());

  test("is the country in which a new organization reads phone numbers written without a country code", async () => {
    const account = await registerOrganization(uk, 'London Leads');
    const res = await uk.request('POST', '/api/leads', { token: account.token, body: { firstName: 'Ada', phone: '020 7946 0018' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.data.phone, '+442079460018');
    const american = await uk.request('POST', '/api/leads', { token: account.token, body: { firstName: 'Abe', phone: '+1 212 555 0100' } });
    assert.equal(american.body.data.phone, '+12125550100', 'a number with its country code keeps it');
  });
});


describe('a lead created with a cadence', () => {
  test('is held to the rules a PATCH of the same cadence is: refused with the same words, nothing created', async () => {
    const lead = await createLead();
    const refusals: Record<string, unknown>[] = [
      { followUpConfig: { '1': { hours: 2, channel: 'call' } } },
      { followUpConfig: { '1': { hours: 2, channel: 'text', voicemailEnabled: true } } },
      { followUpConfig: { '1': { hours: 2, channel: 'text', strategyIds: 'auto' } } },
      { followUpConfig: { '1': { hours: 2, channel: 'text' } }, followUpStep: 7 },
      { followUpStep: 0 },
    ];
    const count = async () => (await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM leads WHERE organization_id = $1', [admin.organizationId]))[0].n;
    const before = await count();
    for (const body of refusals) {
      const patched = await patch(lead._id, body);
      assert.equal(patched.status, 400, `PATCH ${JSON.stringify(body)}: ${patched.text}`);
      const created = await app.request('POST', '/api/leads', { token: admin.token, body: { phone: nextPhone(), ...body } });
      assert.equal(created.status, 400, `POST ${JSON.stringify(body)}: ${created.text}`);
      assert.equal(created.body.error, patched.body.error);
    }
    assert.equal(await count(), before);

    const good = await createLead({ useStrategiesForFollowUps: true, followUpConfig: { '1': { hours: 2, channel: 'text', strategyIds: 'auto' } }, followUpStep: 1 });
    assert.equal(good.followUpStep, 1);
  });

  test('is timed as the same PATCH would time it, and the worker fires the step when it comes due', async () => {
    app.clock.set('2026-06-01T12:00:00Z'); // a Monday, inside the default window
    const timed = await createLead({ followUpConfig: { '1': { hours: 2, channel: 'text' } }, followUpStep: 1 });
    assert.deepEqual([timed.followUpStep, timed.nextFollowUpAt], [1, '2026-06-01T14:00:00.000Z']);
    const longTerm = await createLead({ followUpStep: -2 });
    assert.deepEqual([longTerm.followUpStep, longTerm.nextFollowUpAt], [-2, '2026-07-01T12:00:00.000Z']); // 720 h
    const stopped = await createLead({ followUpConfig: { '1': { hours: 2, channel: 'text' } }, followUpStep: -1 });
    assert.deepEqual([stopped.followUpStep, stopped.nextFollowUpAt], [-1, null]);

    app.clock.set('2026-06-01T14:00:00Z');
    while ((await runDispatcherOnce(app.ctx)) > 0);
    const messages = await app.request('GET', `/api/leads/${timed._id}/messages`, { token: admin.token });
    assert.deepEqual(messages.body.data.map((m: { origin: string; followUpStep: number }) => [m.origin, m.followUpStep]), [['follow_up', 1]]);
  });
});

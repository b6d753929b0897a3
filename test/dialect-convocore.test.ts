import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

// Seed 004 (Convocore v3 "Update Lead") walked line by line, plus create, get, list, delete.

let app: TestApp;
let acme: Account;
let key: string;
let otherKey: string;
let agentId: string;
let secondAgentId: string;
let foreignAgentId: string;
before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  key = await apiKeyFor(app, acme);
  const other = await registerOrganization(app, 'Other');
  otherKey = await apiKeyFor(app, other);
  const agent = async (token: string, name: string) => (await app.request('POST', '/api/agents', { token, body: { name } })).body.data._id as string;
  agentId = await agent(acme.token, 'Chat Bot');
  secondAgentId = await agent(acme.token, 'Other Bot');
  foreignAgentId = await agent(other.token, 'Chat Bot');
});
after(() => app.close());

const call = (method: string, path: string, body?: unknown, token: string | null = key) => app.request(method, `/convocore/v3${path}`, { token: token ?? undefined, body });
let phoneCounter = 3000;
const nextPhone = () => `+1312555${String(phoneCounter++).padStart(4, '0')}`;
const create = async (lead: Record<string, unknown> = {}, token = key, agent = agentId) => {
  const res = await call('POST', '/leads', { lead: { agentId: agent, name: 'John Smith', phone: nextPhone(), ...lead } }, token);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
};
const update = (id: string, lead: Record<string, unknown>, agent = agentId) => call('PATCH', `/leads/${id}`, { agentId: agent, lead });
const assertError = (res: { status: number; body: any }, status: number, code: string, pattern?: RegExp) => {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code);
  assert.equal(typeof res.body.message, 'string');
  for (const key of Object.keys(res.body)) assert.ok(['message', 'code', 'issues'].includes(key), `unexpected key ${key}`);
  if (pattern) assert.match(JSON.stringify(res.body.issues ?? res.body.message), pattern);
};

describe('Convocore authentication', () => {
  test('Authorization: Bearer <API key>; missing or wrong → 401 UNAUTHORIZED', async () => {
    for (const token of [null, 'nope']) assertError(await call('GET', `/leads?agentId=${agentId}`, undefined, token), 401, 'UNAUTHORIZED');
  });
});

describe('POST /leads', () => {
  test('lead.agentId is required; an unknown or foreign agent is NOT_FOUND', async () => {
    assertError(await call('POST', '/leads', { lead: { name: 'x' } }), 400, 'BAD_REQUEST', /lead\.agentId/);
    assertError(await call('POST', '/leads', { lead: { agentId: foreignAgentId, name: 'x' } }), 404, 'NOT_FOUND');
    assertError(await call('POST', '/leads', { lead: { agentId: 'bad', name: 'x' } }), 404, 'NOT_FOUND');
  });

  test('metaData.source defaults to "chat"; the answer is the lead in Convocore shape', async () => {
    const lead = await create({ email: 'john@example.com', metaData: { company: 'Acme' } });
    assert.match(lead.id, /^[0-9a-f]{24}$/);
    assert.equal(lead.agentId, agentId);
    assert.equal(lead.name, 'John Smith');
    assert.equal(lead.email, 'john@example.com');
    assert.deepEqual(lead.metaData, { company: 'Acme', source: 'chat', stage: 'new' });
    assert.equal(lead.ts, app.clock.now().getTime());
    // the timeline starts with the creation itself
    assert.deepEqual(lead.crmActivities.map((a: { type: string; title: string }) => [a.type, a.title]), [['System', 'Lead created']]);
    const explicit = await create({ metaData: { source: 'website' } });
    assert.equal(explicit.metaData.source, 'website');
  });
});

describe('POST /leads writes the lead and its crmActivities together', () => {
  test('a create whose crmActivities cannot be written leaves no lead behind', async () => {
    const listed = async () => (await call('GET', `/leads?agentId=${secondAgentId}&limit=100`)).body.data.length;
    const before = await listed();
    // the database refuses a lone surrogate in JSONB: the activity fails after the lead is inserted
    const crmActivities = [{ id: 'first-note', type: 'Note', note: 'lone \ud800 surrogate' }];
    const res = await call('POST', '/leads', { lead: { agentId: secondAgentId, name: 'Half Written', phone: nextPhone(), crmActivities } });
    assertError(res, 400, 'BAD_REQUEST');
    assert.equal(await listed(), before);
  });
});

describe('GET /leads and /leads/{id}', () => {
  test('agentId is required; only that agent\'s leads are listed', async () => {
    assertError(await call('GET', '/leads'), 400, 'BAD_REQUEST', /agentId/);
    const mine = await create({}, key, secondAgentId);
    const res = await call('GET', `/leads?agentId=${secondAgentId}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.deepEqual(res.body.data.map((l: { id: string }) => l.id), [mine.id]);
    assertError(await call('GET', `/leads?agentId=${foreignAgentId}`), 404, 'NOT_FOUND');
  });

  test('the list pages with limit and cursor, each lead with its own timeline', async () => {
    const lister = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Lister' } })).body.data._id;
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const lead = await create({}, key, lister);
      await update(lead.id, { crmActivities: [{ id: `note-${i}`, type: 'Note', title: `note ${i}` }] }, lister);
      ids.push(lead.id);
      app.clock.advance(1000);
    }
    const first = await call('GET', `/leads?agentId=${lister}&limit=2`);
    assert.equal(first.status, 200);
    assert.equal(first.body.data.length, 2);
    const second = await call('GET', `/leads?agentId=${lister}&limit=2&cursor=${first.body.nextCursor}`);
    assert.equal(second.body.nextCursor, null);
    const listed = [...first.body.data, ...second.body.data];
    assert.deepEqual(listed.map((l: { id: string }) => l.id).sort(), [...ids].sort());
    for (const lead of listed) {
      const notes = lead.crmActivities.filter((a: { type: string }) => a.type === 'Note');
      assert.deepEqual(notes.map((a: { id: string }) => a.id), [`note-${ids.indexOf(lead.id)}`]);
    }
  });

  test("a missing, malformed, agentless or another organization's lead is NOT_FOUND", async () => {
    const theirs = await create({}, otherKey, foreignAgentId);
    const agentless = await app.request('POST', '/api/leads', { token: acme.token, body: { firstName: 'No', lastName: 'Agent', phone: nextPhone() } });
    assert.equal(agentless.status, 201, agentless.text);
    const ids = [theirs.id, '0123456789abcdef01234567', 'zzz', agentless.body.data._id];
    for (const id of ids) {
      assertError(await call('GET', `/leads/${id}`), 404, 'NOT_FOUND');
      assertError(await call('PATCH', `/leads/${id}`, { agentId, lead: { name: 'x' } }), 404, 'NOT_FOUND');
      assertError(await call('DELETE', `/leads/${id}`), 404, 'NOT_FOUND');
    }
    const mine = await create();
    const got = await call('GET', `/leads/${mine.id}`);
    assert.deepEqual(got.body, { success: true, message: 'Lead retrieved successfully', data: mine });
  });
});

describe('PATCH /leads/{id} (seed 004)', () => {
  test('the documented example (with the required agentId) updates name and merges metaData.notes', async () => {
    const lead = await create({ name: 'Jane Doe', metaData: { company: 'Acme' } });
    assert.equal(lead.name, 'Jane Doe');
    const res = await update(lead.id, { name: 'John Smith', metaData: { notes: 'Follow up scheduled for next week' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.equal(typeof res.body.message, 'string');
    assert.deepEqual(Object.keys(res.body).sort(), ['data', 'message', 'success']);
    assert.equal(res.body.data.name, 'John Smith');
    assert.equal(res.body.data.metaData.notes, 'Follow up scheduled for next week');
    assert.equal(res.body.data.metaData.company, 'Acme');
    const stored = (await call('GET', `/leads/${lead.id}`)).body.data;
    assert.equal(stored.name, 'John Smith');
    assert.equal(stored.metaData.notes, 'Follow up scheduled for next week');
  });

  test('agentId and lead are both required', async () => {
    const lead = await create();
    assertError(await call('PATCH', `/leads/${lead.id}`, { lead: { name: 'John Smith' } }), 400, 'BAD_REQUEST', /agentId is required/);
    assertError(await call('PATCH', `/leads/${lead.id}`, { agentId }), 400, 'BAD_REQUEST', /lead is required/);
  });

  test('agentId must be the lead\'s agent: it can never change', async () => {
    const lead = await create();
    assertError(await update(lead.id, { name: 'Moved' }, secondAgentId), 400, 'BAD_REQUEST', /agentId/);
    assert.equal((await call('GET', `/leads/${lead.id}`)).body.data.name, 'John Smith');
  });

  test('additionalProperties: false at every level the schema says so; each issue names the key', async () => {
    const lead = await create();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ agentId, lead: {}, extra: 1 }, /extra/],
      [{ agentId, lead: { nickname: 'J' } }, /lead\.nickname/],
      [{ agentId, lead: { metaData: { favouriteColour: 'red' } } }, /lead\.metaData\.favouriteColour/],
      [{ agentId, lead: { assignedTo: { userId: 'u1', team: 'x' } } }, /lead\.assignedTo\.team/],
      [{ agentId, lead: { crmActivities: [{ type: 'Note', colour: 'red' }] } }, /lead\.crmActivities\.0\.colour/],
      [{ agentId, lead: { crmActivities: [{ type: 'Note', notesHistory: [{ text: 'a', mood: 'x' }] }] } }, /notesHistory\.0\.mood/],
    ];
    for (const [body, pattern] of cases) assertError(await call('PATCH', `/leads/${lead.id}`, body), 400, 'BAD_REQUEST', pattern);
    // activity metadata is an open object
    assert.equal((await update(lead.id, { crmActivities: [{ type: 'Note', metadata: { anything: { goes: true } } }] })).status, 200);
  });

  test('partial update: only the given fields change; email, name and phone are nullable', async () => {
    const lead = await create({ email: 'keep@example.com', metaData: { company: 'Keep' } });
    const res = await update(lead.id, { phone: '+1 (312) 555-0199' });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.phone, '+13125550199');
    assert.equal(res.body.data.email, 'keep@example.com');
    assert.equal(res.body.data.name, 'John Smith');
    assert.equal(res.body.data.metaData.company, 'Keep');
    const noPhone = await update(lead.id, { phone: null });
    assert.equal(noPhone.status, 200, noPhone.text);
    assert.equal(noPhone.body.data.phone, null);
    assert.equal(noPhone.body.data.email, 'keep@example.com');
    assert.equal((await call('GET', `/leads/${lead.id}`)).body.data.phone, null);
    const cleared = await update(lead.id, { email: null, name: null });
    assert.equal(cleared.body.data.email, null);
    assert.equal(cleared.body.data.name, null);
    assertError(await update(lead.id, { phone: 'not a phone' }), 400, 'BAD_REQUEST', /lead\.phone/);
    assertError(await update(lead.id, { email: 42 }), 400, 'BAD_REQUEST', /lead\.email/);
  });

  test('lead: {} is accepted (all fields optional) and changes nothing but ts', async () => {
    const lead = await create({
      email: 'same@example.com',
      metaData: { company: 'Same', notes: 'kept', stage: 'engaged' },
      convoId: 'c-same',
      assignedTo: { userId: acme.userId, note: 'kept' },
      lastActivityDate: 1780000000000,
      crmActivities: [{ id: 'same', type: 'Note', title: 'kept' }],
    });
    const { ts: before, ...unchanged } = (await call('GET', `/leads/${lead.id}`)).body.data;
    app.clock.advance(1000);
    const res = await update(lead.id, {});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.success, true);
    const { ts, ...after } = res.body.data;
    assert.deepEqual(after, unchanged);
    assert.equal(ts, app.clock.now().getTime());
    assert.ok(ts > before);
    const { ts: _storedTs, ...stored } = (await call('GET', `/leads/${lead.id}`)).body.data;
    assert.deepEqual(stored, unchanged);
  });

  test('metaData: every documented key is accepted; value is a number or a string', async () => {
    const lead = await create();
    const metaData = {
      address: '1 Main St', company: 'Acme', website: 'acme.test', notes: 'n', source: 'referral', currency: 'USD', value: 1200,
      expectedCloseDate: '2026-07-01', subIndustry: 'SaaS', language: 'en', linkedIn: 'in/x', facebook: 'fb/x', instagram: '@x',
      demoDate: '2026-06-10', demoTime: '10:00', demoLink: 'https://meet.test/x', lostReason: 'none',
    };
    const res = await update(lead.id, { metaData });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data.metaData, { ...metaData, stage: 'new' });
    assert.equal((await update(lead.id, { metaData: { value: '1.2k' } })).body.data.metaData.value, '1.2k');
    assertError(await update(lead.id, { metaData: { value: true } }), 400, 'BAD_REQUEST', /lead\.metaData\.value/);
  });

  test('metaData.stage: one of the 13 values, mapped onto a real pipeline stage with history', async () => {
    const lead = await create();
    assertError(await update(lead.id, { metaData: { stage: 'closed' } }), 400, 'BAD_REQUEST', /lead\.metaData\.stage/);
    for (const stage of ['new', 'engaged', 'email_sent', 'follow_up', 'info_req', 'demo_req', 'demo_conf', 'demo_done', 'proposal', 'negotiation', 'trial', 'won', 'lost']) {
      const res = await update(lead.id, { metaData: { stage } });
      assert.equal(res.status, 200, stage);
      assert.equal(res.body.data.metaData.stage, stage);
    }
    const native = await app.request('GET', `/api/leads/${lead.id}`, { token: acme.token });
    assert.equal(native.body.data.stageName, 'Lost');
    const pipelines = await app.db.query<{ name: string; stages: number }>(
      `SELECT p.name, (SELECT count(*)::int FROM pipeline_stages s WHERE s.pipeline_id = p.id) AS stages FROM pipelines p WHERE p.organization_id = $1 AND p.dialect = 'convocore'`,
      [acme.organizationId],
    );
    assert.deepEqual(pipelines, [{ name: 'Convocore', stages: 13 }]);
    const history = await app.db.query('SELECT * FROM stage_history WHERE lead_id = $1', [lead.id]);
    assert.ok(history.length >= 13, `stage history has ${history.length} rows`);
  });

  test('convoId (string or number), assignedTo, hotScore, hotLabel and lastActivityDate', async () => {
    const lead = await create();
    const res = await update(lead.id, {
      convoId: 98765,
      assignedTo: { userId: acme.userId, name: 'Rep', email: 'rep@example.com', status: 'accepted', assignedAt: '2026-06-01T10:00:00Z' },
      hotScore: 80,
      hotLabel: 'hot',
      lastActivityDate: 1780000000000,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.convoId, '98765');
    assert.equal(res.body.data.assignedTo.userId, acme.userId);
    assert.equal(res.body.data.assignedTo.status, 'accepted');
    assert.equal(res.body.data.hotScore, 80);
    assert.equal(res.body.data.hotLabel, 'hot');
    assert.equal(res.body.data.lastActivityDate, 1780000000000);
    assertError(await update(lead.id, { assignedTo: { name: 'no id' } }), 400, 'BAD_REQUEST', /lead\.assignedTo\.userId/);
    assertError(await update(lead.id, { assignedTo: { userId: '0123456789abcdef01234567' } }), 400, 'BAD_REQUEST', /lead\.assignedTo\.userId does not exist/);
    assertError(await update(lead.id, { assignedTo: { userId: 'u', status: 'later' } }), 400, 'BAD_REQUEST', /lead\.assignedTo\.status/);
    assertError(await update(lead.id, { hotLabel: 'lukewarm' }), 400, 'BAD_REQUEST', /lead\.hotLabel/);
    assertError(await update(lead.id, { hotScore: 'high' }), 400, 'BAD_REQUEST', /lead\.hotScore/);
    assertError(await update(lead.id, { lastActivityDate: 'someday' }), 400, 'BAD_REQUEST', /lead\.lastActivityDate/);
    assertError(await update(lead.id, { convoId: true }), 400, 'BAD_REQUEST', /lead\.convoId/);
  });


  test('hotScore is 0-100: 0 and 100 are accepted and read back; -1 and 101 are refused and write nothing', async () => {
    const lead = await create();
    const read = async () => (await call('GET', `/leads/${lead.id}`)).body.data;
    for (const [hotScore, hotLabel] of [[0, 'cold'], [100, 'hot']] as const) {
      const res = await update(lead.id, { hotScore });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.data.hotScore, res.body.data.hotLabel], [hotScore, hotLabel]);
      const stored = await read();
      assert.deepEqual([stored.hotScore, stored.hotLabel], [hotScore, hotLabel]);
    }
    const before = await read();
    app.clock.advance(1000);
    for (const hotScore of [-1, 101]) {
      const res = await update(lead.id, { hotScore, name: 'Changed' });
      assertError(res, 400, 'BAD_REQUEST', /lead\.hotScore must be between 0 and 100/);
      assert.deepEqual(res.body, {
        message: 'lead.hotScore must be between 0 and 100',
        code: 'BAD_REQUEST',
        issues: [{ message: 'lead.hotScore must be between 0 and 100' }],
      });
    }
    assert.deepEqual(await read(), before);
  });

  test('lastActivityDate sent as a string is accepted and read back as epoch milliseconds', async () => {
    const lead = await create();
    const res = await update(lead.id, { lastActivityDate: '2026-05-20T08:30:00Z' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.lastActivityDate, 1779265800000);
    assert.equal((await call('GET', `/leads/${lead.id}`)).body.data.lastActivityDate, 1779265800000);
  });

  test('assignedTo.assignedAt sent as a number (epoch ms) is accepted and read back as an ISO string', async () => {
    const lead = await create();
    const res = await update(lead.id, { assignedTo: { userId: acme.userId, assignedAt: 1779000000000 } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.assignedTo.assignedAt, '2026-05-17T06:40:00.000Z');
    assert.equal((await call('GET', `/leads/${lead.id}`)).body.data.assignedTo.assignedAt, '2026-05-17T06:40:00.000Z');
  });

  test('ts sent as a string is accepted; the lead reads back with ts = the time of the update', async () => {
    const lead = await create();
    app.clock.advance(1500);
    const res = await update(lead.id, { ts: '2020-01-01T00:00:00Z' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.ts, app.clock.now().getTime());
    assert.equal((await call('GET', `/leads/${lead.id}`)).body.data.ts, app.clock.now().getTime());
  });

  test('hotLabel sent alone moves hotScore just into that band; one contradicting hotScore is refused', async () => {
    const lead = await create();
    const read = async () => (await call('GET', `/leads/${lead.id}`)).body.data;
    const label = async (hotLabel: string) => {
      const res = await update(lead.id, { hotLabel });
      assert.equal(res.status, 200, res.text);
      return [res.body.data.hotScore, res.body.data.hotLabel];
    };
    assert.equal((await update(lead.id, { hotScore: 85 })).status, 200);
    assert.deepEqual(await label('cold'), [39, 'cold']);
    assert.deepEqual(await label('hot'), [70, 'hot']);
    assert.deepEqual(await label('warm'), [69, 'warm']);
    assert.deepEqual(await label('warm'), [69, 'warm'], 'a label the lead already has changes nothing');
    assert.deepEqual(await label('cold'), [39, 'cold']);
    assert.deepEqual(await label('warm'), [40, 'warm']);
    assert.deepEqual([(await read()).hotScore, (await read()).hotLabel], [40, 'warm']);

    assertError(await update(lead.id, { hotScore: 90, hotLabel: 'cold', name: 'Changed' }), 400, 'BAD_REQUEST', /lead\.hotLabel must agree with lead\.hotScore/);
    const after = await read();
    assert.deepEqual([after.hotScore, after.hotLabel, after.name], [40, 'warm', 'John Smith']);

    const created = await create({ hotLabel: 'hot' });
    assert.deepEqual([created.hotScore, created.hotLabel], [70, 'hot']);
  });
  test('assignedTo.photoUrl and assignedTo.note are accepted and stored', async () => {
    const lead = await create();
    const assignedTo = { userId: acme.userId, name: 'Rep', photoUrl: 'https://cdn.example.com/rep.png', note: 'Owns the account' };
    const res = await update(lead.id, { assignedTo });
    assert.equal(res.status, 200, res.text);
    const stored = (await call('GET', `/leads/${lead.id}`)).body.data.assignedTo;
    for (const shown of [res.body.data.assignedTo, stored]) {
      for (const [field, value] of Object.entries(assignedTo)) assert.equal(shown[field], value, field);
    }
  });

  test('ts advances on every update', async () => {
    const lead = await create();
    app.clock.advance(1500);
    const first = await update(lead.id, { metaData: { notes: 'a' } });
    assert.equal(first.body.data.ts, app.clock.now().getTime());
    assert.ok(first.body.data.ts > lead.ts);
    app.clock.advance(1500);
    const second = await update(lead.id, { ts: 1 });
    assert.equal(second.status, 200);
    assert.equal(second.body.data.ts, app.clock.now().getTime());
  });

  test('crmActivities are upserted by id and history is never dropped', async () => {
    const lead = await create();
    const first = await update(lead.id, {
      crmActivities: [
        { id: 'a1', type: 'Call', title: 'Intro call', date: '2026-06-01T09:00:00Z', firstChannel: 'Phone/Call', notesHistory: [{ text: 'first note', agentName: 'Bot' }] },
        { id: 'a2', type: 'Email', title: 'Deck sent', completed: true },
      ],
    });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.data.crmActivities.filter((a: { id: string }) => a.id.startsWith('a')).map((a: { id: string }) => a.id).sort(), ['a1', 'a2']);
    const second = await update(lead.id, {
      crmActivities: [
        { id: 'a1', type: 'Call', title: 'Intro call (rescheduled)', notesHistory: [{ text: 'second note' }] },
        { id: 'a3', type: 'Demo', dueDate: 1781000000000 },
      ],
    });
    assert.equal(second.status, 200, second.text);
    const byId = Object.fromEntries(second.body.data.crmActivities.map((a: { id: string }) => [a.id, a]));
    assert.ok(byId.a2, 'an activity left out of the patch is kept');
    assert.equal(byId.a2.completed, true);
    assert.equal(byId.a1.title, 'Intro call (rescheduled)');
    assert.equal(byId.a1.firstChannel, 'Phone/Call');
    assert.deepEqual(byId.a1.notesHistory.map((n: { text: string }) => n.text), ['first note', 'second note']);
    assert.equal(byId.a3.dueDate, 1781000000000);
    assertError(await update(lead.id, { crmActivities: [{ id: 'a4' }] }), 400, 'BAD_REQUEST', /type/);
    assertError(await update(lead.id, { crmActivities: [{ type: 'Lunch' }] }), 400, 'BAD_REQUEST', /lead\.crmActivities\.0\.type/);
    assertError(await update(lead.id, { crmActivities: [{ type: 'Note', firstChannel: 'Pigeon' }] }), 400, 'BAD_REQUEST', /firstChannel/);
  });

  test('crmActivities: notesHistory[].text is required, secondChannel is one of the channels, the four flags are booleans', async () => {
    const lead = await create();
    const before = (await call('GET', `/leads/${lead.id}`)).body.data;
    const channels = 'LinkedIn, WhatsApp, Instagram, Facebook, Email, Phone/Call, Zoom/Video, In Person, Referral, Web Chat, Unknown';
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ notesHistory: [{ agentName: 'Bot', timestamp: 1 }] }, /lead\.crmActivities\.0\.notesHistory\.0\.text is required/],
      [{ secondChannel: 'Pigeon' }, new RegExp(`lead\\.crmActivities\\.0\\.secondChannel must be one of: ${channels}`)],
      ...['completed', 'responded', 'firstEngaged', 'secondEngaged'].map(
        (flag): [Record<string, unknown>, RegExp] => [{ [flag]: 'true' }, new RegExp(`lead\\.crmActivities\\.0\\.${flag} must be boolean`)],
      ),
    ];
    for (const [fields, pattern] of refused) {
      assertError(await update(lead.id, { metaData: { notes: 'refused' }, crmActivities: [{ id: 'typed', type: 'Message', ...fields }] }), 400, 'BAD_REQUEST', pattern);
    }
    assert.deepEqual((await call('GET', `/leads/${lead.id}`)).body.data, before);

    const flags = { completed: true, responded: false, firstEngaged: true, secondEngaged: false };
    const res = await update(lead.id, { crmActivities: [{ id: 'typed', type: 'Message', secondChannel: 'WhatsApp', ...flags, notesHistory: [{ text: 'text alone is enough' }] }] });
    assert.equal(res.status, 200, res.text);
    const typed = res.body.data.crmActivities.find((a: { id: string }) => a.id === 'typed');
    assert.equal(typed.secondChannel, 'WhatsApp');
    for (const [flag, value] of Object.entries(flags)) assert.equal(typed[flag], value, flag);
    assert.deepEqual(typed.notesHistory.map((n: { text: string }) => n.text), ['text alone is enough']);
  });

  test('a refused update writes nothing: the lead and its timeline stay as they were', async () => {
    const lead = await create({ metaData: { notes: 'before' } });
    const res = await update(lead.id, { metaData: { notes: 'after' }, crmActivities: [{ id: 'x', type: 'Note', date: 'not a date' }] });
    assertError(res, 400, 'BAD_REQUEST', /crmActivities\.0\.date/);
    const after = (await call('GET', `/leads/${lead.id}`)).body.data;
    assert.equal(after.metaData.notes, 'before');
    assert.equal(after.ts, lead.ts);
    assert.deepEqual(after.crmActivities, lead.crmActivities);
  });

  test('malformed JSON, wrong content type and unknown routes answer in the Convocore envelope', async () => {
    const lead = await create();
    assertError(await app.request('PATCH', `/convocore/v3/leads/${lead.id}`, { token: key, raw: '{"agentId":', headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
    assertError(await app.request('PATCH', `/convocore/v3/leads/${lead.id}`, { token: key, raw: '<lead/>', headers: { 'content-type': 'application/xml' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    assertError(await call('GET', '/nothing'), 404, 'NOT_FOUND');
  });
});

describe('DELETE /leads/{id}', () => {
  test('deletes the lead; it is then NOT_FOUND', async () => {
    const lead = await create();
    const res = await call('DELETE', `/leads/${lead.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assertError(await call('GET', `/leads/${lead.id}`), 404, 'NOT_FOUND');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { addUser, apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createConfiguration, leadRow } from './support/intake.ts';

// Rules of issues 4 (leads) and 7 (intake) that an audit could break without any other test
// noticing: each test here fails when its rule is broken.

let app: TestApp;

// each test registers its own organization, so a listing holds exactly the leads it made
before(async () => {
  app = await startApp({ logLevel: 'error' });
});
after(() => app.close());

let phoneCounter = 4000;
/** A fresh New York number per lead, so leads never collide on dedupe. */
const nextPhone = () => `+1212555${String(phoneCounter++).padStart(4, '0')}`;

async function createLead(account: Account, body: Record<string, unknown> = {}): Promise<any> {
  const res = await app.request('POST', '/api/leads', { token: account.token, body: { phone: nextPhone(), ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

const patch = (account: Account, id: string, body: unknown) => app.request('PATCH', `/api/leads/${id}`, { token: account.token, body });

/** The ids GET /api/leads answers for a query string, sorted (the filters, not the order, are under test). */
async function listedIds(account: Account, query: string): Promise<string[]> {
  const res = await app.request('GET', `/api/leads?limit=200${query ? `&${query}` : ''}`, { token: account.token });
  assert.equal(res.status, 200, `${query}: ${res.text}`);
  return res.body.data.leads.map((lead: any) => lead._id).sort();
}

const sorted = (...ids: string[]) => [...ids].sort();
const iso = (date: Date) => encodeURIComponent(date.toISOString());

async function createAgent(account: Account, name: string): Promise<string> {
  const res = await app.request('POST', '/api/agents', { token: account.token, body: { name } });
  assert.equal(res.status, 201, res.text);
  return res.body.data._id;
}

async function createCampaign(account: Account, name: string, agentId?: string): Promise<string> {
  const res = await app.request('POST', '/api/campaigns', { token: account.token, body: { name, ...(agentId ? { agentId } : {}) } });
  assert.equal(res.status, 201, res.text);
  return res.body.data._id;
}

const webhook = (key: string, body: Record<string, unknown>) => app.request('POST', '/api/webhook/outreach', { token: key, body });

describe('GET /api/leads filters include the matching leads and exclude the others', () => {
  test('campaign: the campaign id', async () => {
    const org = await registerOrganization(app, 'Campaign filter');
    const spring = await createCampaign(org, 'Spring');
    const autumn = await createCampaign(org, 'Autumn');
    const a = await createLead(org, { campaignId: spring });
    const b = await createLead(org, { campaignId: autumn });
    const none = await createLead(org);
    assert.deepEqual(await listedIds(org, ''), sorted(a._id, b._id, none._id), 'the control: all three are listed without the filter');
    assert.deepEqual(await listedIds(org, `campaign=${spring}`), [a._id]);
    assert.deepEqual(await listedIds(org, `campaign=${autumn}`), [b._id]);
    // a lead moved into a campaign afterwards is found there
    assert.equal((await patch(org, none._id, { campaignId: spring })).status, 200);
    assert.deepEqual(await listedIds(org, `campaign=${spring}`), sorted(a._id, none._id));
    assert.deepEqual(await listedIds(org, `campaign=${await createCampaign(org, 'Empty')}`), []);
  });

  test('agent: the agent id (the native ?agent=)', async () => {
    const org = await registerOrganization(app, 'Agent filter');
    const closer = await createAgent(org, 'Closer');
    const texter = await createAgent(org, 'Texter');
    const a = await createLead(org, { agentId: closer });
    const b = await createLead(org, { agentId: texter });
    const none = await createLead(org);
    assert.deepEqual(await listedIds(org, ''), sorted(a._id, b._id, none._id), 'the control: all three are listed without the filter');
    assert.deepEqual(await listedIds(org, `agent=${closer}`), [a._id]);
    assert.deepEqual(await listedIds(org, `agent=${texter}`), [b._id]);
    // the agent is set once on a lead that had none
    assert.equal((await patch(org, none._id, { agentId: texter })).status, 200);
    assert.deepEqual(await listedIds(org, `agent=${texter}`), sorted(b._id, none._id));
    assert.deepEqual(await listedIds(org, `agent=${await createAgent(org, 'Idle')}`), []);
  });

  test('updatedFrom (inclusive) and updatedTo (exclusive) bound the last update time', async () => {
    const org = await registerOrganization(app, 'Updated filter');
    const t0 = app.clock.now();
    const untouched = await createLead(org, { firstName: 'Untouched' });
    const early = await createLead(org, { firstName: 'Early' });
    const late = await createLead(org, { firstName: 'Late' });
    app.clock.advance(60_000);
    const t1 = app.clock.now();
    assert.equal((await patch(org, early._id, { firstName: 'Early2' })).body.data.updatedAt, t1.toISOString());
    app.clock.advance(60_000);
    const t2 = app.clock.now();
    assert.equal((await patch(org, late._id, { firstName: 'Late2' })).body.data.updatedAt, t2.toISOString());
    const justAfter = (date: Date) => new Date(date.getTime() + 1);

    assert.deepEqual(await listedIds(org, ''), sorted(untouched._id, early._id, late._id), 'the control: all three without a filter');
    // updatedFrom: updated at or after
    assert.deepEqual(await listedIds(org, `updatedFrom=${iso(t0)}`), sorted(untouched._id, early._id, late._id));
    assert.deepEqual(await listedIds(org, `updatedFrom=${iso(t1)}`), sorted(early._id, late._id), 'the bound itself is included');
    assert.deepEqual(await listedIds(org, `updatedFrom=${iso(justAfter(t1))}`), [late._id]);
    assert.deepEqual(await listedIds(org, `updatedFrom=${iso(justAfter(t2))}`), []);
    // updatedTo: updated before
    assert.deepEqual(await listedIds(org, `updatedTo=${iso(t1)}`), [untouched._id], 'the bound itself is excluded');
    assert.deepEqual(await listedIds(org, `updatedTo=${iso(justAfter(t1))}`), sorted(untouched._id, early._id));
    assert.deepEqual(await listedIds(org, `updatedTo=${iso(t0)}`), []);
    // both: [from, to)
    assert.deepEqual(await listedIds(org, `updatedFrom=${iso(t1)}&updatedTo=${iso(t2)}`), [early._id]);
    assert.deepEqual(await listedIds(org, `updatedFrom=${iso(t0)}&updatedTo=${iso(justAfter(t2))}`), sorted(untouched._id, early._id, late._id));
  });
});

describe('a deleted lead is gone from the API', () => {
  test('absent from GET /api/leads with and without filters or q, and from every dialect listing and lookup', async () => {
    const org = await registerOrganization(app, 'Deletion');
    const key = await apiKeyFor(app, org);
    const agentId = await createAgent(org, 'Chat Bot');
    const campaignId = await createCampaign(org, 'Gone', agentId);
    const common = { agentId, campaignId, source: 'deletion-test', lastName: 'Vanishing' };
    const doomed = await createLead(org, { ...common, firstName: 'Doomed' });
    const kept = await createLead(org, { ...common, firstName: 'Kept' });

    const nativeQueries = [
      '',
      `campaign=${campaignId}`,
      `agent=${agentId}`,
      'source=deletion-test',
      'status=created',
      'stage=New%20Lead',
      'q=vanishing',
      `updatedFrom=${iso(app.clock.now())}`,
      `createdFrom=${iso(app.clock.now())}`,
    ];
    const autocalls = async (query = '') => {
      const res = await app.request('GET', `/autocalls/api/user/leads?per_page=100${query}`, { token: key });
      assert.equal(res.status, 200, res.text);
      return res.body.data.map((lead: any) => lead.id as number);
    };
    const convocore = async () => {
      const res = await app.request('GET', `/convocore/v3/leads?agentId=${agentId}&limit=100`, { token: key });
      assert.equal(res.status, 200, res.text);
      return res.body.data.map((lead: any) => lead.id as string);
    };
    const aptenLookup = (phone: string) => app.request('GET', `/apten/v1/leads/lookup?phone=${encodeURIComponent(phone)}`, { headers: { 'x-api-key': key } });

    // before: every listing shows both, so each one below would show the deleted lead if it could
    for (const query of nativeQueries) assert.deepEqual(await listedIds(org, query), sorted(doomed._id, kept._id), query);
    const byPhone = `q=${encodeURIComponent(doomed.phone.slice(-4))}`;
    assert.deepEqual(await listedIds(org, byPhone), [doomed._id]);
    assert.deepEqual((await autocalls()).sort(), [doomed.seq, kept.seq].sort());
    assert.deepEqual(await autocalls(`&phone_number=${doomed.phone.slice(-4)}`), [doomed.seq]);
    assert.deepEqual((await convocore()).sort(), sorted(doomed._id, kept._id));
    assert.equal((await aptenLookup(doomed.phone)).body.id, doomed._id);

    app.clock.advance(1000);
    const deleted = await app.request('DELETE', `/api/leads/${doomed._id}`, { token: org.token });
    assert.equal(deleted.status, 200, deleted.text);

    // after: the kept lead everywhere, the deleted one nowhere
    for (const query of nativeQueries) assert.deepEqual(await listedIds(org, query), [kept._id], query);
    assert.deepEqual(await listedIds(org, byPhone), [], 'its phone finds nothing');
    // the deletion moved its updated_at: it is the only lead updated since, and still not listed
    assert.deepEqual(await listedIds(org, `updatedFrom=${iso(app.clock.now())}`), []);
    assert.deepEqual(await autocalls(), [kept.seq]);
    assert.deepEqual(await autocalls(`&phone_number=${doomed.phone.slice(-4)}`), []);
    assert.deepEqual(await convocore(), [kept._id]);
    assert.equal((await aptenLookup(doomed.phone)).status, 404);
    assert.equal((await aptenLookup(kept.phone)).body.id, kept._id);
    // and read by id on every surface
    assert.equal((await app.request('GET', `/api/leads/${doomed._id}`, { token: org.token })).status, 404);
    assert.equal((await app.request('GET', `/apten/v1/leads/${doomed._id}`, { headers: { 'x-api-key': key } })).status, 404);
    assert.equal((await app.request('GET', `/convocore/v3/leads/${doomed._id}`, { token: key })).status, 404);
    assert.equal((await app.request('PUT', `/autocalls/api/user/leads/${doomed.seq}`, { token: key, body: { variables: { a: 1 } } })).status, 404);
  });

  test('DELETE is recorded in the event log: the API answers 404 for a deleted lead\'s events, the database keeps the deleted event', async () => {
    const org = await registerOrganization(app, 'Deletion log');
    const lead = await createLead(org, { firstName: 'Logged' });
    const events = () => app.request('GET', `/api/leads/${lead._id}/events`, { token: org.token });
    const live = await events();
    assert.equal(live.status, 200, live.text);
    assert.deepEqual(live.body.data.map((e: any) => e.kind), ['created']);

    app.clock.advance(5000);
    const deletedAt = app.clock.now();
    assert.equal((await app.request('DELETE', `/api/leads/${lead._id}`, { token: org.token })).status, 200);

    // the log of a deleted lead is gone from the API with the lead ("gone from the API")
    const gone = await events();
    assert.equal(gone.status, 404, gone.text);
    // the deletion is in the append-only log all the same: who, when, what
    const rows = await app.db.query<any>(
      `SELECT kind, actor, actor_user_id, organization_id, changes, at FROM lead_events WHERE lead_id = $1 ORDER BY id`,
      [lead._id],
    );
    assert.deepEqual(rows.map((row) => row.kind), ['created', 'deleted']);
    const deleted = rows[1];
    assert.equal(deleted.actor, org.email);
    assert.equal(deleted.actor_user_id, org.userId);
    assert.equal(deleted.organization_id, org.organizationId);
    assert.equal(new Date(deleted.at).toISOString(), deletedAt.toISOString());
    // a second DELETE is a 404 and records nothing
    assert.equal((await app.request('DELETE', `/api/leads/${lead._id}`, { token: org.token })).status, 404);
    assert.equal((await app.db.query(`SELECT 1 FROM lead_events WHERE lead_id = $1`, [lead._id])).length, 2);
  });
});

describe('stage history', () => {
  test('a row carries the configuration that routed the lead, the time and who changed the stage', async () => {
    const org = await registerOrganization(app, 'Stage history');
    const key = await apiKeyFor(app, org);
    const rep = await addUser(app, org);
    const config = await createConfiguration(app, org, { starterMessage: 'Hi {{firstName}}' });
    const routedAt = app.clock.now();
    const routed = await webhook(key, { configurationId: config._id, firstName: 'Hal', phoneNumber: nextPhone() });
    assert.equal(routed.status, 200, routed.text);
    const leadId = routed.body.data.contactId;
    const history = () =>
      app.db.query<any>(
        `SELECT from_stage_id, to_stage_id, source, configuration_id, changed_by, at FROM stage_history WHERE lead_id = $1 ORDER BY id`,
        [leadId],
      );

    const [entry] = await history();
    assert.equal(entry.configuration_id, config._id, 'the configuration that routed the lead');
    assert.equal(entry.from_stage_id, null);
    assert.equal(entry.to_stage_id, (await leadRow(app, leadId)).stage_id);
    assert.equal(entry.source, 'Facebook Lead Ad');
    assert.equal(entry.changed_by, 'intake:webhook');
    assert.equal(new Date(entry.at).toISOString(), routedAt.toISOString());

    // a user moves it: the row names that user, the time, and still the lead's configuration
    app.clock.advance(90_000);
    const movedAt = app.clock.now();
    const moved = await patch(rep, leadId, { stageId: 'Contacted' });
    assert.equal(moved.status, 200, moved.text);
    const rows = await history();
    assert.equal(rows.length, 2);
    assert.deepEqual(
      { ...rows[1], at: new Date(rows[1].at).toISOString() },
      {
        from_stage_id: entry.to_stage_id,
        to_stage_id: moved.body.data.stageId,
        source: 'Facebook Lead Ad',
        configuration_id: config._id,
        changed_by: rep.email,
        at: movedAt.toISOString(),
      },
    );
    assert.notEqual(rep.email, org.email, 'the mover is not the configuration owner');
  });

  test('changed_by of a native lead\'s stage change is the user who made it', async () => {
    const org = await registerOrganization(app, 'Stage mover');
    const rep = await addUser(app, org);
    const lead = await createLead(org);
    app.clock.advance(1000);
    assert.equal((await patch(rep, lead._id, { stageId: 'Qualified' })).status, 200);
    app.clock.advance(1000);
    assert.equal((await patch(org, lead._id, { stageId: 'Contacted' })).status, 200);
    const rows = await app.db.query<any>(`SELECT changed_by, configuration_id FROM stage_history WHERE lead_id = $1 ORDER BY id`, [lead._id]);
    assert.deepEqual(rows.map((row) => row.changed_by), [org.email, rep.email, org.email]);
    assert.deepEqual(rows.map((row) => row.configuration_id), [null, null, null], 'no configuration routed it');
  });
});

describe('intake routing dedupe', () => {
  test('by phone, then email: the phone of lead A and the email of lead B match A', async () => {
    const org = await registerOrganization(app, 'Phone first');
    const key = await apiKeyFor(app, org);
    const config = await createConfiguration(app, org);
    const a = await createLead(org, { firstName: 'Ann', email: 'ann@example.com' });
    const b = await createLead(org, { firstName: 'Bea', email: 'bea@example.com' });
    const res = await webhook(key, { configurationId: config._id, firstName: 'Ann', phoneNumber: a.phone, email: 'BEA@example.com', visit: 'second' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.contactId, a._id, 'the phone wins over the email');
    const [rowA, rowB] = [await leadRow(app, a._id), await leadRow(app, b._id)];
    assert.equal(rowA.additional_info.visit, 'second', 'A is the lead updated');
    assert.equal(rowA.email, 'ann@example.com', 'A keeps its own email');
    assert.equal(rowB.additional_info.visit, undefined, 'B is untouched');
    assert.equal((await app.db.query(`SELECT 1 FROM leads WHERE organization_id = $1`, [org.organizationId])).length, 2, 'no lead created');
    // the control: the email alone matches B
    const byEmail = await webhook(key, { configurationId: config._id, email: 'bea@example.com' });
    assert.equal(byEmail.body.data.contactId, b._id);
  });

  test('a deleted lead is not matched: its phone (or email) makes a new lead', async () => {
    const org = await registerOrganization(app, 'Deleted dedupe');
    const key = await apiKeyFor(app, org);
    const config = await createConfiguration(app, org);
    const phone = nextPhone();
    const first = await webhook(key, { configurationId: config._id, firstName: 'Del', phoneNumber: phone, email: 'del@example.com' });
    assert.equal(first.status, 200, first.text);
    const deletedId = first.body.data.contactId;
    // the control: while it lives, the same phone finds it
    const again = await webhook(key, { configurationId: config._id, phoneNumber: phone });
    assert.equal(again.body.data.contactId, deletedId);
    assert.equal((await app.request('DELETE', `/api/leads/${deletedId}`, { token: org.token })).status, 200);

    const byPhone = await webhook(key, { configurationId: config._id, firstName: 'Del', phoneNumber: phone, note: 'back' });
    assert.equal(byPhone.status, 200, byPhone.text);
    const newId = byPhone.body.data.contactId;
    assert.notEqual(newId, deletedId, 'a new lead, not the deleted one');
    const fresh = await app.request('GET', `/api/leads/${newId}`, { token: org.token });
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.body.data.phone, phone);
    assert.deepEqual(fresh.body.data.additionalInfo, { note: 'back' });
    assert.equal(fresh.body.data.configurationId, config._id);
    assert.equal((await app.request('GET', `/api/leads/${deletedId}`, { token: org.token })).status, 404, 'the deleted lead stays deleted');
    const [intake] = await app.db.query<any>('SELECT created FROM lead_intakes WHERE lead_id = $1', [newId]);
    assert.equal(intake.created, true);
    const old = await leadRow(app, deletedId);
    assert.ok(old.deleted_at, 'still deleted');
    assert.equal(old.additional_info.note, undefined, 'the deleted lead was not updated');

    // by email as well: the deleted lead's email (the new lead has none) makes another new lead
    const byEmail = await webhook(key, { configurationId: config._id, email: 'del@example.com' });
    assert.equal(byEmail.status, 200, byEmail.text);
    assert.ok(![deletedId, newId].includes(byEmail.body.data.contactId), 'a third lead');
    assert.equal((await app.request('GET', `/api/leads/${byEmail.body.data.contactId}`, { token: org.token })).body.data.email, 'del@example.com');
  });
});

describe('GET /api/approvals?status=', () => {
  test('each status lists its items only; none lists all', async () => {
    const org = await registerOrganization(app, 'Approvals filter');
    const key = await apiKeyFor(app, org);
    const config = await createConfiguration(app, org, { starterMessage: 'Hi {{firstName}}!', isAutopilot: false });
    const item = async (firstName: string) => {
      const res = await webhook(key, { configurationId: config._id, firstName, phoneNumber: nextPhone() });
      assert.equal(res.status, 200, res.text);
      const [row] = await app.db.query<{ id: string }>('SELECT id FROM approvals WHERE lead_id = $1', [res.body.data.contactId]);
      return row.id;
    };
    const pending = await item('Pat');
    const approved = await item('Abe');
    const rejected = await item('Rex');
    assert.equal((await app.request('POST', `/api/approvals/${approved}/approve`, { token: org.token })).status, 200);
    assert.equal((await app.request('POST', `/api/approvals/${rejected}/reject`, { token: org.token })).status, 200);
    const listed = async (query: string) => {
      const res = await app.request('GET', `/api/approvals${query}`, { token: org.token });
      assert.equal(res.status, 200, res.text);
      return res.body.data.map((a: any) => [a._id, a.status]).sort();
    };
    assert.deepEqual(await listed('?status=pending'), [[pending, 'pending']]);
    assert.deepEqual(await listed('?status=approved'), [[approved, 'approved']]);
    assert.deepEqual(await listed('?status=rejected'), [[rejected, 'rejected']]);
    assert.deepEqual(await listed(''), [[approved, 'approved'], [pending, 'pending'], [rejected, 'rejected']].sort());
  });
});

describe('configuration defaults', () => {
  test('INBOUND_SMTP_PORT is 2525 unless set', () => {
    assert.equal(loadConfig({}).inboundSmtpPort, 2525);
    assert.equal(loadConfig({ INBOUND_SMTP_PORT: '2626' }).inboundSmtpPort, 2626);
  });
});

describe('__proto__ in custom fields', () => {
  const polluted = () => Object.hasOwn(Object.prototype, 'polluted');

  test('is stored as a plain key on create and on patch, and changes nothing for later requests', async (t) => {
    t.after(() => {
      // a broken parser must not take the rest of the run down with it
      if (polluted()) delete (Object.prototype as Record<string, unknown>).polluted;
    });
    const org = await registerOrganization(app, 'Prototype');
    const raw = (method: string, path: string, text: string) =>
      app.request(method, path, { token: org.token, raw: text, headers: { 'content-type': 'application/json' } });
    const storedInfo = async (id: string) => {
      const [row] = await app.db.query<{ keys: string[]; polluted: string | null }>(
        `SELECT ARRAY(SELECT jsonb_object_keys(additional_info) ORDER BY 1) AS keys,
                additional_info -> '__proto__' ->> 'polluted' AS polluted
           FROM leads WHERE id = $1`,
        [id],
      );
      return row;
    };

    // create
    const created = await raw('POST', '/api/leads', `{"phone":"${nextPhone()}","additionalInfo":{"__proto__":{"polluted":true},"plain":1}}`);
    assert.equal(created.status, 201, created.text);
    assert.match(created.text, /"additionalInfo":\{[^]*"__proto__":\{"polluted":true\}/);
    const onCreate = await storedInfo(created.body.data._id);
    assert.deepEqual(onCreate.keys, ['__proto__', 'plain']);
    assert.equal(onCreate.polluted, 'true');

    // patch
    const lead = await createLead(org, { additionalInfo: { kept: 'yes' } });
    const patched = await raw('PATCH', `/api/leads/${lead._id}`, `{"additionalInfo":{"__proto__":{"polluted":true}}}`);
    assert.equal(patched.status, 200, patched.text);
    assert.match(patched.text, /"__proto__":\{"polluted":true\}/);
    const onPatch = await storedInfo(lead._id);
    assert.deepEqual(onPatch.keys, ['__proto__', 'kept']);
    assert.equal(onPatch.polluted, 'true');

    // the server behaves as before for unrelated requests: no `polluted` anywhere, and a valid
    // body is still valid
    const unrelated = await app.request('POST', '/api/leads', { token: org.token, body: { phone: nextPhone(), additionalInfo: {} } });
    assert.equal(unrelated.status, 201, unrelated.text);
    assert.deepEqual(unrelated.body.data.additionalInfo, {});
    assert.doesNotMatch(unrelated.text, /polluted/);
    const organization = await app.request('GET', '/api/organization', { token: org.token });
    assert.equal(organization.status, 200, organization.text);
    assert.doesNotMatch(organization.text, /polluted/);
    const listed = await app.request('GET', `/api/leads?q=${encodeURIComponent(unrelated.body.data.phone)}`, { token: org.token });
    assert.doesNotMatch(listed.text, /polluted/);
    const renamed = await patch(org, unrelated.body.data._id, { firstName: 'Plain' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.doesNotMatch(renamed.text, /polluted/);
    assert.equal(polluted(), false, 'Object.prototype of the server process is untouched');

    // and read back through the API, the key is the lead's own data, not a prototype
    const read = await app.request('GET', `/api/leads/${lead._id}`, { token: org.token });
    assert.match(read.text, /"__proto__":\{"polluted":true\}/);
    // (JSON.parse makes it an own key, so this sees the data the server sent)
    assert.ok(Object.hasOwn(read.body.data.additionalInfo, '__proto__'));
    assert.deepEqual(read.body.data.additionalInfo.__proto__, { polluted: true });
    assert.equal(read.body.data.additionalInfo.polluted, undefined);
  });
});

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createConfiguration } from './support/intake.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';

// Intake writes leads with its own batch statements: these check that what it writes obeys
// the native lead rules (duplicates, heat, the event log) as a native create or PATCH would.

const MODEL_TIMEOUT_MS = 1000;

let app: TestApp;
let fake: FakeOpenAI;
let admin: Account;
let apiKey: string;

before(async () => {
  fake = await startFakeOpenAI();
  app = await startApp({ openai: { baseUrl: fake.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: MODEL_TIMEOUT_MS } });
  admin = await registerOrganization(app);
  apiKey = await apiKeyFor(app, admin);
});
after(async () => {
  await app.close();
  await fake.close();
});

const webhook = (body: Record<string, unknown>) => app.request('POST', '/api/webhook/outreach', { token: apiKey, body });
const createLead = (body: Record<string, unknown>) => app.request('POST', '/api/leads', { token: admin.token, body });

let counter = 0;
const nextPhone = () => `+1212555${String(200 + counter++).padStart(4, '0')}`;
const nextEmail = (name: string) => `${name}${counter++}@example.com`;

async function liveLeadsWithPhone(phone: string): Promise<string[]> {
  const rows = await app.db.query<{ id: string }>('SELECT id FROM leads WHERE phone = $1 AND deleted_at IS NULL ORDER BY id', [phone]);
  return rows.map((row) => row.id);
}

/** Resolves once the fake model has received `count` requests in all. */
async function modelRequests(count: number): Promise<void> {
  while (fake.requests.length < count) await sleep(5);
}

describe('a lead that gains a phone through intake is deduplicated by that phone', () => {
  test('a native create with that phone is then 409 naming the lead', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi {{firstName}}' });
    const email = nextEmail('dee');
    const phone = nextPhone();
    const first = await webhook({ configurationId: config._id, email });
    assert.equal(first.status, 200, first.text);
    const leadId = first.body.data.contactId;
    const second = await webhook({ configurationId: config._id, email, phoneNumber: phone });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.data.contactId, leadId, 'the same lead, found by its email');
    assert.equal((await app.request('GET', `/api/leads/${leadId}`, { token: admin.token })).body.data.phone, phone);

    const duplicate = await createLead({ firstName: 'Dupe', phone });
    assert.equal(duplicate.status, 409, duplicate.text);
    assert.equal(duplicate.body.error, 'Lead already exists');
    assert.deepEqual(duplicate.body.data, { id: leadId });
    assert.deepEqual(await liveLeadsWithPhone(phone), [leadId]);
  });

  test('a native create of that phone while the intake is under way wins; the intake then updates that lead', async () => {
    // no starter message and re-contact on: the model is asked for the first message, and
    // while it hangs (until its timeout) the phone is given to a new lead natively
    const config = await createConfiguration(app, admin, { allowRecontact: true });
    const email = nextEmail('race');
    const phone = nextPhone();
    const first = await webhook({ configurationId: config._id, email });
    assert.equal(first.status, 200, first.text);
    const emailLead = first.body.data.contactId;

    fake.script({ hang: true });
    const asked = fake.requests.length;
    const intake = webhook({ configurationId: config._id, email, phoneNumber: phone, firstName: 'Rae' });
    await modelRequests(asked + 1);
    const native = await createLead({ firstName: 'Native', phone });
    assert.equal(native.status, 201, native.text);
    const answer = await intake;

    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(await liveLeadsWithPhone(phone), [native.body.data._id], 'one live lead holds the phone');
    assert.equal(answer.body.data.contactId, native.body.data._id, 'routed again, the intake finds the lead holding the phone');
    const nativeLead = (await app.request('GET', `/api/leads/${native.body.data._id}`, { token: admin.token })).body.data;
    assert.equal(nativeLead.email, email, 'which gains the email it lacked');
    const emailOnly = (await app.request('GET', `/api/leads/${emailLead}`, { token: admin.token })).body.data;
    assert.equal(emailOnly.phone, null);
  });

  test('two intakes giving one phone to two leads at once leave it on one of them', async () => {
    const config = await createConfiguration(app, admin, { allowRecontact: true });
    const phone = nextPhone();
    const emails = [nextEmail('ann'), nextEmail('bea')];
    const leads: string[] = [];
    for (const email of emails) {
      const res = await webhook({ configurationId: config._id, email });
      assert.equal(res.status, 200, res.text);
      leads.push(res.body.data.contactId);
    }

    // both find their lead by its email before either writes: their model calls hang first
    fake.script({ hang: true }, { hang: true });
    const answers = await Promise.all(emails.map((email) => webhook({ configurationId: config._id, email, phoneNumber: phone })));

    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
    const holders = await liveLeadsWithPhone(phone);
    assert.equal(holders.length, 1, `one live lead holds the phone, not ${holders.length}`);
    assert.ok(leads.includes(holders[0]));
    assert.deepEqual(
      answers.map((answer) => answer.body.data.contactId),
      [holders[0], holders[0]],
      'the intake that lost the phone is routed again to the lead that holds it',
    );
  });
});

describe('a lead created by intake gets its heat as a native create does', () => {
  test('a later entry stage gives the stage-progress points, by webhook and by import', async () => {
    const config = await createConfiguration(app, admin, { pipelineStage: 'Engaged', starterMessage: 'Hi {{firstName}}' });
    const native = await createLead({ phone: nextPhone(), stageId: 'Engaged' });
    assert.equal(native.status, 201, native.text);
    assert.equal(native.body.data.hotScore, 10, 'Engaged is stage 2 of 0..5: 25 × 2/5');

    const hook = await webhook({ configurationId: config._id, phoneNumber: nextPhone() });
    assert.equal(hook.status, 200, hook.text);
    const imported = await app.request('POST', `/api/leads/import?configurationId=${config._id}`, {
      token: admin.token,
      raw: `phone,firstName\n${nextPhone()},Ima\n${nextPhone()},Ivo\n`,
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(imported.status, 200, imported.text);
    assert.equal(imported.body.data.created, 2);

    const routed = await app.db.query<{ id: string }>('SELECT id FROM leads WHERE configuration_id = $1 ORDER BY seq', [config._id]);
    assert.equal(routed.length, 3);
    for (const { id } of routed) {
      const lead = (await app.request('GET', `/api/leads/${id}`, { token: admin.token })).body.data;
      assert.equal(lead.stageName, 'Engaged');
      assert.deepEqual([lead.hotScore, lead.hotLabel], [native.body.data.hotScore, native.body.data.hotLabel]);
    }
  });
});

describe("the event of an intake update holds every changed field's old and new value", () => {
  test('custom fields, names and a restarted cadence', async () => {
    const config = await createConfiguration(app, admin, { allowRecontact: true, starterMessage: 'Hi {{firstName}}' });
    const phone = nextPhone();
    const first = await webhook({ configurationId: config._id, phoneNumber: phone, firstName: 'Dee', budget: '10k', roof: 'south' });
    assert.equal(first.status, 200, first.text);
    const leadId = first.body.data.contactId;
    const moved = await app.request('PATCH', `/api/leads/${leadId}`, { token: admin.token, body: { followUpStep: 3 } });
    assert.equal(moved.status, 200, moved.text);
    const before = moved.body.data;

    app.clock.advance(3_600_000);
    const second = await webhook({ configurationId: config._id, phoneNumber: phone, firstName: 'Deanna', budget: '20k', colour: 'red' });
    assert.equal(second.status, 200, second.text);
    const after = (await app.request('GET', `/api/leads/${leadId}`, { token: admin.token })).body.data;
    assert.equal(after.followUpStep, 1, 'allowRecontact re-enrolls the lead at the first step');
    assert.notEqual(after.nextFollowUpAt, before.nextFollowUpAt);
    assert.equal(after.version, before.version + 1);

    const events = await app.request('GET', `/api/leads/${leadId}/events`, { token: admin.token });
    assert.equal(events.status, 200, events.text);
    const last = events.body.data.at(-1);
    assert.equal(last.actor, 'intake:webhook');
    assert.deepEqual(last.changes, {
      firstName: { from: 'Dee', to: 'Deanna' },
      name: { from: 'Dee', to: 'Deanna' },
      followUpStep: { from: 3, to: 1 },
      nextFollowUpAt: { from: before.nextFollowUpAt, to: after.nextFollowUpAt },
      additionalInfo: { from: { budget: '10k', colour: null }, to: { budget: '20k', colour: 'red' } },
    });
  });
});

describe('re-enrolment by intake follows the cadence the lead follows', () => {
  test("the lead's own cadence, else its agent's, timed from now; a deferral of the old timer is cleared", async () => {
    const org = await registerOrganization(app, 'Cadences');
    const orgKey = await apiKeyFor(app, org);
    const orgWebhook = (body: Record<string, unknown>) => app.request('POST', '/api/webhook/outreach', { token: orgKey, body });
    const config = await createConfiguration(app, org, { allowRecontact: true, starterMessage: 'Hi {{firstName}}' });
    const defaults = await app.request('PATCH', '/api/organization', {
      token: org.token,
      body: { defaultFollowUpConfig: { '1': { hours: 11, channel: 'text' } } },
    });
    assert.equal(defaults.status, 200, defaults.text);
    const agent = await app.request('POST', '/api/agents', { token: org.token, body: { name: 'Seven', followUpConfig: { '1': { hours: 7, channel: 'text' } } } });
    assert.equal(agent.status, 201, agent.text);

    app.clock.set('2026-06-02T03:00:00Z'); // Tuesday, before the organization's 09:00 UTC opening
    const phones = [nextPhone(), nextPhone(), nextPhone()];
    const [own, viaAgent, viaOrg] = await Promise.all(phones.map((phoneNumber) => orgWebhook({ configurationId: config._id, phoneNumber })));
    const lead = (res: typeof own) => res.body.data.contactId as string;
    const patch = async (id: string, body: Record<string, unknown>) => {
      const res = await app.request('PATCH', `/api/leads/${id}`, { token: org.token, body });
      assert.equal(res.status, 200, res.text);
      return res.body.data;
    };
    await patch(lead(own), { followUpConfig: { '1': { hours: 5, channel: 'text' }, '2': { hours: 9, channel: 'text' } } });
    await patch(lead(viaAgent), { agentId: agent.body.data._id });
    // the own cadence's step 1 comes due at 08:00, outside the window: the dispatcher defers it
    app.clock.set('2026-06-02T08:00:00Z');
    while ((await runDispatcherOnce(app.ctx)) > 0);
    const deferred = (await app.request('GET', `/api/leads/${lead(own)}`, { token: org.token })).body.data;
    assert.equal(deferred.followUpDeferredUntil, '2026-06-02T09:00:00.000Z');

    app.clock.set('2026-06-02T08:30:00Z');
    for (const [k, res] of [own, viaAgent, viaOrg].entries()) {
      const again = await orgWebhook({ configurationId: config._id, phoneNumber: phones[k] });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.data.contactId, lead(res));
    }
    const shown = async (res: typeof own) => (await app.request('GET', `/api/leads/${lead(res)}`, { token: org.token })).body.data;
    const [ownAfter, agentAfter, orgAfter] = [await shown(own), await shown(viaAgent), await shown(viaOrg)];
    assert.deepEqual([ownAfter.followUpStep, ownAfter.nextFollowUpAt, ownAfter.followUpDeferredUntil], [1, '2026-06-02T13:30:00.000Z', null]);
    assert.deepEqual([agentAfter.followUpStep, agentAfter.nextFollowUpAt], [1, '2026-06-02T15:30:00.000Z']);
    assert.deepEqual([orgAfter.followUpStep, orgAfter.nextFollowUpAt], [1, '2026-06-02T19:30:00.000Z']);

    const events = (await app.request('GET', `/api/leads/${lead(own)}/events`, { token: org.token })).body.data;
    assert.deepEqual(events.at(-1).changes.followUpDeferredUntil, { from: '2026-06-02T09:00:00.000Z', to: null });
    const timeline = (await app.request('GET', `/api/leads/${lead(own)}/activities`, { token: org.token })).body.data;
    const enrolled = timeline.filter((entry: { metadata: { decisions?: string[] } }) => entry.metadata.decisions?.includes('Enrolled in the follow-up cadence'));
    assert.equal(enrolled.length, 2);
    assert.ok(enrolled.some((entry: { metadata: { nextFollowUpAt: string } }) => entry.metadata.nextFollowUpAt === '2026-06-02T13:30:00.000Z'), 'the timeline names the new timer');
  });
});

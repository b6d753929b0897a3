import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

// Seed 002 (Apten "Update lead") walked line by line, plus the lead routes around it.

const HOUR = 3_600_000;
// The seed's follow-up rules live in followups/schedule.ts and apply through updateLead, the
// one update path of every surface.
let app: TestApp;
let acme: Account;
let key: string;
let otherKey: string;
before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  key = await apiKeyFor(app, acme);
  const other = await registerOrganization(app, 'Other');
  otherKey = await apiKeyFor(app, other);
  const agent = (name: string, token: string, body: Record<string, unknown> = {}) =>
    app.request('POST', '/api/agents', { token, body: { name, ...body } });
  await agent('Closer', acme.token, { voiceEnabled: true, emailEnabled: true });
  await agent('Texter', acme.token);
  await agent('Closer', other.token, { voiceEnabled: true });
});
after(() => app.close());

const call = (method: string, path: string, body?: unknown, apiKey: string | null = key) =>
  app.request(method, `/apten/v1${path}`, { body, headers: apiKey === null ? {} : { 'x-api-key': apiKey } });
let phoneCounter = 2000;
const nextPhone = () => `+1415555${String(phoneCounter++).padStart(4, '0')}`;
const createLead = async (extra: Record<string, unknown> = {}, apiKey = key) => {
  const res = await call('POST', '/leads/create', { firstName: 'Ada', lastName: 'Lovelace', phone: nextPhone(), customerProfile: 'Closer', ...extra }, apiKey);
  assert.equal(res.status, 200, res.text);
  return res.body.id as string;
};
const getLead = async (id: string) => (await call('GET', `/leads/${id}`)).body;
const patch = (id: string, body: unknown) => call('PATCH', `/leads/${id}`, body);
const expectRefused = async (id: string, body: unknown, pattern: RegExp) => {
  const res = await patch(id, body);
  assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
  assert.deepEqual(Object.keys(res.body), ['message']);
  assert.match(res.body.message, pattern);
};
const inHours = (hours: number) => new Date(app.clock.now().getTime() + hours * HOUR).toISOString();

describe('Apten authentication: x-api-key', () => {
  test('missing or wrong key → 403 {"message": "Forbidden"}; a bearer header is not enough', async () => {
    for (const apiKey of [null, 'wrong']) {
      const res = await call('GET', '/leads/0123456789abcdef01234567', undefined, apiKey);
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, { message: 'Forbidden' });
    }
    const bearer = await app.request('GET', '/apten/v1/leads/0123456789abcdef01234567', { token: key });
    assert.equal(bearer.status, 403);
  });
});

describe('POST /leads/create', () => {
  test('firstName, lastName, phone and customerProfile create a lead bound to the named agent', async () => {
    const res = await call('POST', '/leads/create', {
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: '(415) 555-0100',
      customerProfile: 'closer',
      timeZone: 'America/Los_Angeles',
      email: 'grace@example.com',
      additionalInfo: { plan: 'pro' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.message, 'Lead created successfully.');
    assert.match(res.body.id, /^[0-9a-f]{24}$/);
    const lead = await getLead(res.body.id);
    assert.equal(lead.firstName, 'Grace');
    assert.equal(lead.lastName, 'Hopper');
    assert.equal(lead.phone, '+14155550100');
    assert.equal(lead.customerProfile, 'Closer');
    assert.equal(lead.timeZone, 'America/Los_Angeles');
    assert.equal(lead.email, 'grace@example.com');
    assert.deepEqual(lead.additionalInfo, { plan: 'pro' });
    assert.equal(lead.isAiOn, true);
  });

  test('each required field missing → 400 naming it', async () => {
    const full = { firstName: 'A', lastName: 'B', phone: nextPhone(), customerProfile: 'Closer' };
    for (const field of Object.keys(full)) {
      const body: Record<string, unknown> = { ...full };
      delete body[field];
      const res = await call('POST', '/leads/create', body);
      assert.equal(res.status, 400);
      assert.match(res.body.message, new RegExp(`^${field} is required`));
    }
  });

  test('duplicate phone → 400 "Lead already exists."; bad phone, unknown profile, bad email or zone → 400', async () => {
    const phone = nextPhone();
    await createLead({ phone });
    const dup = await call('POST', '/leads/create', { firstName: 'X', lastName: 'Y', phone, customerProfile: 'Texter' });
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.body, { message: 'Lead already exists.' });
    const base = { firstName: 'X', lastName: 'Y', customerProfile: 'Closer' };
    const badPhone = await call('POST', '/leads/create', { ...base, phone: 'nope' });
    assert.deepEqual([badPhone.status, badPhone.body], [400, { message: 'Invalid phone number format.' }]);
    const profile = await call('POST', '/leads/create', { ...base, phone: nextPhone(), customerProfile: 'Nobody' });
    assert.equal(profile.status, 400);
    assert.match(profile.body.message, /customerProfile/);
    const email = await call('POST', '/leads/create', { ...base, phone: nextPhone(), email: 'not-an-email' });
    assert.equal(email.status, 400);
    assert.match(email.body.message, /^email /);
    const zone = await call('POST', '/leads/create', { ...base, phone: nextPhone(), timeZone: 'Mars/Olympus' });
    assert.equal(zone.status, 400);
    assert.match(zone.body.message, /^timeZone /);
  });
});

describe('GET /leads/{leadId} and /leads/lookup', () => {
  test("404 Lead not found. for missing, malformed and another organization's ids", async () => {
    const theirs = await createLead({}, otherKey);
    for (const id of [theirs, '0123456789abcdef01234567', 'garbage']) {
      const res = await call('GET', `/leads/${id}`);
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { message: 'Lead not found.' });
    }
  });

  test('lookup by phone in any format; bad phone → 400 "Invalid phone number format."', async () => {
    const phone = nextPhone();
    const id = await createLead({ phone });
    const found = await call('GET', `/leads/lookup?phone=${encodeURIComponent(`(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`)}`);
    assert.equal(found.status, 200);
    assert.equal(found.body.id, id);
    const bad = await call('GET', '/leads/lookup?phone=abc');
    assert.deepEqual([bad.status, bad.body], [400, { message: 'Invalid phone number format.' }]);
    const missing = await call('GET', `/leads/lookup?phone=${encodeURIComponent('+14155559999')}`);
    assert.deepEqual([missing.status, missing.body], [404, { message: 'Lead not found.' }]);
  });
});

describe('DELETE, turnOff, turnOn', () => {
  test('turnOff / turnOn flip the AI; delete is soft and answers with the id', async () => {
    const id = await createLead();
    const off = await call('POST', `/leads/${id}/turnOff`);
    assert.deepEqual([off.status, off.body], [200, { message: 'Lead turned off successfully.' }]);
    assert.equal((await getLead(id)).isAiOn, false);
    const on = await call('POST', `/leads/${id}/turnOn`);
    assert.deepEqual([on.status, on.body], [200, { message: 'Lead turned on successfully.' }]);
    assert.equal((await getLead(id)).isAiOn, true);
    const del = await call('DELETE', `/leads/${id}`);
    assert.deepEqual([del.status, del.body], [200, { message: 'Lead deletion initiated successfully', leadId: id }]);
    assert.equal((await call('GET', `/leads/${id}`)).status, 404);
    assert.equal((await call('DELETE', `/leads/${id}`)).status, 404);
    assert.equal((await call('POST', `/leads/${id}/turnOn`)).status, 404);
    const rows = await app.db.query<{ deleted_at: Date | null }>('SELECT deleted_at FROM leads WHERE id = $1', [id]);
    assert.ok(rows[0].deleted_at, 'the row is kept, marked deleted');
  });
});

describe('PATCH /leads/{leadId} (seed 002)', () => {
  test('success → "Lead updated successfully."; PUT is accepted as well', async () => {
    const id = await createLead();
    const res = await patch(id, { email: 'new@example.com', timeZone: 'Europe/London' });
    assert.deepEqual([res.status, res.body], [200, { message: 'Lead updated successfully.' }]);
    const put = await call('PUT', `/leads/${id}`, { email: 'put@example.com' });
    assert.deepEqual([put.status, put.body], [200, { message: 'Lead updated successfully.' }]);
    const lead = await getLead(id);
    assert.equal(lead.email, 'put@example.com');
    assert.equal(lead.timeZone, 'Europe/London');
  });

  test('email must be a valid email format; timeZone must be a tz database name', async () => {
    const id = await createLead();
    await expectRefused(id, { email: 'nope' }, /^email .*valid email/);
    await expectRefused(id, { timeZone: 'Eastern' }, /^timeZone /);
  });

  test('additionalInfo: new keys added, existing updated, null deletes a key', async () => {
    const id = await createLead({ additionalInfo: { keep: 1, change: 'old', drop: true } });
    assert.equal((await patch(id, { additionalInfo: { change: 'new', added: [1, 2], drop: null } })).status, 200);
    assert.deepEqual((await getLead(id)).additionalInfo, { keep: 1, change: 'new', added: [1, 2] });
  });

  test('followUpConfig: each step needs hours and channel text|call|email', async () => {
    const id = await createLead();
    await expectRefused(id, { followUpConfig: { '1': { channel: 'text' } } }, /followUpConfig\.1\.hours/);
    await expectRefused(id, { followUpConfig: { '1': { hours: 4 } } }, /followUpConfig\.1\.channel/);
    await expectRefused(id, { followUpConfig: { '1': { hours: 4, channel: 'fax' } } }, /followUpConfig\.1\.channel/);
    await expectRefused(id, { followUpConfig: { first: { hours: 4, channel: 'text' } } }, /followUpConfig/);
    await expectRefused(id, { followUpConfig: { '1': { hours: -1, channel: 'text' } } }, /followUpConfig\.1\.hours/);
  });

  test('voicemailEnabled only on call steps, and only a boolean', async () => {
    const id = await createLead();
    await expectRefused(id, { followUpConfig: { '1': { hours: 4, channel: 'text', voicemailEnabled: true } } }, /followUpConfig\.1\.voicemailEnabled/);
    for (const voicemailEnabled of ['true', 1, null]) {
      await expectRefused(id, { followUpConfig: { '1': { hours: 4, channel: 'call', voicemailEnabled } } }, /^followUpConfig\.1\.voicemailEnabled must be boolean/);
    }
    assert.equal((await getLead(id)).followUpConfig, null, 'a refused config is not written');
    assert.equal((await patch(id, { followUpConfig: { '1': { hours: 4, channel: 'call', voicemailEnabled: true } } })).status, 200);
    assert.deepEqual((await getLead(id)).followUpConfig, { '1': { hours: 4, channel: 'call', voicemailEnabled: true } });
  });

  test('strategyIds ("auto" or ids) require useStrategiesForFollowUps on the lead', async () => {
    const id = await createLead();
    await expectRefused(id, { followUpConfig: { '1': { hours: 4, channel: 'text', strategyIds: 'auto' } } }, /followUpConfig\.1\.strategyIds/);
    const both = await patch(id, { useStrategiesForFollowUps: true, followUpConfig: { '1': { hours: 4, channel: 'text', strategyIds: 'auto' } } });
    assert.equal(both.status, 200, both.text);
    assert.equal((await patch(id, { followUpConfig: { '1': { hours: 4, channel: 'text', strategyIds: ['s1', 's2'] } } })).status, 200);
    const lead = await getLead(id);
    assert.equal(lead.useStrategiesForFollowUps, true);
    assert.deepEqual(lead.followUpConfig, { '1': { hours: 4, channel: 'text', strategyIds: ['s1', 's2'] } }, 'the array sent is stored and returned');
  });

  test('strategyIds is a string or an array of strings: a single id is accepted, other types are refused', async () => {
    const id = await createLead({ customerProfile: 'Texter' });
    assert.equal((await patch(id, { useStrategiesForFollowUps: true })).status, 200);
    const single = { '1': { hours: 4, channel: 'text', strategyIds: 'strategy-42' } };
    assert.equal((await patch(id, { followUpConfig: single })).status, 200);
    assert.deepEqual((await getLead(id)).followUpConfig, single);
    for (const strategyIds of [42, true, { id: 's1' }, [1, 2], ['s1', 7]]) {
      await expectRefused(id, { followUpConfig: { '1': { hours: 4, channel: 'text', strategyIds } } }, /^followUpConfig\.1\.strategyIds(\.\d+)? must be (string|array)/);
    }
    assert.deepEqual((await getLead(id)).followUpConfig, single, 'nothing written by a refused update');
  });

  test("call needs voice on the lead's agent; email needs email on the agent and the organization", async () => {
    const texter = await createLead({ customerProfile: 'Texter' });
    await expectRefused(texter, { followUpConfig: { '1': { hours: 1, channel: 'call' } } }, /followUpConfig\.1\.channel/);
    await expectRefused(texter, { followUpConfig: { '1': { hours: 1, channel: 'email' } } }, /followUpConfig\.1\.channel/);
    const closer = await createLead();
    assert.equal((await patch(closer, { followUpConfig: { '1': { hours: 1, channel: 'email' }, '2': { hours: 2, channel: 'call' } } })).status, 200);
  });

  const cadence = { '1': { hours: 2, channel: 'text' }, '2': { hours: 24, channel: 'text' }, '3': { hours: 72, channel: 'call' } };

  test('all fields are optional: {} → "Lead updated successfully." and changes nothing but updatedAt', async () => {
    const id = await createLead({ email: 'same@example.com', timeZone: 'America/Chicago', additionalInfo: { plan: 'pro', seats: 3 } });
    assert.equal((await patch(id, { useStrategiesForFollowUps: true, followUpConfig: cadence, followUpStep: 2 })).status, 200);
    assert.equal((await call('POST', `/leads/${id}/turnOff`)).status, 200);
    const before = await getLead(id);
    assert.equal(before.nextFollowUpAt, inHours(24));
    app.clock.advance(HOUR);
    const res = await patch(id, {});
    assert.deepEqual([res.status, res.body], [200, { message: 'Lead updated successfully.' }]);
    // an empty update is still an update: the row is rewritten as it was, stamped now
    assert.deepEqual(await getLead(id), { ...before, updatedAt: app.clock.now().toISOString() });
  });

  test('followUpConfig only: reschedules with the new timing, preserving the current step', async () => {
    const id = await createLead();
    assert.equal((await patch(id, { followUpConfig: cadence, followUpStep: 2 })).status, 200);
    app.clock.advance(5 * HOUR);
    const faster = { ...cadence, '2': { hours: 6, channel: 'text' } };
    assert.equal((await patch(id, { followUpConfig: faster })).status, 200);
    const lead = await getLead(id);
    assert.equal(lead.followUpStep, 2);
    assert.equal(lead.nextFollowUpAt, inHours(6));
    assert.deepEqual(lead.followUpConfig, faster);
  });

  test('followUpStep only: schedules that step at now + its hours', async () => {
    const id = await createLead();
    assert.equal((await patch(id, { followUpConfig: cadence })).status, 200);
    app.clock.advance(HOUR);
    assert.equal((await patch(id, { followUpStep: 3 })).status, 200);
    const lead = await getLead(id);
    assert.equal(lead.followUpStep, 3);
    assert.equal(lead.nextFollowUpAt, inHours(72));
  });

  test('both: full reset with the new config starting at the given step', async () => {
    const id = await createLead();
    assert.equal((await patch(id, { followUpConfig: cadence, followUpStep: 3 })).status, 200);
    app.clock.advance(HOUR);
    const next = { '1': { hours: 1, channel: 'text' }, '2': { hours: 10, channel: 'text' } };
    assert.equal((await patch(id, { followUpConfig: next, followUpStep: 1 })).status, 200);
    const lead = await getLead(id);
    assert.equal(lead.followUpStep, 1);
    assert.equal(lead.nextFollowUpAt, inHours(1));
    assert.deepEqual(lead.followUpConfig, next);
  });

  test('special steps: -1 STOPPED stops all follow-ups, -2 LONG_TERM moves to nurture', async () => {
    const id = await createLead();
    assert.equal((await patch(id, { followUpConfig: cadence, followUpStep: 1 })).status, 200);
    assert.equal((await patch(id, { followUpStep: -1 })).status, 200);
    let lead = await getLead(id);
    assert.equal(lead.followUpStep, -1);
    assert.equal(lead.nextFollowUpAt, null);
    assert.equal((await patch(id, { followUpStep: -2 })).status, 200);
    lead = await getLead(id);
    assert.equal(lead.followUpStep, -2);
    // the organization's long-term interval, 720 hours unless it set another
    assert.equal(lead.nextFollowUpAt, inHours(720));
  });

  test('followUpStep must be a positive step of the cadence, -1 or -2', async () => {
    const id = await createLead();
    assert.equal((await patch(id, { followUpConfig: cadence })).status, 200);
    await expectRefused(id, { followUpStep: 0 }, /^followUpStep /);
    await expectRefused(id, { followUpStep: -3 }, /^followUpStep /);
    await expectRefused(id, { followUpStep: 9 }, /^followUpStep /);
    await expectRefused(id, { followUpStep: 1.5 }, /^followUpStep /);
    await expectRefused(id, { followUpStep: '1' }, /^followUpStep /);
  });

  test('unknown fields, wrong types and malformed JSON → 400 {message}, nothing written', async () => {
    const id = await createLead({ email: 'keep@example.com' });
    await expectRefused(id, { email: 'x@example.com', firstName: 'Nope' }, /firstName/);
    await expectRefused(id, { useStrategiesForFollowUps: 'yes' }, /^useStrategiesForFollowUps /);
    await expectRefused(id, { additionalInfo: [1] }, /^additionalInfo /);
    assert.equal((await getLead(id)).email, 'keep@example.com');
    const broken = await app.request('PATCH', `/apten/v1/leads/${id}`, { raw: '{"email":', headers: { 'x-api-key': key, 'content-type': 'application/json' } });
    assert.equal(broken.status, 400);
    assert.deepEqual(Object.keys(broken.body), ['message']);
  });

  test("another organization's lead → 404 Lead not found.", async () => {
    const theirs = await createLead({}, otherKey);
    const res = await patch(theirs, { email: 'a@b.co' });
    assert.deepEqual([res.status, res.body], [404, { message: 'Lead not found.' }]);
  });
});

describe('Apten envelope everywhere', () => {
  test('unknown route → 404 {message}', async () => {
    const res = await call('GET', '/nothing/here');
    assert.equal(res.status, 404);
    assert.deepEqual(Object.keys(res.body), ['message']);
  });
});

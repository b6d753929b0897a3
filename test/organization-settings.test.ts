import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_STEP_HOURS } from '../src/modules/followups/schedule.ts';
import { deliverOnce } from '../src/worker/delivery.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { createLead, leadRow, scheduleLead } from './support/followups.ts';
import { addUser, registerOrganization, startApp, type Account, type Response, type TestApp } from './support/harness.ts';

const HOUR = 3_600_000;
let app: TestApp;
let acme: Account;
let rival: Account;

before(async () => {
  app = await startApp();
  app.clock.set('2026-06-01T00:00:00Z');
  acme = await registerOrganization(app, 'Acme');
  rival = await registerOrganization(app, 'Rival');
});
after(() => app.close());

const read = (account: Account) => app.request('GET', '/api/organization', { token: account.token });
const patch = (account: Account, body: unknown) => app.request('PATCH', '/api/organization', { token: account.token, body });

/** The organization's row exactly as stored, so a refused request can be shown to have written nothing. */
async function storedRow(account: Account): Promise<string> {
  const [row] = await app.db.query<{ row: string }>(`SELECT row_to_json(o)::text AS row FROM organizations o WHERE id = $1`, [account.organizationId]);
  return row.row;
}

function assertNativeError(res: Response, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.body.success, false, what);
  assert.equal(typeof res.body.error, 'string', what);
}

const DEFAULTS = {
  timezone: 'UTC',
  defaultCountry: 'US',
  sendWindowStart: '09:00',
  sendWindowEnd: '20:00',
  sendDays: [1, 2, 3, 4, 5, 6],
  longTermIntervalHours: 720,
  emailEnabled: true,
  defaultFollowUpConfig: null,
  // not a setting of the organization's: the operator assigns it (test/sms-numbers.test.ts)
  smsFrom: null,
};

/** Fires and delivers everything due at the current manual time. */
async function runWorker(): Promise<void> {
  while ((await runDispatcherOnce(app.ctx)) > 0);
  while ((await deliverOnce(app.ctx)) > 0);
}

async function sentCount(leadId: string): Promise<number> {
  const [row] = await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE lead_id = $1 AND direction = 'outbound'`, [leadId]);
  return row.n;
}

describe('GET /api/organization', () => {
  test('answers the caller\'s organization with the default settings, to any of its users', async () => {
    const res = await read(acme);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.success, true);
    const { _id, name, createdAt, updatedAt, ...settings } = res.body.data;
    assert.equal(_id, acme.organizationId);
    assert.equal(name, 'Acme');
    assert.ok(!Number.isNaN(Date.parse(createdAt)) && !Number.isNaN(Date.parse(updatedAt)));
    assert.deepEqual(settings, DEFAULTS);

    const rep = await addUser(app, acme, 'SALES_REP');
    const asRep = await read(rep);
    assert.equal(asRep.status, 200, asRep.text);
    assert.deepEqual(asRep.body.data, res.body.data);
  });

  test('needs credentials', async () => {
    assertNativeError(await app.request('GET', '/api/organization'), 401, 'no token');
  });
});

describe('PATCH /api/organization', () => {
  test('every setting can be changed and reads back, alone or together', async () => {
    const org = await registerOrganization(app, 'Changes');
    const everything = {
      timezone: 'America/New_York',
      defaultCountry: 'GB',
      sendWindowStart: '08:30',
      sendWindowEnd: '17:45',
      sendDays: [1, 3, 5],
      longTermIntervalHours: 48,
      emailEnabled: false,
      defaultFollowUpConfig: { '1': { hours: 2, channel: 'text', template: 'Hi {{firstName}}' }, '3': { hours: 30.5, channel: 'call', voicemailEnabled: true } },
    };
    app.clock.advance(1000);
    const res = await patch(org, everything);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.success, true);
    const { _id, name, createdAt, updatedAt, ...settings } = res.body.data;
    assert.deepEqual(settings, { ...everything, smsFrom: null });
    assert.equal(updatedAt, app.clock.now().toISOString());
    assert.deepEqual((await read(org)).body.data, res.body.data);

    // one at a time: each changes that setting and nothing else
    const oneByOne: Record<string, unknown>[] = [
      { timezone: 'Asia/Tokyo' },
      { defaultCountry: 'DE' },
      { sendWindowStart: '07:00' },
      { sendWindowEnd: '23:59' },
      { sendDays: [7] },
      { longTermIntervalHours: MAX_STEP_HOURS },
      { longTermIntervalHours: 1 },
      { emailEnabled: true },
      { defaultFollowUpConfig: { '1': { hours: 1, channel: 'email', strategyIds: 'auto' } } },
      { defaultFollowUpConfig: null },
    ];
    for (const change of oneByOne) {
      const before = (await read(org)).body.data;
      const changed = await patch(org, change);
      assert.equal(changed.status, 200, `${JSON.stringify(change)}: ${changed.text}`);
      const after = (await read(org)).body.data;
      assert.deepEqual({ ...after, updatedAt: undefined }, { ...before, ...change, updatedAt: undefined }, JSON.stringify(change));
    }
  });

  describe('refuses invalid input with 400 and changes nothing', () => {
    const tooLong = 'A'.repeat(65);
    const cases: [string, unknown][] = [
      ['empty body', {}],
      ['unknown field', { color: 'blue' }],
      ['unknown field beside a valid one', { longTermIntervalHours: 48, color: 'blue' }],
      ['name is not a setting', { name: 'Renamed' }],
      ['id is not a setting', { _id: '0123456789abcdef01234567' }],
      ['array body', [{ timezone: 'UTC' }]],
      ['null body', null],
      ['timezone: number', { timezone: 5 }],
      ['timezone: null', { timezone: null }],
      ['timezone: unknown zone', { timezone: 'Mars/Olympus_Mons' }],
      ['timezone: empty', { timezone: '' }],
      ['timezone: too long', { timezone: tooLong }],
      ['timezone: bad zone with a valid field', { longTermIntervalHours: 48, timezone: 'Nowhere/Nope' }],
      ['defaultCountry: lower case', { defaultCountry: 'us' }],
      ['defaultCountry: not a country', { defaultCountry: 'XX' }],
      ['defaultCountry: three letters', { defaultCountry: 'USA' }],
      ['defaultCountry: number', { defaultCountry: 1 }],
      ['sendWindowStart: no leading zero', { sendWindowStart: '9:00' }],
      ['sendWindowStart: 24:00', { sendWindowStart: '24:00' }],
      ['sendWindowStart: 60 minutes', { sendWindowStart: '09:60' }],
      ['sendWindowStart: seconds', { sendWindowStart: '09:00:00' }],
      ['sendWindowStart: number', { sendWindowStart: 900 }],
      ['sendWindowStart: after the stored end', { sendWindowStart: '21:00' }],
      ['sendWindowEnd: before the stored start', { sendWindowEnd: '08:00' }],
      ['sendWindowEnd: equal to the start', { sendWindowEnd: '09:00' }],
      ['sendWindowEnd: before the start given beside it', { sendWindowStart: '12:00', sendWindowEnd: '11:00' }],
      ['sendWindowEnd: null', { sendWindowEnd: null }],
      ['sendDays: empty', { sendDays: [] }],
      ['sendDays: 0', { sendDays: [0, 1] }],
      ['sendDays: 8', { sendDays: [1, 8] }],
      ['sendDays: duplicates', { sendDays: [1, 1] }],
      ['sendDays: fraction', { sendDays: [1.5] }],
      ['sendDays: string item', { sendDays: ['1'] }],
      ['sendDays: not an array', { sendDays: 1 }],
      ['longTermIntervalHours: 0', { longTermIntervalHours: 0 }],
      ['longTermIntervalHours: negative', { longTermIntervalHours: -48 }],
      ['longTermIntervalHours: fraction', { longTermIntervalHours: 1.5 }],
      ['longTermIntervalHours: above the step maximum', { longTermIntervalHours: MAX_STEP_HOURS + 1 }],
      ['longTermIntervalHours: string', { longTermIntervalHours: '48' }],
      ['longTermIntervalHours: null', { longTermIntervalHours: null }],
      ['emailEnabled: string', { emailEnabled: 'false' }],
      ['emailEnabled: null', { emailEnabled: null }],
      ['defaultFollowUpConfig: no steps', { defaultFollowUpConfig: {} }],
      ['defaultFollowUpConfig: array', { defaultFollowUpConfig: [{ hours: 1, channel: 'text' }] }],
      ['defaultFollowUpConfig: string', { defaultFollowUpConfig: 'daily' }],
      ['defaultFollowUpConfig: step 0', { defaultFollowUpConfig: { '0': { hours: 1, channel: 'text' } } }],
      ['defaultFollowUpConfig: zero hours', { defaultFollowUpConfig: { '1': { hours: 0, channel: 'text' } } }],
      ['defaultFollowUpConfig: hours above the maximum', { defaultFollowUpConfig: { '1': { hours: MAX_STEP_HOURS + 1, channel: 'text' } } }],
      ['defaultFollowUpConfig: unknown channel', { defaultFollowUpConfig: { '1': { hours: 1, channel: 'fax' } } }],
      ['defaultFollowUpConfig: missing channel', { defaultFollowUpConfig: { '1': { hours: 1 } } }],
      ['defaultFollowUpConfig: unknown step field', { defaultFollowUpConfig: { '1': { hours: 1, channel: 'text', color: 'red' } } }],
      ['defaultFollowUpConfig: voicemail on a text step', { defaultFollowUpConfig: { '1': { hours: 1, channel: 'text', voicemailEnabled: true } } }],
    ];

    for (const [name, body] of cases) {
      test(name, async () => {
        const before = await read(acme);
        const row = await storedRow(acme);
        app.clock.advance(1000); // any write would move updatedAt
        const res = await patch(acme, body);
        assertNativeError(res, 400, name);
        assert.deepEqual((await read(acme)).body, before.body);
        assert.equal(await storedRow(acme), row, `${name} wrote to the organization`);
      });
    }

    test('field errors name the field', async () => {
      const checks: [unknown, string][] = [
        [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
        [{ defaultCountry: 'XX' }, 'defaultCountry'],
        [{ sendWindowStart: '9:00' }, 'sendWindowStart'],
        [{ sendWindowEnd: '08:00' }, 'sendWindowEnd'],
        [{ sendDays: [1, 1] }, 'sendDays'],
        [{ longTermIntervalHours: 0 }, 'longTermIntervalHours'],
        [{ emailEnabled: 'yes' }, 'emailEnabled'],
        [{ defaultFollowUpConfig: { '1': { hours: 1, channel: 'fax' } } }, 'defaultFollowUpConfig.1.channel'],
        [{ defaultFollowUpConfig: { '1': { hours: 1, channel: 'text', voicemailEnabled: true } } }, 'defaultFollowUpConfig.1.voicemailEnabled'],
        [{ color: 'blue' }, 'color'],
      ];
      for (const [body, field] of checks) {
        const res = await patch(acme, body);
        assertNativeError(res, 400, JSON.stringify(body));
        assert.ok(
          res.body.details?.some((detail: { field: string }) => detail.field === field || detail.field.startsWith(`${field}.`) || detail.field.startsWith(`${field}[`)),
          `${JSON.stringify(body)} → ${res.text}`,
        );
      }
    });

    test('malformed JSON and a body that is not JSON', async () => {
      const row = await storedRow(acme);
      const malformed = await app.request('PATCH', '/api/organization', { token: acme.token, raw: '{"longTermIntervalHours": 48', headers: { 'content-type': 'application/json' } });
      assertNativeError(malformed, 400, 'malformed JSON');
      const notJson = await app.request('PATCH', '/api/organization', { token: acme.token, raw: 'longTermIntervalHours=48', headers: { 'content-type': 'text/plain' } });
      assert.ok(notJson.status === 415 || notJson.status === 400, notJson.text);
      assert.equal(notJson.body.success, false);
      assert.equal(await storedRow(acme), row);
    });
  });

  test('email steps in the default cadence need the organization\'s email, also when it is turned off later', async () => {
    const org = await registerOrganization(app, 'Mail');
    const emailCadence = { '1': { hours: 1, channel: 'email' } };
    assert.equal((await patch(org, { defaultFollowUpConfig: emailCadence })).status, 200);
    const row = await storedRow(org);
    const off = await patch(org, { emailEnabled: false });
    assertNativeError(off, 400, 'email off under an email cadence');
    assert.equal(off.body.details[0].field, 'defaultFollowUpConfig.1.channel');
    assert.equal(await storedRow(org), row);

    // both at once: the cadence checked is the new one
    const both = await patch(org, { emailEnabled: false, defaultFollowUpConfig: { '1': { hours: 1, channel: 'text' } } });
    assert.equal(both.status, 200, both.text);
    assertNativeError(await patch(org, { defaultFollowUpConfig: emailCadence }), 400, 'email cadence while email is off');
    assert.equal((await read(org)).body.data.defaultFollowUpConfig['1'].channel, 'text');
  });

  test('only an ADMIN may change the settings: other roles get 403 and nothing changes', async () => {
    const rep = await addUser(app, acme, 'SALES_REP');
    const head = await addUser(app, acme, 'DEPARTMENT_HEAD');
    const row = await storedRow(acme);
    for (const user of [rep, head]) {
      app.clock.advance(1000);
      const res = await patch(user, { longTermIntervalHours: 48, timezone: 'Europe/Paris' });
      assertNativeError(res, 403, 'non-admin');
      assert.equal(res.body.error, 'Permission denied');
      assert.equal(await storedRow(acme), row);
    }
  });

  test("an organization's change leaves another's settings alone, and neither sees the other's", async () => {
    const rivalRow = await storedRow(rival);
    const rivalBefore = (await read(rival)).body.data;
    app.clock.advance(1000);
    const res = await patch(acme, { timezone: 'Europe/Paris', longTermIntervalHours: 100, defaultCountry: 'FR' });
    assert.equal(res.status, 200, res.text);
    assert.equal(await storedRow(rival), rivalRow);
    const rivalAfter = (await read(rival)).body;
    assert.deepEqual(rivalAfter.data, rivalBefore);
    assert.equal(rivalAfter.data._id, rival.organizationId);
    assert.equal(rivalAfter.data.name, 'Rival');
    assert.ok(!JSON.stringify(rivalAfter).includes(acme.organizationId));

    // the rival's own change reaches only the rival
    const acmeRow = await storedRow(acme);
    assert.equal((await patch(rival, { longTermIntervalHours: 200 })).status, 200);
    assert.equal(await storedRow(acme), acmeRow);
    assert.equal((await read(acme)).body.data.longTermIntervalHours, 100);
    assert.equal((await read(rival)).body.data.longTermIntervalHours, 200);
    // back to the defaults for the tests that use the rival as a control
    assert.equal((await patch(rival, { longTermIntervalHours: 720 })).status, 200);
  });
});

describe('the settings take effect', () => {
  test('longTermIntervalHours times a lead moved to LONG_TERM (-2)', async () => {
    const org = await registerOrganization(app, 'Long term');
    const lead = await createLead(app, org);
    assert.equal((await patch(org, { longTermIntervalHours: 48 })).status, 200);
    const res = await app.request('PATCH', `/api/leads/${lead._id}`, { token: org.token, body: { followUpStep: -2 } });
    assert.equal(res.status, 200, res.text);
    const expected = new Date(app.clock.now().getTime() + 48 * HOUR);
    assert.equal(res.body.data.nextFollowUpAt, expected.toISOString());
    assert.deepEqual((await leadRow(app, lead._id)).next_follow_up_at, expected);

    // and the next PATCH sees a further change at once
    assert.equal((await patch(org, { longTermIntervalHours: 5 })).status, 200);
    const again = await app.request('PATCH', `/api/leads/${lead._id}`, { token: org.token, body: { followUpStep: -2 } });
    assert.equal(again.body.data.nextFollowUpAt, new Date(app.clock.now().getTime() + 5 * HOUR).toISOString());
  });

  test("defaultFollowUpConfig times a lead with neither its own config nor an agent's", async () => {
    const org = await registerOrganization(app, 'Default cadence');
    const agent = (await app.request('POST', '/api/agents', { token: org.token, body: { name: 'No cadence' } })).body.data;
    const plain = await createLead(app, org);
    const withAgent = await createLead(app, org, { agentId: agent._id });
    const cadence = { '1': { hours: 5, channel: 'text' }, '2': { hours: 9, channel: 'text' } };
    assert.equal((await patch(org, { defaultFollowUpConfig: cadence })).status, 200);
    for (const lead of [plain, withAgent]) {
      const res = await app.request('PATCH', `/api/leads/${lead._id}`, { token: org.token, body: { followUpStep: 1 } });
      assert.equal(res.status, 200, res.text);
      // the built-in cadence's first step waits 24 hours
      assert.equal(res.body.data.nextFollowUpAt, new Date(app.clock.now().getTime() + 5 * HOUR).toISOString());
    }
    // a step only the default cadence has is accepted
    const third = await app.request('PATCH', `/api/leads/${plain._id}`, { token: org.token, body: { followUpStep: 2 } });
    assert.equal(third.body.data.nextFollowUpAt, new Date(app.clock.now().getTime() + 9 * HOUR).toISOString());
  });

  test('the window and timezone defer a due touch outside them until the next opening', async () => {
    app.clock.set('2026-06-01T00:00:00Z');
    const org = await registerOrganization(app, 'Window');
    const control = await registerOrganization(app, 'Control');
    // 10:00–16:00 in New York, Tuesday to Saturday: every instant below is inside the default
    // window (09:00–20:00 UTC, Monday to Saturday) in UTC and in New York, except where noted
    const res = await patch(org, { timezone: 'America/New_York', sendWindowStart: '10:00', sendWindowEnd: '16:00', sendDays: [2, 3, 4, 5, 6] });
    assert.equal(res.status, 200, res.text);
    const cadence = { followUpConfig: { '1': { hours: 1, channel: 'text' }, '2': { hours: 24, channel: 'text' } } };
    const tuesdayOpening = new Date('2026-06-02T14:00:00Z'); // Tuesday 10:00 EDT

    // a closed day: Monday 11:00 EDT
    app.clock.set('2026-06-01T15:00:00Z');
    const monday = await createLead(app, org, cadence);
    const controlLead = await createLead(app, control, cadence);
    await scheduleLead(app, monday._id, 1, app.clock.now());
    await scheduleLead(app, controlLead._id, 1, app.clock.now());
    await runWorker();
    assert.equal(await sentCount(monday._id), 0);
    assert.deepEqual((await leadRow(app, monday._id)).follow_up_deferred_until, tuesdayOpening);
    assert.equal(await sentCount(controlLead._id), 1, 'the default window was open');

    // before the opening time: Tuesday 09:30 EDT
    app.clock.set('2026-06-02T13:30:00Z');
    const early = await createLead(app, org, cadence);
    await scheduleLead(app, early._id, 1, app.clock.now());
    await runWorker();
    assert.equal(await sentCount(early._id), 0);
    const state = await leadRow(app, early._id);
    assert.deepEqual(state.follow_up_deferred_until, tuesdayOpening);
    assert.deepEqual(state.next_follow_up_at, tuesdayOpening);
    assert.equal(state.follow_up_step, 1);

    // at the opening both go out
    app.clock.set(tuesdayOpening);
    await runWorker();
    assert.equal(await sentCount(monday._id), 1);
    assert.equal(await sentCount(early._id), 1);
    assert.equal((await leadRow(app, early._id)).follow_up_step, 2);

    // after the closing time: Tuesday 16:30 EDT (inside New York's default 09:00–20:00)
    app.clock.set('2026-06-02T20:30:00Z');
    const late = await createLead(app, org, cadence);
    await scheduleLead(app, late._id, 1, app.clock.now());
    await runWorker();
    assert.equal(await sentCount(late._id), 0);
    assert.deepEqual((await leadRow(app, late._id)).follow_up_deferred_until, new Date('2026-06-03T14:00:00Z'));
  });
});

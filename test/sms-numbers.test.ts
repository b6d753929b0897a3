import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open.ts';
import { assignSmsNumber } from '../src/modules/organizations/service.ts';
import { deliverOnce, releaseChannels } from '../src/worker/delivery.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { createLead, leadRow, messagesOf, nextPhone, scheduleLead } from './support/followups.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { workerSchema } from './support/worker-processes.ts';

const OWN_NUMBER = '+15550002222';
let app: TestApp;
let twilio: FakeTwilio;
let own: Account;
let shared: Account;

before(async () => {
  twilio = await startFakeTwilio();
  app = await startApp({ twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, baseUrl: twilio.baseUrl } });
  own = await registerOrganization(app, 'Own Number');
  shared = await registerOrganization(app, 'Shared Number');
  await assignSmsNumber(app.db, own.organizationId, OWN_NUMBER, twilio.from, app.clock.now());
});
after(async () => {
  await releaseChannels(app.ctx);
  await app.close();
  await twilio.close();
});

async function runWorker(): Promise<void> {
  while ((await runDispatcherOnce(app.ctx, { deliverInline: true })) > 0);
  while ((await deliverOnce(app.ctx)) > 0);
}

/** A text to `phone` from each organization's lead with that phone, `first`'s sent first. */
async function textBoth(phone: string, first: Account, second: Account) {
  const leads = new Map<Account, string>();
  for (const account of [first, second]) {
    const lead = await createLead(app, account, { phone, followUpConfig: { '1': { hours: 1, channel: 'text', template: 'Hello' } } });
    await scheduleLead(app, lead._id, 1, app.clock.now());
    await runWorker();
    app.clock.advance(60_000);
    leads.set(account, lead._id);
  }
  return { ownLead: leads.get(own)!, sharedLead: leads.get(shared)! };
}

const inbound = (params: Record<string, string>) => {
  const signed = twilio.signed(app.url + '/api/webhook/twilio/sms', { AccountSid: twilio.accountSid, ...params });
  return app.request('POST', '/api/webhook/twilio/sms', { raw: signed.raw, headers: signed.headers });
};

describe("an organization's own sender number", () => {
  before(() => {
    // the carrier signs for the public address the app listens on
    app.ctx.config.publicUrl = app.url;
  });

  test('its texts, calls and manual sends go out from it; the others still send from TWILIO_FROM', async () => {
    app.clock.set('2026-06-01T12:00:00Z');
    const phone = nextPhone();
    const before = twilio.created.length;
    await textBoth(phone, own, shared);
    const agent = (await app.request('POST', '/api/agents', { token: own.token, body: { name: 'Caller', voiceEnabled: true } })).body.data;
    const caller = await createLead(app, own, { agentId: agent._id, followUpConfig: { '1': { hours: 1, channel: 'call' } } });
    await scheduleLead(app, caller._id, 1, app.clock.now());
    const manual = await app.request('POST', `/api/leads/${caller._id}/messages`, { token: own.token, body: { content: 'A rep writes', channel: 'text' } });
    assert.equal(manual.status, 201, manual.text);
    await runWorker();

    const sent = twilio.created.slice(before).map((request) => [request.resource, request.params.To === phone ? 'phone' : 'caller', request.params.From]);
    assert.deepEqual(sent.sort(), [
      ['Calls', 'caller', OWN_NUMBER],
      ['Messages', 'caller', OWN_NUMBER],
      ['Messages', 'phone', OWN_NUMBER],
      ['Messages', 'phone', twilio.from],
    ].sort());
    // the message records the number it went out from
    const [text] = (await messagesOf(app, own, caller._id)).filter((message) => message.channel === 'text');
    assert.equal(text.from, OWN_NUMBER);
  });

  test('a reply to it reaches that organization, even when another organization texted the same phone later', async () => {
    app.clock.set('2026-06-02T12:00:00Z');
    const phone = nextPhone();
    const { ownLead, sharedLead } = await textBoth(phone, own, shared);
    assert.equal((await inbound({ From: phone, To: OWN_NUMBER, Body: 'Yes, to the first one', MessageSid: 'SMown1' })).status, 200);

    assert.equal((await leadRow(app, ownLead)).has_replied, true);
    assert.equal((await leadRow(app, sharedLead)).has_replied, false);
    assert.deepEqual((await messagesOf(app, shared, sharedLead)).map((m) => m.direction), ['outbound']);
  });

  test('a reply to TWILIO_FROM reaches only the organizations sending from it, even when the one with its own number texted later', async () => {
    app.clock.set('2026-06-03T12:00:00Z');
    const phone = nextPhone();
    const { ownLead, sharedLead } = await textBoth(phone, shared, own);
    assert.equal((await inbound({ From: phone, To: twilio.from, Body: 'STOP', MessageSid: 'SMshared1' })).status, 200);

    assert.equal((await leadRow(app, sharedLead)).opted_out, true);
    assert.equal((await leadRow(app, ownLead)).opted_out, false);
    assert.equal((await leadRow(app, ownLead)).has_replied, false);
  });

  test('a reply from a phone never texted goes to a lead with that phone of the organizations sending from that number', async () => {
    app.clock.set('2026-06-04T12:00:00Z');
    const phone = nextPhone();
    const ownLead = await createLead(app, own, { phone });
    // the shared organization's lead is the one updated last: it would win without the number's scope
    app.clock.advance(60_000);
    const sharedLead = await createLead(app, shared, { phone });
    assert.equal((await inbound({ From: phone, To: OWN_NUMBER, Body: 'Who is this?', MessageSid: 'SMown2' })).status, 200);
    assert.equal((await leadRow(app, ownLead._id)).has_replied, true);
    assert.equal((await leadRow(app, sharedLead._id)).has_replied, false);
  });

  test('GET /api/organization shows it; PATCH cannot set it (the operator assigns numbers)', async () => {
    assert.equal((await app.request('GET', '/api/organization', { token: own.token })).body.data.smsFrom, OWN_NUMBER);
    assert.equal((await app.request('GET', '/api/organization', { token: shared.token })).body.data.smsFrom, null);
    const res = await app.request('PATCH', '/api/organization', { token: shared.token, body: { smsFrom: '+15550003333' } });
    assert.equal(res.status, 400);
    assert.equal((await app.request('GET', '/api/organization', { token: shared.token })).body.data.smsFrom, null);
  });

  test('assignment refuses a number not in E.164, TWILIO_FROM itself, and a number another organization has', async () => {
    const assign = (account: Account, number: string) => assignSmsNumber(app.db, account.organizationId, number, twilio.from, app.clock.now());
    await assert.rejects(assign(shared, '555 0003'), /not a phone number in E\.164 form/);
    await assert.rejects(assign(shared, twilio.from), /is TWILIO_FROM/);
    await assert.rejects(assign(shared, OWN_NUMBER), /already the sender number of another organization/);
    assert.equal((await app.request('GET', '/api/organization', { token: shared.token })).body.data.smsFrom, null);
  });
});

describe('`openlead sms-number`', () => {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  let env: Record<string, string>;
  let drop: () => Promise<void>;

  before(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'openlead-sms-number-'));
    const schema = process.env.DATABASE_URL ? await workerSchema(process.env.DATABASE_URL, 2) : undefined;
    env = { DATA_DIR: dataDir, ...(schema ? { DATABASE_URL: schema.databaseUrl } : {}) };
    // two organizations, written before the command runs (an embedded database has one process at a time)
    const db = await openDatabase({ dataDir, databaseUrl: schema?.databaseUrl });
    await migrate(db);
    await db.query(`INSERT INTO organizations (id, name) VALUES ('aaaaaaaaaaaaaaaaaaaaaaaa', 'First'), ('bbbbbbbbbbbbbbbbbbbbbbbb', 'Second')`);
    await db.close();
    drop = async () => {
      await schema?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  });
  after(() => drop());

  function run(...args: string[]): Promise<{ code: number | null; output: string }> {
    const base = { ...process.env };
    delete base.DATABASE_URL;
    const child = spawn(process.execPath, ['bin/openlead.mjs', 'sms-number', ...args], {
      cwd: repoRoot,
      env: { ...base, ...env, TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15550001111' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output: output.trim() })));
  }

  test('assigns, prints, refuses with one line and exit 1, and clears', { timeout: 120_000 }, async () => {
    assert.deepEqual(await run('aaaaaaaaaaaaaaaaaaaaaaaa', '+15550002222'), { code: 0, output: 'aaaaaaaaaaaaaaaaaaaaaaaa now sends from +15550002222' });
    assert.deepEqual(await run('bbbbbbbbbbbbbbbbbbbbbbbb', '+15550002222'), {
      code: 1,
      output: 'error: +15550002222 is already the sender number of another organization',
    });
    assert.deepEqual(await run('cccccccccccccccccccccccc', '+15550003333'), { code: 1, output: 'error: no organization cccccccccccccccccccccccc' });
    assert.deepEqual(await run('aaaaaaaaaaaaaaaaaaaaaaaa'), { code: 0, output: 'aaaaaaaaaaaaaaaaaaaaaaaa sends from +15550002222' });
    assert.deepEqual(await run('aaaaaaaaaaaaaaaaaaaaaaaa', '--clear'), { code: 0, output: 'aaaaaaaaaaaaaaaaaaaaaaaa sends from the shared number +15550001111' });
    // the number is free again
    assert.deepEqual(await run('bbbbbbbbbbbbbbbbbbbbbbbb', '+15550002222'), { code: 0, output: 'bbbbbbbbbbbbbbbbbbbbbbbb now sends from +15550002222' });
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runImportCommand } from '../src/modules/imports/cli.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { approvalsOf, createConfiguration, leadRow } from './support/intake.ts';

let app: TestApp;
let admin: Account;
let config: any;

before(async () => {
  app = await startApp();
  admin = await registerOrganization(app);
  config = await createConfiguration(app, admin, { starterMessage: 'Hi {{firstName}} from {{City}}' });
});
after(() => app.close());

const importCsv = (csv: string, configurationId = config._id, token = admin.token) =>
  app.request('POST', `/api/leads/import?configurationId=${configurationId}`, { token, raw: csv, headers: { 'content-type': 'text/csv' } });

describe('POST /api/leads/import', () => {
  test('good rows are routed and kept; bad rows are reported with their line', async () => {
    const csv = [
      'First Name,Last Name,Phone,Email,City',
      'Ada,Lovelace,+1 212 555 7001,ada.csv@example.com,London',
      'Bad,Phone,not a phone,,Paris',
      'No,Contact,,,Rome',
      '"Grace","Hopper","(212) 555-7002",,"New York"',
      'Ada,Lovelace,+1 212 555 7001,,London',
      '"broken,quote',
    ].join('\n');
    const res = await importCsv(csv);
    assert.equal(res.status, 200, res.text);
    const report = res.body.data;
    assert.equal(report.rows, 6);
    assert.equal(report.created, 2);
    assert.equal(report.updated, 1, 'the repeated Ada row is the same person');
    assert.equal(report.failed, 3);
    assert.deepEqual(report.errors.map((e: any) => e.line).sort(), [3, 4, 7]);
    assert.match(report.errors.find((e: any) => e.line === 3).error, /phone/);

    const [ada] = await app.db.query<any>(`SELECT id FROM leads WHERE phone = '+12125557001'`);
    const lead = await leadRow(app, ada.id);
    assert.equal(lead.source, 'Facebook Lead Ad');
    assert.equal(lead.stage_name, 'New Lead');
    assert.equal(lead.configuration_id, config._id);
    assert.equal(lead.additional_info.City, 'London');
    const approvals = await approvalsOf(app, ada.id);
    assert.equal(approvals.length, 1, 'one first message per person');
    assert.equal(approvals[0].content, 'Hi Ada from London');
    const [intake] = await app.db.query<any>(`SELECT sum(cost)::float AS cost FROM lead_intakes WHERE configuration_id = $1`, [config._id]);
    assert.equal(intake.cost, 25, 'cost per lead counted for the two new leads');
  });

  test('re-importing the same file updates instead of duplicating', async () => {
    const csv = 'name,phone\nRe Import,+1 212 555 7010\n';
    assert.equal((await importCsv(csv)).body.data.created, 1);
    const again = await importCsv(csv);
    assert.equal(again.body.data.created, 0);
    assert.equal(again.body.data.updated, 1);
  });

  test('a multipart file upload works the same', async () => {
    const form = new FormData();
    form.set('file', new Blob(['phone,first name\n+1 212 555 7020,Multi\n'], { type: 'text/csv' }), 'leads.csv');
    const response = await fetch(`${app.url}/api/leads/import?configurationId=${config._id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}` },
      body: form,
    });
    const body = (await response.json()) as any;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.data.created, 1);
  });

  test('configuration rules: missing id 400, unknown 404, inactive 400; no auth 401; JSON 415', async () => {
    const missing = await app.request('POST', '/api/leads/import', { token: admin.token, raw: 'phone\n1', headers: { 'content-type': 'text/csv' } });
    assert.equal(missing.status, 400);
    assert.equal((await importCsv('phone\n+12125557030', '0123456789abcdef01234567')).status, 404);
    const inactive = await createConfiguration(app, admin, { status: 'inactive' });
    assert.equal((await importCsv('phone\n+12125557030', inactive._id)).status, 400);
    assert.equal((await app.request('POST', `/api/leads/import?configurationId=${config._id}`, { raw: 'phone\n1', headers: { 'content-type': 'text/csv' } })).status, 401);
    assert.equal((await app.request('POST', `/api/leads/import?configurationId=${config._id}`, { token: admin.token, body: { phone: '1' } })).status, 415);
  });
});

describe('openlead import (the CLI command)', () => {
  test('imports a file with a progress bar and reports refused rows', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'openlead-import-'));
    const file = path.join(dir, 'leads.csv');
    const lines = ['first_name,phone'];
    for (let i = 0; i < 50; i++) lines.push(`Cli${i},+1 646 555 ${String(1000 + i)}`);
    lines.push('Broken,12');
    await writeFile(file, lines.join('\n'));
    let output = '';
    const err = { isTTY: true, write: (chunk: string) => ((output += chunk), true) } as unknown as NodeJS.WriteStream;
    try {
      const report = await runImportCommand(app.ctx, file, config._id, err);
      assert.equal(report.created, 50);
      assert.equal(report.failed, 1);
      assert.match(output, /\r\[#{30}\] 100% 51 rows {2}created 50/);
      // into a file or a pipe: the final line alone, no carriage returns
      let logged = '';
      const log = { isTTY: false, write: (chunk: string) => ((logged += chunk), true) } as unknown as NodeJS.WriteStream;
      await runImportCommand(app.ctx, file, config._id, log);
      assert.match(logged, /^\[#{30}\] 100% 51 rows {2}created 0 {2}updated 50 {2}failed 1 .*\n$/);
      assert.ok(!logged.includes('\r'));
      await assert.rejects(runImportCommand(app.ctx, file, '0123456789abcdef01234567', err), /no active lead management configuration/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { insertNumbered } from '../src/db/bulk.ts';
import type { Database } from '../src/db/database.ts';
import { maintenanceDue, runMaintenancePass, type TableCounters } from '../src/db/maintenance.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPglite } from '../src/db/pglite.ts';
import { freePort, spawnWorker, waitFor, type WorkerProcess } from './support/worker-processes.ts';

describe('maintenanceDue (autovacuum’s thresholds, without a database)', () => {
  const quiet: TableCounters = { table: 'public.t', estimatedRows: 1000, deadRows: 0, insertedSinceVacuum: 0, modifiedSinceAnalyze: 0, xidAge: 1000 };

  test('a quiet table needs nothing', () => {
    assert.deepEqual(maintenanceDue(quiet), { vacuum: false, analyze: false });
  });

  test('vacuum past 50 + 20% of the rows dead, or 1000 + 20% inserted since the last vacuum, or 200 million transactions old', () => {
    assert.equal(maintenanceDue({ ...quiet, deadRows: 250 }).vacuum, false);
    assert.equal(maintenanceDue({ ...quiet, deadRows: 251 }).vacuum, true);
    assert.equal(maintenanceDue({ ...quiet, insertedSinceVacuum: 1200 }).vacuum, false);
    assert.equal(maintenanceDue({ ...quiet, insertedSinceVacuum: 1201 }).vacuum, true);
    assert.equal(maintenanceDue({ ...quiet, xidAge: 200_000_001 }).vacuum, true);
  });

  test('analyze past 50 + 10% of the rows modified; a never-analyzed table (-1 rows) counts as empty', () => {
    assert.deepEqual(maintenanceDue({ ...quiet, modifiedSinceAnalyze: 150 }), { vacuum: false, analyze: false });
    assert.deepEqual(maintenanceDue({ ...quiet, modifiedSinceAnalyze: 151 }), { vacuum: false, analyze: true });
    assert.deepEqual(maintenanceDue({ ...quiet, estimatedRows: -1, modifiedSinceAnalyze: 51 }), { vacuum: false, analyze: true });
  });
});

describe('runMaintenancePass on the embedded database', () => {
  let db: Database;
  before(async () => {
    db = await openPglite();
    await migrate(db);
  });
  after(() => db.close());

  const counters = async (table: string) => {
    // the server reports its counters at most once a second unless told to
    await db.query('SELECT pg_stat_force_next_flush()');
    return (
      await db.query<{ dead: number; estimated: number; analyzed: boolean; vacuumed: boolean }>(
        `SELECT s.n_dead_tup::int AS dead, c.reltuples::int AS estimated, s.last_analyze IS NOT NULL AS analyzed, s.last_vacuum IS NOT NULL AS vacuumed
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = $1`,
        [table],
      )
    )[0];
  };

  test('reclaims dead row versions and gives the planner statistics, then has nothing left to do', async () => {
    await db.query(`INSERT INTO organizations (id, name) VALUES ('org-maintenance', 'Maintenance')`);
    await insertNumbered(
      db,
      'leads',
      'org-maintenance',
      ['id', 'first_name', 'phone'],
      Array.from({ length: 1500 }, (_, k) => ({ id: `lead-${k + 1}`, first_name: `Lead ${k + 1}`, phone: `+1555${String(k + 1).padStart(7, '0')}` })),
    );
    // a new phone is a new index entry: each lead leaves its old row version behind
    await db.query(`UPDATE leads SET phone = phone || '9' WHERE organization_id = 'org-maintenance'`);
    const before = await counters('leads');
    assert.ok(before.dead > 0, `dead row versions: ${before.dead}`);
    assert.deepEqual({ ...before, dead: 0 }, { dead: 0, estimated: -1, analyzed: false, vacuumed: false });

    await db.query('SELECT pg_stat_force_next_flush()');
    const maintained = await runMaintenancePass(db);
    assert.deepEqual(
      maintained.find((m) => m.table === 'public.leads'),
      { table: 'public.leads', vacuum: true, analyze: true },
    );
    assert.deepEqual(await counters('leads'), { dead: 0, estimated: 1500, analyzed: true, vacuumed: true });
    await db.query('SELECT pg_stat_force_next_flush()');
    assert.deepEqual(await runMaintenancePass(db), [], 'a second pass finds every table within its thresholds');
  });
});

describe('openlead start on the embedded database', () => {
  let dataDir: string;
  let service: WorkerProcess;
  let url: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'openlead-maintenance-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // DATABASE_URL emptied: the embedded database even when the suite runs on PostgreSQL
    service = spawnWorker({ DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', PGLITE_MAINTENANCE_SECONDS: '1' }, 'api');
    assert.ok(await waitFor(async () => service.output().includes('openlead started'), 60_000, 100), service.output());
  });
  after(async () => {
    await service.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('vacuums and analyzes the tables its requests changed, every PGLITE_MAINTENANCE_SECONDS', async () => {
    const call = async (method: string, route: string, body: unknown, token?: string) => {
      const response = await fetch(url + route, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      const json = await response.json();
      assert.ok(response.ok, JSON.stringify(json));
      return json.data;
    };
    const { token } = await call('POST', '/api/auth/register', {
      email: 'maintenance@example.com',
      password: 'correct horse battery',
      fullName: 'Ada Admin',
      organizationName: 'Maintenance',
    });
    const lead = await call('POST', '/api/leads', { phone: '+15550100100', firstName: 'Ada' }, token);
    // each update leaves the lead's previous row version behind
    for (let n = 0; n < 60; n++) await call('PATCH', `/api/leads/${lead._id}`, { lastName: `Lovelace ${n}` }, token);
    const maintainedLeads = () => /"msg":"database maintenance"/.test(service.output()) && /"table":"public\.leads","vacuum":true/.test(service.output());
    assert.ok(await waitFor(async () => maintainedLeads(), 15_000, 100), service.output());
  });
});

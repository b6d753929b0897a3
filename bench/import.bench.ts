/**
 * CSV import: 100,000 rows (BENCH_IMPORT_ROWS) posted to POST /api/leads/import and routed
 * through a lead-management configuration (dedupe, placement, first message, cadence), next
 * to the raw database doing the bare minimum for the same rows on the same server: psql
 * `\copy` of the same file into a staging table, then one INSERT … SELECT into `leads`,
 * its rows numbered by one bump of the organization's counter, as the service numbers them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDatabaseUrl, startBenchApp, type BenchApp } from './support.ts';

const rows = Number(process.env.BENCH_IMPORT_ROWS || 100_000);

function csvOf(count: number): string {
  const lines = ['firstName,lastName,phone,email,company'];
  // 212-2xx-xxxx: valid US numbers, all distinct
  for (let i = 0; i < count; i++) lines.push(`Lee${i},Row${i},+1212${2_000_000 + i},lee${i}@example.com,Company ${i % 97}`);
  return lines.join('\n') + '\n';
}

function psql(app: BenchApp, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', benchDatabaseUrl], { env: { ...process.env, PGOPTIONS: app.pgOptions } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited with ${code}:\n${output}`))));
    child.stdin.end(script);
  });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export default async function importBench(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'openlead-import-'));
  const app = await startBenchApp();
  try {
    const file = path.join(dir, 'leads.csv');
    const csv = csvOf(rows);
    await writeFile(file, csv);

    const admin = await app.register();
    const prompt = await app.call('POST', '/api/prompts', { token: admin.token, body: { name: 'Import process', content: 'Be brief.' } });
    const configuration = await app.call('POST', '/api/lead-management', {
      token: admin.token,
      body: {
        configurationName: 'Bench import',
        initialStage: 'New Lead',
        defaultProcess: prompt.data._id,
        source: 'CSV',
        starterMessage: 'Hi {{firstName}}, thanks for your interest!',
      },
    });

    let summary: { created: number; failed: number } = { created: 0, failed: 0 };
    const appSeconds = await timed(async () => {
      const response = await fetch(`${app.url}/api/leads/import?configurationId=${configuration.data._id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
        body: csv,
      });
      if (response.status !== 200) throw new Error(`import answered ${response.status}: ${await response.text()}`);
      summary = (await response.json()).data;
    });

    const other = await app.register('Baseline');
    const baselineSeconds = await timed(() =>
      psql(
        app,
        `CREATE TABLE import_staging (first_name text, last_name text, phone text, email text, company text);
\\copy import_staging FROM '${file}' WITH (FORMAT csv, HEADER true)
WITH taken AS MATERIALIZED (SELECT take_seqs('${other.organizationId}', 'leads', count(*)) AS last_before FROM import_staging)
INSERT INTO leads (organization_id, seq, id, first_name, last_name, name, phone, email, source, dedupe_key, additional_info)
  SELECT '${other.organizationId}', taken.last_before + row_number() OVER (), substr(md5(phone), 1, 24), first_name, last_name,
         first_name || ' ' || last_name, phone, email, 'CSV', phone, jsonb_build_object('company', company)
    FROM taken, import_staging;
`,
      ),
    );

    console.log(`\nimport: ${rows} CSV rows (created ${summary.created}, failed ${summary.failed})`);
    console.table([
      {
        'OpenLead import (routed)': `${appSeconds.toFixed(1)} s, ${(rows / appSeconds).toFixed(0)} rows/s`,
        'psql \\copy + INSERT…SELECT': `${baselineSeconds.toFixed(1)} s, ${(rows / baselineSeconds).toFixed(0)} rows/s`,
        'app/baseline': (baselineSeconds / appSeconds).toFixed(3),
      },
    ]);
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What every benchmark shares: the real service started as its own process on a fresh
 * PostgreSQL schema, autocannon against its HTTP API, pgbench against the same schema as
 * the baseline, and a side-by-side table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort } from '../test/support/worker-processes.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export const benchDatabaseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
/** Seconds each measurement runs (BENCH_SECONDS), kept short: the machine is shared. */
export const benchSeconds = Number(process.env.BENCH_SECONDS || 5);
/** Concurrent HTTP connections and pgbench clients (BENCH_CONNECTIONS). */
export const benchConnections = Number(process.env.BENCH_CONNECTIONS || 10);

export interface Measurement {
  /** requests (autocannon) or transactions (pgbench) per second */
  perSecond: number;
  p99Ms: number;
  /** requests that failed or answered other than 2xx (autocannon); failed transactions (pgbench) */
  failures: number;
}

export interface BenchApp {
  url: string;
  schema: string;
  /** `-c search_path=<schema>`: hand it to any other client (pgbench gets it through PGOPTIONS) */
  pgOptions: string;
  /** A JSON call to the running service; throws on a status other than `expect`. */
  call<T = any>(method: string, route: string, options?: { token?: string; body?: unknown; expect?: number }): Promise<T>;
  /** Registers an organization; returns its ADMIN's token, user and organization ids. */
  register(name?: string): Promise<{ token: string; userId: string; organizationId: string }>;
  close(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: benchDatabaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service did not become ready:\n${output()}`);
}

// Services still running, so an interrupted run (Ctrl-C, a timeout) still stops them and drops their schemas.
const running = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([...running].map((close) => close())).then(() => process.exit(130));
  });
}

/**
 * Starts `openlead start --role api` (the production entry point, migrations included) in
 * its own process, on a fresh schema of the bench database; `close` stops it and drops the schema.
 */
export async function startBenchApp(env: Record<string, string> = {}): Promise<BenchApp> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const pgOptions = `-c search_path=${schema}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const databaseUrl = new URL(benchDatabaseUrl);
  databaseUrl.searchParams.set('options', pgOptions);
  // BENCH_NODE_ARGS reaches the service's node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', 'start', '--role', 'api'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl.toString(),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'bench-secret-of-at-least-thirty-two-characters',
      ALLOW_REGISTRATION: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
  child.stderr!.on('data', (chunk) => (output = (output + chunk).slice(-4000)));

  const close = async () => {
    running.delete(close);
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  };
  running.add(close);
  try {
    await waitUntilReady(url, child, () => output);
  } catch (error) {
    await close();
    throw error;
  }

  const call = async (method: string, route: string, options: { token?: string; body?: unknown; expect?: number } = {}) => {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url + route, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    if (response.status !== (options.expect ?? 200) && !(options.expect === undefined && response.status === 201)) {
      throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
    }
    return text ? JSON.parse(text) : undefined;
  };

  const register = async (name = 'Bench Co') => {
    const body = await call('POST', '/api/auth/register', {
      body: { email: `bench-${randomBytes(4).toString('hex')}@example.com`, password: 'bench password', organizationName: name },
    });
    return { token: body.data.token as string, userId: body.data.user.id as string, organizationId: body.data.user.organizationId as string };
  };

  return { url, schema, pgOptions, call, register, close };
}

/** Drives one HTTP route with autocannon for `benchSeconds`. */
export async function runAutocannon(options: {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  token?: string;
  body?: unknown;
  connections?: number;
  seconds?: number;
  /** a different path and body for each request (e.g. random ids); overrides `path` and `body` */
  vary?: () => { path: string; body?: unknown };
}): Promise<Measurement> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined || options.vary) headers['content-type'] = 'application/json';
  const vary = options.vary;
  const result = await autocannon({
    ...(vary && {
      requests: [
        {
          setupRequest: (request) => {
            const next = vary();
            return { ...request, path: next.path, body: next.body === undefined ? undefined : JSON.stringify(next.body) };
          },
        },
      ],
    }),
    url: options.url + options.path,
    method: options.method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    connections: options.connections ?? benchConnections,
    duration: options.seconds ?? benchSeconds,
  });
  return { perSecond: result.requests.average, p99Ms: result.latency.p99, failures: result.errors + result.timeouts + result.non2xx };
}

/**
 * Runs `script` with pgbench on the app's schema (`-n -M <mode> -T s -c N -j 2`). The default
 * mode, extended, sends each query with parameters and plans it every time, as node-postgres
 * sends an unnamed query; prepared plans each statement once per connection, as the service's
 * named statements are. `variables` are passed with -D and used in the script as `:name`.
 * The p99 comes from pgbench's per-transaction log.
 */
export async function runPgbench(options: {
  app: Pick<BenchApp, 'pgOptions'>;
  script: string;
  mode?: 'extended' | 'prepared';
  variables?: Record<string, string>;
  clients?: number;
  seconds?: number;
}): Promise<Measurement> {
  const dir = await mkdtemp(path.join(tmpdir(), 'openlead-pgbench-'));
  try {
    const scriptFile = path.join(dir, 'script.sql');
    await writeFile(scriptFile, options.script);
    const args = [
      '-n',
      '-M', options.mode ?? 'extended',
      '-f', scriptFile,
      '-T', String(options.seconds ?? benchSeconds),
      '-c', String(options.clients ?? benchConnections),
      '-j', '2',
      '-l', '--log-prefix', path.join(dir, 'tx'),
      ...Object.entries(options.variables ?? {}).flatMap(([name, value]) => ['-D', `${name}=${value}`]),
      benchDatabaseUrl,
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('pgbench', args, { cwd: dir, env: { ...process.env, PGOPTIONS: options.app.pgOptions } });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.stderr.on('data', (chunk) => (text += chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench exited with ${code}:\n${text}`))));
    });
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
    if (!tps) throw new Error(`unexpected pgbench output:\n${output}`);
    const failed = /number of failed transactions: (\d+)/.exec(output);
    // per-transaction log lines: client_id transaction_no latency_us script_no epoch_s epoch_us
    const latencies: number[] = [];
    for (const file of (await readdir(dir)).filter((name) => name.startsWith('tx'))) {
      for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
        const latency = Number(line.split(' ')[2]);
        if (line && Number.isFinite(latency)) latencies.push(latency / 1000);
      }
    }
    return { perSecond: Number(tps[1]), p99Ms: percentile(latencies, 0.99), failures: failed ? Number(failed[1]) : 0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

export interface ComparisonRow {
  operation: string;
  app: Measurement;
  baseline: Measurement;
}

/** Prints the service next to its baseline: throughput, their ratio, and p99 latencies. */
export function printComparison(title: string, baselineName: string, rows: ComparisonRow[]): void {
  const table = rows.map((row) => ({
    operation: row.operation,
    'app req/s': row.app.perSecond.toFixed(0),
    [`${baselineName} tx/s`]: row.baseline.perSecond.toFixed(0),
    'app/baseline': (row.app.perSecond / row.baseline.perSecond).toFixed(3),
    'app p99 ms': row.app.p99Ms.toFixed(2),
    [`${baselineName} p99 ms`]: row.baseline.p99Ms.toFixed(2),
    'app failures': row.app.failures,
    [`${baselineName} failures`]: row.baseline.failures,
  }));
  console.log(`\n${title} (${benchSeconds} s each, ${benchConnections} connections)`);
  console.table(table);
}

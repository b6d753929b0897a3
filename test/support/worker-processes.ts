import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { insertNumbered } from '../../src/db/bulk.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPostgres } from '../../src/db/postgres.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerSchema {
  db: Database;
  /** DATABASE_URL that puts a separate process on this schema */
  databaseUrl: string;
  drop(): Promise<void>;
}

/** A migrated schema of its own on the PostgreSQL server, for processes to share. */
export async function workerSchema(url: string, maxConnections = 10): Promise<WorkerSchema> {
  const schema = `workers_${randomBytes(6).toString('hex')}`;
  const db = await openPostgres({ url, schema, maxConnections });
  await migrate(db);
  const databaseUrl = new URL(url);
  databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
  return {
    db,
    databaseUrl: databaseUrl.toString(),
    drop: async () => {
      await db.query(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for a clean exit */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown at all, as in a crash */
  kill(): Promise<void>;
}

/** `openlead start --role <role>` (a worker unless told) as its own process (the production entry point). */
export function spawnWorker(env: Record<string, string>, role = 'worker'): WorkerProcess {
  // BENCH_NODE_ARGS reaches the worker's node too, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', 'start', '--role', role], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', JWT_SECRET: 'worker-secret-of-at-least-thirty-two-chars', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
  child.stderr!.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(name);
    await exited;
  };
  return { child, output: () => output, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}

/**
 * An organization open around the clock and `count` leads due a minute ago on a one-step
 * text cadence, bulk-inserted in one statement.
 */
export async function seedDueLeads(db: Database, count: number): Promise<string> {
  const organizationId = randomBytes(12).toString('hex');
  await db.query(
    `INSERT INTO organizations (id, name, send_window_start, send_window_end, send_days) VALUES ($1, 'Load', '00:00', '24:00', '{1,2,3,4,5,6,7}')`,
    [organizationId],
  );
  const due = new Date(Date.now() - 60_000);
  await insertNumbered(
    db,
    'leads',
    organizationId,
    ['id', 'first_name', 'phone', 'follow_up_config', 'follow_up_step', 'next_follow_up_at'],
    Array.from({ length: count }, (_, k) => ({
      id: (k + 1).toString(16).padStart(24, '0'),
      first_name: `Lead ${k + 1}`,
      phone: `+1555${String(k + 1).padStart(7, '0')}`,
      follow_up_config: { 1: { hours: 1, channel: 'text', template: 'Hi {{firstName}}' } },
      follow_up_step: 1,
      next_follow_up_at: due,
    })),
  );
  return organizationId;
}

/** Polls until `done` holds or `timeoutMs` passes (bounded). */
export async function waitFor(done: () => Promise<boolean>, timeoutMs: number, pollMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return done();
}

/** A TCP port free on 127.0.0.1 right now, for a process about to listen on it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Dispatch: N due leads fired end to end (claim, compose, outbox, delivery over HTTP to a
 * local Twilio-compatible sink) by 1, 2 and 4 `openlead start --role worker` processes,
 * beside a bare SKIP LOCKED claim loop (claim a batch, move its timers, commit) over the
 * same table, in the same invocation. Each run gets a fresh schema.
 */
import pg from 'pg';
import { twilioProvider } from '../src/modules/channels/twilio.ts';
import { seedDueLeads, spawnWorker, waitFor, workerSchema, type WorkerProcess } from '../test/support/worker-processes.ts';
import { startCarrierSink, type CarrierSink } from './carrier-sink.ts';
import { watchCpu, type CpuUse } from './cpu.ts';
import { benchDatabaseUrl } from './support.ts';

const leads = Number(process.env.BENCH_DISPATCH_LEADS || 100_000);
const BATCH = 200;
const TIMEOUT_MS = 30 * 60_000;

interface Run {
  leadsPerSecond: number;
  cpu: CpuUse | undefined;
}

async function endToEnd(workers: number, twilio: CarrierSink): Promise<Run> {
  const schema = await workerSchema(benchDatabaseUrl);
  const processes: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      processes.push(
        spawnWorker({
          DATABASE_URL: schema.databaseUrl,
          LOG_LEVEL: 'info',
          WORKER_POLL_MS: '20',
          TWILIO_ACCOUNT_SID: twilio.accountSid,
          TWILIO_AUTH_TOKEN: twilio.authToken,
          TWILIO_FROM: twilio.from,
          TWILIO_BASE_URL: twilio.baseUrl,
        }),
      );
    }
    // time the work, not the processes' start
    await waitFor(async () => processes.every((p) => p.output().includes('openlead started')), 120_000, 100);
    const createdBefore = twilio.created;
    // the leads become visible to the workers when this one INSERT commits
    await seedDueLeads(schema.db, leads);
    const started = performance.now();
    const cpuUsed = await watchCpu(processes.map((p) => p.child.pid!));
    const done = await waitFor(async () => twilio.created - createdBefore >= leads, TIMEOUT_MS, 100);
    const seconds = (performance.now() - started) / 1000;
    const cpu = await cpuUsed();
    if (!done) throw new Error(`only ${twilio.created - createdBefore} of ${leads} delivered`);
    // the last batches record their outcomes just after the sink has answered them
    const sent = async () => (await schema.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE status = 'sent'`))[0].n;
    if (!(await waitFor(async () => (await sent()) === leads, 60_000, 100))) throw new Error(`${await sent()} messages sent for ${leads} leads`);
    if (twilio.created - createdBefore !== leads) throw new Error(`the sink created ${twilio.created - createdBefore} messages for ${leads} leads`);
    return { leadsPerSecond: leads / seconds, cpu };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await schema.drop();
  }
}

/** The floor: claim a batch of due leads with SKIP LOCKED and move their timers, nothing else. */
async function bareClaimLoop(clients: number): Promise<Run> {
  const schema = await workerSchema(benchDatabaseUrl);
  const options = new URL(schema.databaseUrl).searchParams.get('options') ?? undefined;
  try {
    await seedDueLeads(schema.db, leads);
    // planned with statistics, as autovacuum would have them in production: the floor is a
    // well-planned loop (without them its LIMIT query sorts every due lead on each batch)
    await schema.db.query('ANALYZE leads');
    // connected before the count starts and closed after it ends, so their server processes count
    const connections = await Promise.all(
      Array.from({ length: clients }, async () => {
        const client = new pg.Client({ connectionString: benchDatabaseUrl, options });
        await client.connect();
        return client;
      }),
    );
    const started = performance.now();
    const cpuUsed = await watchCpu([]);
    await Promise.all(
      connections.map(async (client) => {
        for (;;) {
          await client.query('BEGIN');
          const claimed = await client.query(
            `SELECT id FROM leads WHERE next_follow_up_at <= now() AND deleted_at IS NULL AND is_ai_on AND NOT opted_out
              ORDER BY next_follow_up_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
            [BATCH],
          );
          await client.query(`UPDATE leads SET next_follow_up_at = now() + interval '1 hour' WHERE id = ANY($1)`, [claimed.rows.map((r) => r.id)]);
          await client.query('COMMIT');
          if (claimed.rowCount === 0) break;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = await cpuUsed();
    await Promise.all(connections.map((client) => client.end()));
    return { leadsPerSecond: leads / seconds, cpu };
  } finally {
    await schema.drop();
  }
}

/**
 * The carrier leg alone: the worker's own Twilio provider sends one text per lead to the
 * sink, in batches of BATCH from 3 concurrent loops as a worker's dispatch loops do, with no
 * database at all. Client and sink both run in this process, so its CPU is the leg's cost.
 */
async function carrierLegAlone(): Promise<Run> {
  // a sink of its own, so the end-to-end runs' count of created messages starts clean
  const twilio = await startCarrierSink();
  const provider = twilioProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, baseUrl: twilio.baseUrl });
  try {
    let next = 0;
    const started = performance.now();
    const cpuUsed = await watchCpu([]);
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        while (next < leads) {
          const batch = Array.from({ length: Math.min(BATCH, leads - next) }, () => next++);
          await Promise.all(
            batch.map((n) =>
              provider.send({ messageId: `leg${n}`, idempotencyKey: `leg:${n}`, channel: 'text', to: '+15550100000', subject: null, content: `Hi Lead ${n}`, voicemailEnabled: false }),
            ),
          );
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { leadsPerSecond: leads / seconds, cpu: await cpuUsed() };
  } finally {
    await provider.close?.();
    await twilio.close();
  }
}

/** CPU microseconds per lead, by where they were spent. */
function cpuPerLead(cpu: CpuUse | undefined, bench: string): Record<string, string> {
  if (!cpu) return {};
  const micros = (seconds: number) => ((seconds * 1e6) / leads).toFixed(0);
  return { 'CPU µs/lead: workers': cpu.watched ? micros(cpu.watched) : '-', PostgreSQL: micros(cpu.postgres), [bench]: micros(cpu.self) };
}

export default async function dispatchBench(): Promise<void> {
  const twilio = await startCarrierSink();
  try {
    const rows: Record<string, string>[] = [];
    const benchProcess = 'this process (loop client / sink)';
    const bare = await bareClaimLoop(1);
    rows.push({ run: 'bare SKIP LOCKED claim loop (1 client)', 'leads/s': bare.leadsPerSecond.toFixed(0), 'vs bare': '1.000', ...cpuPerLead(bare.cpu, benchProcess) });
    const leg = await carrierLegAlone();
    rows.push({
      run: 'carrier leg alone (provider → sink, no database)',
      'leads/s': leg.leadsPerSecond.toFixed(0),
      'vs bare': (leg.leadsPerSecond / bare.leadsPerSecond).toFixed(3),
      ...cpuPerLead(leg.cpu, benchProcess),
    });
    for (const workers of (process.env.BENCH_DISPATCH_WORKERS || '1,2,4').split(',').map(Number)) {
      const run = await endToEnd(workers, twilio);
      rows.push({
        run: `end to end, ${workers} worker process${workers > 1 ? 'es' : ''}`,
        'leads/s': run.leadsPerSecond.toFixed(0),
        'vs bare': (run.leadsPerSecond / bare.leadsPerSecond).toFixed(3),
        ...cpuPerLead(run.cpu, benchProcess),
      });
    }
    console.log(`\ndispatch: ${leads} due leads per run (claim, compose, outbox, delivery to a local Twilio-compatible sink)`);
    console.table(rows);
  } finally {
    await twilio.close();
  }
}

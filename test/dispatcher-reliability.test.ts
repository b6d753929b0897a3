import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { seedDueLeads, spawnWorker, waitFor, workerSchema, type WorkerProcess, type WorkerSchema } from './support/worker-processes.ts';

const databaseUrl = process.env.DATABASE_URL;
const skip = databaseUrl ? false : 'needs several processes on one PostgreSQL server (set DATABASE_URL)';

describe('dispatch across worker processes', { skip }, () => {
  let twilio: FakeTwilio;
  let schema: WorkerSchema;
  let workers: WorkerProcess[] = [];

  before(async () => {
    twilio = await startFakeTwilio();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await twilio.close();
  });

  const workerEnv = () => ({
    DATABASE_URL: schema.databaseUrl,
    WORKER_POLL_MS: '50',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: twilio.from,
    TWILIO_BASE_URL: twilio.baseUrl,
  });

  const countSent = async () =>
    (await schema.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE status = 'sent'`))[0].n;

  async function assertEachSentOnce(leads: number) {
    const [perLead] = await schema.db.query<{ leads: number; messages: number; busiest: number }>(
      `SELECT count(*)::int AS leads, sum(n)::int AS messages, max(n)::int AS busiest
         FROM (SELECT lead_id, count(*) AS n FROM messages GROUP BY lead_id) AS per_lead`,
    );
    assert.equal(perLead.leads, leads);
    assert.equal(perLead.messages, leads, 'one outbox row per due lead');
    assert.equal(perLead.busiest, 1);
    const tokens = new Set(twilio.created.map((c) => c.idempotencyToken));
    assert.equal(twilio.created.length, leads, 'one message created at the carrier per lead');
    assert.equal(tokens.size, leads);
    const [moved] = await schema.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM leads WHERE follow_up_step = -2`);
    assert.equal(moved.n, leads, 'every lead moved on to LONG_TERM');
  }

  test('4 workers dispatch 20,000 due leads: each is sent exactly once', { timeout: 240_000 }, async () => {
    schema = await workerSchema(databaseUrl!);
    try {
      const leads = 20_000;
      await seedDueLeads(schema.db, leads);
      const startRequests = twilio.requestCount;
      workers = Array.from({ length: 4 }, () => spawnWorker(workerEnv()));
      const finished = await waitFor(async () => (await countSent()) === leads, 200_000, 500);
      await Promise.all(workers.map((w) => w.stop()));
      assert.ok(finished, `only ${await countSent()} of ${leads} sent; ${workers[0].output()}`);
      await assertEachSentOnce(leads);
      assert.equal(twilio.requestCount - startRequests, leads, 'no carrier request was even repeated');
    } finally {
      await schema.drop();
    }
  });

  test('a worker killed with SIGKILL mid-batch: after restart nothing is lost and nothing is sent twice', { timeout: 180_000 }, async () => {
    twilio.created.length = 0;
    schema = await workerSchema(databaseUrl!);
    try {
      const leads = 5_000;
      await seedDueLeads(schema.db, leads);
      const first = spawnWorker(workerEnv());
      workers = [first];
      assert.ok(await waitFor(async () => (await countSent()) >= 500, 60_000, 50), first.output());
      await first.kill();
      const partial = await countSent();
      assert.ok(partial < leads, 'killed before it finished');
      const second = spawnWorker(workerEnv());
      workers = [second];
      const finished = await waitFor(async () => (await countSent()) === leads, 120_000, 500);
      await second.stop();
      assert.ok(finished, `only ${await countSent()} of ${leads} sent; ${second.output()}`);
      await assertEachSentOnce(leads);
    } finally {
      await schema.drop();
    }
  });
});

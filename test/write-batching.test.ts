import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Batcher } from '../src/lib/batcher.ts';
import { createLead } from './support/followups.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

describe('Batcher (the rules, without a database)', () => {
  /** A run function whose calls wait until released, recording each batch it was given. */
  function gatedRun(fail?: (input: number) => boolean) {
    const batches: number[][] = [];
    const gates: (() => void)[] = [];
    const run = async (inputs: number[]) => {
      batches.push(inputs);
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail && inputs.some(fail)) throw new Error(`bad input in ${inputs}`);
      return inputs.map((input) => input * 10);
    };
    const releaseAll = async () => {
      while (gates.length > 0) {
        gates.shift()!();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    return { run, batches, releaseAll };
  }

  test('alone an input goes at once; inputs arriving meanwhile go together in one call', async () => {
    const { run, batches, releaseAll } = gatedRun();
    const batcher = new Batcher(run, { maxInFlight: 1, maxBatch: 10 });
    const first = batcher.submit(1);
    assert.deepEqual(batches, [[1]]);
    const rest = [2, 3, 4].map((n) => batcher.submit(n));
    assert.deepEqual(batches, [[1]], 'they wait for the statement in flight');
    const done = Promise.all([first, ...rest]);
    for (let i = 0; i < 5 && batches.length < 2; i++) await releaseAll();
    await releaseAll();
    assert.deepEqual(await done, [10, 20, 30, 40]);
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
  });

  test('a batch takes only the inputs that may join it, at most maxBatch; the others wait for the next', async () => {
    const { run, batches, releaseAll } = gatedRun();
    const batcher = new Batcher(run, { maxInFlight: 1, maxBatch: 2, joins: (batch, candidate) => !batch.includes(candidate) });
    const all = Promise.all([7, 5, 5, 6, 8].map((n) => batcher.submit(n)));
    for (let i = 0; i < 10; i++) await releaseAll();
    assert.deepEqual(await all, [70, 50, 50, 60, 80]);
    assert.deepEqual(batches, [[7], [5, 6], [5, 8]]);
  });

  test("when a batch fails, each input runs alone: one input's error is that input's only", async () => {
    const { run, batches, releaseAll } = gatedRun((n) => n === 3);
    const batcher = new Batcher(run, { maxInFlight: 1, maxBatch: 10 });
    const first = batcher.submit(1);
    const results = [2, 3, 4].map((n) => batcher.submit(n).then((value) => ({ value }), (error: Error) => ({ error: error.message })));
    for (let i = 0; i < 10; i++) await releaseAll();
    assert.equal(await first, 10);
    assert.deepEqual(await Promise.all(results), [{ value: 20 }, { error: 'bad input in 3' }, { value: 40 }]);
    assert.deepEqual(batches, [[1], [2, 3, 4], [2], [3], [4]]);
  });
});

describe('concurrent lead updates share statements and stay independent', () => {
  let app: TestApp;
  let acme: Account;
  before(async () => {
    app = await startApp();
    acme = await registerOrganization(app, 'Acme');
  });
  after(() => app.close());

  test('40 concurrent PATCHes of 40 leads: each applied once, with its own event and Stage Change', async () => {
    const leads = await Promise.all(Array.from({ length: 40 }, () => createLead(app, acme)));
    const responses = await Promise.all(
      leads.map((lead, i) =>
        app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { stageId: 'Contacted', additionalInfo: { mine: i } } }),
      ),
    );
    for (const [i, response] of responses.entries()) {
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.data._id, leads[i]._id, 'each request gets its own lead back');
      assert.deepEqual(response.body.data.additionalInfo, { mine: i });
      assert.equal(response.body.data.stageName, 'Contacted');
    }
    const events = await app.db.query<{ lead_id: string; n: number }>(
      `SELECT lead_id, count(*)::int AS n FROM lead_events WHERE kind = 'updated' AND lead_id = ANY($1) GROUP BY lead_id`,
      [leads.map((lead) => lead._id)],
    );
    assert.equal(events.length, 40);
    assert.ok(events.every((row) => row.n === 1));
    const history = await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM stage_history WHERE lead_id = ANY($1) AND from_stage_id IS NOT NULL`, [
      leads.map((lead) => lead._id),
    ]);
    assert.equal(history[0].n, 40);
  });

  test('a PATCH whose merged custom fields break the bounds gets its 400 while concurrent ones succeed', async () => {
    const full = await createLead(app, acme, { additionalInfo: Object.fromEntries(Array.from({ length: 199 }, (_, i) => [`k${i}`, i])) });
    const others = await Promise.all(Array.from({ length: 15 }, () => createLead(app, acme)));
    const [overflow, ...rest] = await Promise.all([
      app.request('PATCH', `/api/leads/${full._id}`, { token: acme.token, body: { additionalInfo: { a: 1, b: 2, c: 3 } } }),
      ...others.map((lead) => app.request('PATCH', `/api/leads/${lead._id}`, { token: acme.token, body: { additionalInfo: { ok: true } } })),
    ]);
    assert.equal(overflow.status, 400, overflow.text);
    assert.match(overflow.body.error, /additionalInfo/);
    assert.ok(rest.every((response) => response.status === 200));
    const unchanged = await app.request('GET', `/api/leads/${full._id}`, { token: acme.token });
    assert.equal(Object.keys(unchanged.body.data.additionalInfo).length, 199);
  });
});

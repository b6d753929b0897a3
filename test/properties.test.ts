import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { heatLabel, heatScore, HOT_THRESHOLD, WARM_THRESHOLD, type HeatInputs } from '../src/modules/leads/heat.ts';
import { registerOrganization, startApp, type TestApp } from './support/harness.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: Json): value is { [key: string]: Json } => typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7396 section 2, literally; objects are built without a prototype so any key is data. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: { [key: string]: Json } = Object.create(null);
  if (isObject(target)) for (const key of Object.keys(target)) result[key] = target[key];
  for (const key of Object.keys(patch)) {
    if (patch[key] === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, patch[key]);
  }
  return result;
}

/** Plain-JSON comparison: PostgreSQL returns object keys in its own order. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  return JSON.stringify(value);
}

// Integers, short strings and a few keys that must stay plain data; floats would only test
// number formatting, which is not the merge rule.
const key = fc.oneof(fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor', 'toString'), fc.string({ maxLength: 6 }));
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.string({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const object = fc.dictionary(key, json, { maxKeys: 5 });

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

describe('custom fields merge (jsonb_merge_patch in SQL) against RFC 7396', () => {
  test('matches the reference for random documents and patches', async () => {
    await fc.assert(
      fc.asyncProperty(object, object, async (target, patch) => {
        const [row] = await app.db.query<{ merged: Json }>(`SELECT jsonb_merge_patch($1::jsonb, $2::jsonb) AS merged`, [
          JSON.stringify(target),
          JSON.stringify(patch),
        ]);
        assert.equal(canonical(row.merged), canonical(mergePatch(target, patch)));
      }),
      { numRuns: 300 },
    );
  });

  test('through PATCH /api/leads/{id}: the stored custom fields equal the reference merge', async () => {
    const admin = await registerOrganization(app, 'Props');
    let phone = 1000;
    await fc.assert(
      fc.asyncProperty(object, object, async (initial, patch) => {
        const created = await app.request('POST', '/api/leads', {
          token: admin.token,
          body: { phone: `+1 646 555 ${phone++}`, additionalInfo: initial },
        });
        assert.equal(created.status, 201, created.text);
        // a create stores the custom fields as sent, so the expected merge starts from the input itself
        assert.equal(canonical(created.body.data.additionalInfo), canonical(initial));
        const res = await app.request('PATCH', `/api/leads/${created.body.data._id}`, { token: admin.token, body: { additionalInfo: patch } });
        assert.equal(res.status, 200, res.text);
        assert.equal(canonical(res.body.data.additionalInfo), canonical(mergePatch(initial, patch)));
      }),
      { numRuns: 40 },
    );
  });
});

describe('heat score', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const inputs: fc.Arbitrary<HeatInputs> = fc.record({
    replies: fc.integer({ min: 0, max: 20 }),
    lastActivityAt: fc.option(fc.integer({ min: 0, max: 90 * 86_400_000 }).map((ago) => new Date(now.getTime() - ago)), { nil: null }),
    now: fc.constant(now),
    stageProgress: fc.double({ min: 0, max: 1, noNaN: true }),
    completedMeetings: fc.integer({ min: 0, max: 10 }),
  });

  test('is an integer from 0 to 100', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const score = heatScore(input);
        assert.ok(Number.isInteger(score) && score >= 0 && score <= 100, String(score));
      }),
    );
  });

  test('never falls when engagement grows: more replies, more meetings, further stage, more recent activity', () => {
    fc.assert(
      fc.property(inputs, fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 30 * 86_400_000 }), (input, more, progress, sooner) => {
        const base = heatScore(input);
        assert.ok(heatScore({ ...input, replies: input.replies + more }) >= base);
        assert.ok(heatScore({ ...input, completedMeetings: input.completedMeetings + more }) >= base);
        assert.ok(heatScore({ ...input, stageProgress: Math.max(input.stageProgress, progress) }) >= base);
        const recent = input.lastActivityAt ? new Date(Math.min(now.getTime(), input.lastActivityAt.getTime() + sooner)) : now;
        assert.ok(heatScore({ ...input, lastActivityAt: recent }) >= base);
      }),
    );
  });

  test('is the documented formula of its inputs alone (docs/ARCHITECTURE.md), and leaves them as they were', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const snapshot = { ...input, lastActivityAt: input.lastActivityAt && new Date(input.lastActivityAt) };
        // days since the last activity are counted to inputs.now, never to the wall clock
        const days = input.lastActivityAt === null ? Infinity : (input.now.getTime() - input.lastActivityAt.getTime()) / 86_400_000;
        const expected = Math.round(
          10 * Math.min(input.replies, 3) + 25 * Math.max(0, 1 - days / 30) + 25 * input.stageProgress + 10 * Math.min(input.completedMeetings, 2),
        );
        assert.equal(heatScore(input), expected);
        assert.deepEqual({ ...input }, snapshot);
      }),
    );
    // one worked example: 2 replies, activity 15 days ago, halfway through the pipeline, 1 meeting
    assert.equal(heatScore({ replies: 2, lastActivityAt: new Date(now.getTime() - 15 * 86_400_000), now, stageProgress: 0.5, completedMeetings: 1 }), 55);
  });

  test('labels: hot from 70, warm from 40, else cold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), (score) => {
        const expected = score >= HOT_THRESHOLD ? 'hot' : score >= WARM_THRESHOLD ? 'warm' : 'cold';
        assert.equal(heatLabel(score), expected);
      }),
    );
    assert.deepEqual([69, 70, 39, 40].map(heatLabel), ['warm', 'hot', 'cold', 'warm']);
  });
});

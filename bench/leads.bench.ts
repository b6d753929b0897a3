/**
 * PATCH /api/leads/{id} (merge 3 custom fields + change stage) and GET /api/leads/{id} on
 * random leads of a 1,000,000-lead organization, next to pgbench running the same UPDATE and
 * SELECT on the same table; plus the PATCH p99 at 10,000 leads, to show it stays flat.
 *
 * The PATCH has two baselines: the bare UPDATE of the row, and the very statements the
 * service sends for it (the lead read, then one statement writing the row, its event, its
 * Stage Change activity and its stage-history row), captured from the leads store.
 */
import pg from 'pg';
import { insertNumbered } from '../src/db/bulk.ts';
import { statementText, type Queryable, type Statement } from '../src/db/database.ts';
import { readLeadForChange, writeLeadUpdates } from '../src/modules/leads/store.ts';
import { benchDatabaseUrl, printComparison, runAutocannon, runPgbench, startBenchApp, type BenchApp } from './support.ts';

const SMALL = 10_000;
const LARGE = Number(process.env.BENCH_LEADS || 1_000_000);
const STAGES = ['New Lead', 'Contacted', 'Engaged', 'Qualified', 'Won', 'Lost'];

// Loaded leads get ids the benchmark can compute from a number, in the service's 24-hex form.
const ID_PREFIX = 'be0000000000';
const idFor = (n: number) => ID_PREFIX + n.toString(16).padStart(12, '0');
const SQL_ID = `'${ID_PREFIX}' || lpad(to_hex(:n::int), 12, '0')`;

const random = (max: number) => 1 + Math.floor(Math.random() * max);

const ACTIVITY_ID = 'ac0000000000000000000000';

/**
 * The statements the service sends for the benchmark's PATCH, captured by calling the leads
 * store with a recording connection (so they cannot drift from the service), as a pgbench
 * script: the lead is drawn per transaction, each Stage Change activity gets a fresh id, the
 * other parameters are fixed values passed with -D.
 */
async function serviceStatementsScript(org: { organizationId: string; userId: string }, stage: { id: string; pipelineId: string }) {
  const captured: { text: string; params: unknown[] }[] = [];
  const recorder: Queryable = {
    query: async (statement, params = []) => (captured.push({ text: statementText(statement), params }), []),
    exec: async () => {},
  };
  const id = idFor(1);
  const now = new Date();
  await readLeadForChange(recorder, org.organizationId, id, { stage: 'Contacted', pipelineId: null }, false);
  await writeLeadUpdates(recorder, [{
    organizationId: org.organizationId,
    id,
    now,
    actor: { userId: org.userId, label: 'Bench Admin' },
    columns: { stage_id: stage.id, pipeline_id: stage.pipelineId, hot_score: 12, hot_label: 'cold' },
    additionalInfoPatch: { score: 42, tier: 'gold', touch: 3 },
    changes: { stageId: { from: 'new-lead', to: stage.id }, additionalInfo: { from: { score: null }, to: { score: 42 } } },
    activities: [{ id: ACTIVITY_ID, type: 'Stage Change', title: 'Stage changed from New Lead to Contacted', metadata: { toStageId: stage.id } }],
    stageChange: { fromStageId: 'new-lead', toStageId: stage.id, source: null },
  }]);
  const variables: Record<string, string> = {};
  const expressionOf = (value: unknown, name: string): string => {
    if (value === id) return `(${SQL_ID})`;
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) return `ARRAY[${value.map((element, i) => expressionOf(element, `${name}_${i}`)).join(', ')}]`;
    variables[name] = value instanceof Date ? value.toISOString() : String(value);
    // the lead is drawn per transaction, and each Stage Change activity needs an id of its own
    let expression = `:${name}`;
    if (typeof value === 'string' && value.includes(id)) expression = `replace(${expression}, '${id}', ${SQL_ID})`;
    if (typeof value === 'string' && value.includes(ACTIVITY_ID)) expression = `replace(${expression}, '${ACTIVITY_ID}', substr(md5(random()::text), 1, 24))`;
    return expression;
  };
  const statements = captured.map(({ text, params }, statement) =>
    text.replace(/\$(\d+)/g, (_, number: string) => expressionOf(params[Number(number) - 1], `s${statement}p${number}`)),
  );
  return { script: `\\set n random(1, :count)\n${statements.join(';\n')};\n`, variables };
}

/** Loads leads number `from` to `to` (numbered as the service numbers them, in chunks of 50,000), then refreshes statistics and checkpoints. */
async function loadLeads(app: BenchApp, org: { organizationId: string; userId: string }, from: number, to: number): Promise<number> {
  const client = new pg.Client({ connectionString: benchDatabaseUrl, options: app.pgOptions });
  await client.connect();
  const db: Queryable = {
    query: async <T>(statement: Statement, params?: unknown[]) => (await client.query(statementText(statement), params)).rows as T[],
    exec: async (script: string) => void (await client.query(script)),
  };
  const started = performance.now();
  try {
    const [stage] = await db.query<{ id: string; pipeline_id: string }>(
      `SELECT st.id, st.pipeline_id FROM pipeline_stages st JOIN pipelines p ON p.id = st.pipeline_id
        WHERE p.organization_id = $1 AND p.is_default AND st.position = 0`,
      [org.organizationId],
    );
    const now = Date.now();
    for (let first = from; first <= to; first += 50_000) {
      const rows = [];
      for (let n = first; n <= Math.min(to, first + 49_999); n += 1) {
        const phone = `+1646${String(n).padStart(7, '0')}`;
        const created = new Date(now - (to - n) * 1000);
        rows.push({
          id: idFor(n),
          owner_id: org.userId,
          first_name: 'Lead',
          name: `Lead ${n}`,
          email: `lead${n}@example.com`,
          phone,
          dedupe_key: phone,
          pipeline_id: stage.pipeline_id,
          stage_id: stage.id,
          additional_info: { n },
          created_at: created,
          updated_at: created,
        });
      }
      await insertNumbered(db, 'leads', org.organizationId, Object.keys(rows[0]), rows);
    }
    await client.query('VACUUM ANALYZE leads');
    // the load's own dirty pages are written now, not by a checkpoint in the middle of a measurement
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
  return (performance.now() - started) / 1000;
}

function patchRequest() {
  return {
    path: `/api/leads/${idFor(random(currentCount))}`,
    body: {
      stageId: STAGES[random(STAGES.length) - 1],
      additionalInfo: { score: random(100), tier: 'gold', touch: random(9) },
    },
  };
}

let currentCount = SMALL;

async function stageNamed(app: BenchApp, organizationId: string, name: string): Promise<{ id: string; pipelineId: string }> {
  const client = new pg.Client({ connectionString: benchDatabaseUrl, options: app.pgOptions });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT st.id, st.pipeline_id AS "pipelineId" FROM pipeline_stages st JOIN pipelines p ON p.id = st.pipeline_id
        WHERE p.organization_id = $1 AND p.is_default AND st.name = $2`,
      [organizationId, name],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

/** Median latency of a few list requests: first page, a later page, free text, a stage filter. */
async function timeListings(app: BenchApp, token: string) {
  const first = await app.call('GET', '/api/leads?limit=50', { token });
  const queries = [
    ['first page', '/api/leads?limit=50'],
    ['next page (cursor)', `/api/leads?limit=50&cursor=${first.data.nextCursor}`],
    ['q = one email', `/api/leads?limit=50&q=${encodeURIComponent(`lead${Math.floor(LARGE / 3)}@`)}`],
    ['q = common text', '/api/leads?limit=50&q=example'],
    ['stage = Contacted', '/api/leads?limit=50&stage=Contacted'],
  ];
  const rows = [];
  for (const [name, path] of queries) {
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      count = (await app.call('GET', path, { token })).data.leads.length;
      times.push(performance.now() - started);
    }
    rows.push({ query: name, leads: count, 'median ms': times.sort((a, b) => a - b)[2].toFixed(1) });
  }
  return rows;
}

export default async function leadsBench(): Promise<void> {
  const app = await startBenchApp();
  try {
    const admin = await app.register();
    const token = admin.token;

    const loadSmall = await loadLeads(app, admin, 1, SMALL);
    currentCount = SMALL;
    // a warm-up first, so the 10k figure is not the cost of a cold process (JIT, connections, plans)
    await runAutocannon({ url: app.url, method: 'PATCH', path: '/', token, vary: patchRequest, seconds: 3 });
    const patchSmall = await runAutocannon({ url: app.url, method: 'PATCH', path: '/', token, vary: patchRequest });

    const loadLarge = await loadLeads(app, admin, SMALL + 1, LARGE);
    currentCount = LARGE;
    console.log(`loaded ${SMALL} leads in ${loadSmall.toFixed(1)} s, then up to ${LARGE} in ${loadLarge.toFixed(1)} s`);

    const variables = { org: admin.organizationId, count: String(LARGE) };
    const getApp = await runAutocannon({
      url: app.url,
      method: 'GET',
      path: '/',
      token,
      vary: () => ({ path: `/api/leads/${idFor(random(LARGE))}` }),
    });
    const getBaseline = await runPgbench({
      app,
      variables,
      script: `\\set n random(1, :count)
SELECT l.*, s.name AS stage_name FROM leads l LEFT JOIN pipeline_stages s ON s.id = l.stage_id
 WHERE l.organization_id = :org AND l.id = ${SQL_ID} AND l.deleted_at IS NULL;
`,
    });
    // warmed up like the 10k run, so both p99s are of a warm service on a warm cache
    await runAutocannon({ url: app.url, method: 'PATCH', path: '/', token, vary: patchRequest, seconds: 3 });
    const patchApp = await runAutocannon({ url: app.url, method: 'PATCH', path: '/', token, vary: patchRequest });
    const patchBaseline = await runPgbench({
      app,
      variables,
      script: `\\set n random(1, :count)
\\set stage random(0, 5)
\\set score random(1, 100)
\\set touch random(1, 9)
UPDATE leads SET additional_info = jsonb_merge_patch(additional_info, jsonb_build_object('score', :score::int, 'tier', 'gold', 'touch', :touch::int)),
       stage_id = (SELECT st.id FROM pipeline_stages st WHERE st.pipeline_id = leads.pipeline_id AND st.position = :stage::int),
       version = version + 1, updated_at = now()
 WHERE organization_id = :org AND id = ${SQL_ID} AND deleted_at IS NULL RETURNING *;
`,
    });

    const stage = await stageNamed(app, admin.organizationId, 'Contacted');
    const service = await serviceStatementsScript(admin, stage);
    const patchStatements = await runPgbench({ app, mode: 'prepared', variables: { ...variables, ...service.variables }, script: service.script });

    const listings = await timeListings(app, token);

    printComparison(`leads: OpenLead HTTP vs pgbench, random leads of ${LARGE}`, 'pgbench', [
      { operation: 'GET /api/leads/{id}', app: getApp, baseline: getBaseline },
      { operation: 'PATCH /api/leads/{id} (3 custom fields + stage)', app: patchApp, baseline: patchBaseline },
    ]);
    printComparison(`PATCH beside pgbench sending the service's own statements for it (prepared, as the service's named statements)`, 'pgbench', [
      { operation: 'PATCH /api/leads/{id}: read + write of row, event, activity, stage history', app: patchApp, baseline: patchStatements },
    ]);
    console.table([
      { leads: SMALL, 'PATCH req/s': patchSmall.perSecond.toFixed(0), 'PATCH p99 ms': patchSmall.p99Ms.toFixed(2) },
      { leads: LARGE, 'PATCH req/s': patchApp.perSecond.toFixed(0), 'PATCH p99 ms': patchApp.p99Ms.toFixed(2) },
    ]);
    console.log(`GET /api/leads at ${LARGE} leads (median of 5 sequential requests)`);
    console.table(listings);
  } finally {
    await app.close();
  }
}

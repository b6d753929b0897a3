import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertNumbered } from '../src/db/bulk.ts';
import { newId } from '../src/lib/ids.ts';
import { findStage, planStages } from '../src/modules/pipelines/rules.ts';
import { createConfiguration, createPipeline, createPrompt } from './support/configurations.ts';
import { registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

const NOT_FOUND = { success: false, error: 'Pipeline not found' };

interface Stage {
  _id: string;
  name: string;
  color: string | null;
}

async function defaultContactPipeline(account: Account): Promise<{ _id: string; stages: Stage[] }> {
  const list = await app.request('GET', '/api/pipelines', { token: account.token });
  return list.body.data.find((p: { isDefault: boolean; type: string }) => p.isDefault && p.type === 'Contact');
}

function put(account: Account, id: string, body: unknown) {
  return app.request('PUT', `/api/pipelines/${id}`, { token: account.token, body });
}

function remove(account: Account, id: string) {
  return app.request('DELETE', `/api/pipelines/${id}`, { token: account.token });
}

/** A lead sitting in a stage, written directly: the leads module is not what is under test. */
async function leadInStage(account: Account, pipelineId: string, stageId: string): Promise<string> {
  const id = newId();
  await insertNumbered(app.db, 'leads', account.organizationId, ['id', 'pipeline_id', 'stage_id'], [{ id, pipeline_id: pipelineId, stage_id: stageId }]);
  return id;
}

/** An application (of a lead in the default pipeline) sitting in a stage, written directly. */
async function applicationInStage(account: Account, pipelineId: string, stageId: string): Promise<void> {
  const contact = await defaultContactPipeline(account);
  const leadId = await leadInStage(account, contact._id, contact.stages[0]._id);
  await app.db.query(
    `INSERT INTO applications (id, organization_id, lead_id, name, pipeline_id, stage_id, created_at, updated_at)
     VALUES ($1, $2, $3, 'Loan', $4, $5, now(), now())`,
    [newId(), account.organizationId, leadId, pipelineId, stageId],
  );
}

describe('stage rules', () => {
  const existing = [
    { id: 'a', name: 'New Lead' },
    { id: 'b', name: 'Won' },
  ];

  test('a stage is found by _id first, then by trimmed case-insensitive name', () => {
    assert.equal(findStage(existing, 'b')?.id, 'b');
    assert.equal(findStage(existing, '  new LEAD ')?.id, 'a');
    assert.equal(findStage(existing, 'Lost'), undefined);
  });

  test('the requested list keeps listed ids at their new positions, adds the rest and removes the unlisted', () => {
    assert.deepEqual(planStages(existing, [{ name: 'Fresh' }, { _id: 'b', name: ' Won! ', color: '#fff' }]), {
      kept: [{ id: 'b', name: 'Won!', color: '#fff', position: 1 }],
      added: [{ name: 'Fresh', color: null, position: 0 }],
      removed: ['a'],
    });
  });

  test('unknown or repeated ids and duplicate names are refused naming the entry', () => {
    assert.throws(() => planStages(existing, [{ _id: 'z', name: 'Z' }]), /stages\.0\._id is not a stage of this pipeline/);
    assert.throws(() => planStages(existing, [{ _id: 'a', name: 'A' }, { _id: 'a', name: 'B' }]), /stages\.1\._id is listed more than once/);
    assert.throws(() => planStages(existing, [{ name: 'Same' }, { name: ' same' }]), /stages\.1\.name/);
  });
});

describe('default pipeline', () => {
  test('a new organization starts with a default Contact pipeline whose first stage is New Lead', async () => {
    const admin = await registerOrganization(app);
    const list = await app.request('GET', '/api/pipelines', { token: admin.token });
    assert.equal(list.status, 200);
    assert.equal(list.body.data.length, 1);
    const [pipeline] = list.body.data;
    assert.equal(pipeline.type, 'Contact');
    assert.equal(pipeline.isDefault, true);
    assert.equal(pipeline.organizationId, admin.organizationId);
    assert.equal(pipeline.stages[0].name, 'New Lead');
    for (const stage of pipeline.stages) assert.match(stage._id, /^[0-9a-f]{24}$/);
  });
});

describe('POST /api/pipelines', () => {
  test('creates a pipeline with its ordered stages', async () => {
    const admin = await registerOrganization(app);
    const res = await app.request('POST', '/api/pipelines', {
      token: admin.token,
      body: { name: 'Funnel', type: 'Contact', stages: [{ name: 'Inbox', color: '#111111' }, { name: 'Booked' }] },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.message, 'Pipeline created');
    const data = res.body.data;
    assert.deepEqual(Object.keys(data).sort(), ['_id', 'createdAt', 'isDefault', 'name', 'organizationId', 'stages', 'type', 'updatedAt']);
    assert.equal(data.name, 'Funnel');
    assert.equal(data.isDefault, false);
    assert.deepEqual(data.stages.map((s: Stage) => [s.name, s.color]), [['Inbox', '#111111'], ['Booked', null]]);
    assert.equal(data.createdAt, '2026-06-01T12:00:00.000Z');
    assert.deepEqual((await app.request('GET', `/api/pipelines/${data._id}`, { token: admin.token })).body.data, data);
  });

  test('without stages, a standard list for the type is used', async () => {
    const admin = await registerOrganization(app);
    const contact = await createPipeline(app, admin, { name: 'C', type: 'Contact' });
    assert.equal(contact.stages[0].name, 'New Lead');
    const applications = await createPipeline(app, admin, { name: 'A', type: 'Application' });
    assert.deepEqual(applications.stages.map((s) => s.name), ['Submitted', 'In Review', 'Approved', 'Declined']);
  });

  test('isDefault makes it the default of its type and the previous default stops being one', async () => {
    const admin = await registerOrganization(app);
    const previous = await defaultContactPipeline(admin);
    const created = await createPipeline(app, admin, { name: 'New default', type: 'Contact', isDefault: true });
    const list = (await app.request('GET', '/api/pipelines', { token: admin.token })).body.data as { _id: string; isDefault: boolean }[];
    assert.equal(list.find((p) => p._id === previous._id)!.isDefault, false);
    assert.equal(list.find((p) => p._id === created._id)!.isDefault, true);
  });

  test('bad bodies answer 400 naming the field, and nothing is created', async () => {
    const admin = await registerOrganization(app);
    const cases: [RegExp, unknown][] = [
      [/^name /, { type: 'Contact' }],
      [/^name /, { name: '', type: 'Contact' }],
      [/^type must be one of: Contact, Application$/, { name: 'X', type: 'Deal' }],
      [/^stages /, { name: 'X', type: 'Contact', stages: [] }],
      [/^stages\.1\.name /, { name: 'X', type: 'Contact', stages: [{ name: 'Same' }, { name: 'same ' }] }],
      [/^stages\.0\.name /, { name: 'X', type: 'Contact', stages: [{ name: 5 }] }],
      [/^isDefault /, { name: 'X', type: 'Contact', isDefault: 'yes' }],
      [/^owner /, { name: 'X', type: 'Contact', owner: 'me' }],
    ];
    for (const [error, body] of cases) {
      const res = await app.request('POST', '/api/pipelines', { token: admin.token, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.success, false);
      assert.match(res.body.error, error);
    }
    assert.equal((await app.request('GET', '/api/pipelines', { token: admin.token })).body.data.length, 1);
  });
});

describe('tenancy and auth', () => {
  test('another organization\'s pipeline answers 404 like a missing or malformed id, and is not listed', async () => {
    const admin = await registerOrganization(app);
    const other = await registerOrganization(app, 'Other');
    const theirs = await defaultContactPipeline(other);
    for (const id of [theirs._id, '0'.repeat(24), 'nope']) {
      for (const res of [
        await app.request('GET', `/api/pipelines/${id}`, { token: admin.token }),
        await put(admin, id, { name: 'Mine now' }),
        await remove(admin, id),
      ]) {
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, NOT_FOUND);
      }
    }
    const list = await app.request('GET', '/api/pipelines', { token: admin.token });
    assert.ok(!list.body.data.some((p: { _id: string }) => p._id === theirs._id));
    assert.equal((await defaultContactPipeline(other)).stages.length, theirs.stages.length);
  });

  test('no token answers 401', async () => {
    const res = await app.request('GET', '/api/pipelines');
    assert.equal(res.status, 401);
    assert.equal(res.body.success, false);
  });
});

describe('PUT /api/pipelines/{id}', () => {
  test('renames, recolours, reorders, adds and removes stages; kept stages keep their ids', async () => {
    const admin = await registerOrganization(app);
    const pipeline = await createPipeline(app, admin, { name: 'Funnel', type: 'Contact', stages: [{ name: 'A' }, { name: 'B' }, { name: 'C' }] });
    const [a, b, c] = pipeline.stages;
    app.clock.advance(5_000);
    const res = await put(admin, pipeline._id, {
      name: 'Renamed',
      stages: [{ _id: c._id, name: 'C' }, { name: 'New' }, { _id: a._id, name: 'A prime', color: '#abcdef' }],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.message, 'Pipeline updated');
    const data = res.body.data;
    assert.equal(data.name, 'Renamed');
    assert.deepEqual(data.stages.map((s: Stage) => s.name), ['C', 'New', 'A prime']);
    assert.equal(data.stages[0]._id, c._id);
    assert.equal(data.stages[2]._id, a._id);
    assert.equal(data.stages[2].color, '#abcdef');
    assert.ok(![a._id, b._id, c._id].includes(data.stages[1]._id));
    assert.ok(!data.stages.some((s: Stage) => s._id === b._id));
    assert.equal(data.updatedAt, app.clock.now().toISOString());
  });

  test('a configuration pointing at a renamed stage keeps pointing at it', async () => {
    const admin = await registerOrganization(app);
    const processId = await createPrompt(app, admin);
    const pipeline = await defaultContactPipeline(admin);
    const config = await createConfiguration(app, admin, processId, { initialStage: 'New Lead' });
    const stages = pipeline.stages.map((s) => ({ _id: s._id, name: s.name === 'New Lead' ? 'Fresh' : s.name }));
    assert.equal((await put(admin, pipeline._id, { stages })).status, 200);
    const after = await app.request('GET', `/api/lead-management/${config._id}`, { token: admin.token });
    assert.equal(after.body.data.initialStageId, config.initialStageId);
  });

  test('stage lists that do not fit the pipeline are refused and change nothing', async () => {
    const admin = await registerOrganization(app);
    const other = await createPipeline(app, admin, { name: 'Other', type: 'Contact', stages: [{ name: 'X' }] });
    const pipeline = await createPipeline(app, admin, { name: 'Funnel', type: 'Contact', stages: [{ name: 'A' }, { name: 'B' }] });
    const [a, b] = pipeline.stages;
    const cases: [RegExp, unknown][] = [
      [/^stages\.1\._id is not a stage of this pipeline$/, { stages: [{ _id: a._id, name: 'A' }, { _id: other.stages[0]._id, name: 'X' }] }],
      [/^stages\.1\._id is listed more than once$/, { stages: [{ _id: a._id, name: 'A' }, { _id: a._id, name: 'A2' }] }],
      [/^stages\.1\.name /, { stages: [{ _id: a._id, name: 'A' }, { _id: b._id, name: 'a' }] }],
      [/^stages /, { stages: [] }],
      [/^type /, { type: 'Application' }],
      [/^body /, {}],
    ];
    for (const [error, body] of cases) {
      const res = await put(admin, pipeline._id, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error, error);
    }
    const unchanged = await app.request('GET', `/api/pipelines/${pipeline._id}`, { token: admin.token });
    assert.deepEqual(unchanged.body.data, pipeline);
  });

  test('removing a stage a configuration uses is refused naming the configuration', async () => {
    const admin = await registerOrganization(app);
    const processId = await createPrompt(app, admin);
    const pipeline = await defaultContactPipeline(admin);
    await createConfiguration(app, admin, processId, { configurationName: 'Facebook Funnel', pipelineStage: 'Engaged' });
    const res = await put(admin, pipeline._id, { stages: pipeline.stages.filter((s) => s.name !== 'Engaged') });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'stages cannot drop a stage used by lead management configuration "Facebook Funnel"');
    assert.equal((await defaultContactPipeline(admin)).stages.length, pipeline.stages.length);
  });

  test('removing a stage that leads are in is refused', async () => {
    const admin = await registerOrganization(app);
    const pipeline = await defaultContactPipeline(admin);
    const won = pipeline.stages.find((s) => s.name === 'Won')!;
    await leadInStage(admin, pipeline._id, won._id);
    const res = await put(admin, pipeline._id, { stages: pipeline.stages.filter((s) => s._id !== won._id) });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /^stages cannot drop a stage that leads or applications are in/);
    const unused = pipeline.stages.find((s) => s.name === 'Lost')!;
    assert.equal((await put(admin, pipeline._id, { stages: pipeline.stages.filter((s) => s._id !== unused._id) })).status, 200);
  });

  test('isDefault true moves the default; clearing the default is refused', async () => {
    const admin = await registerOrganization(app);
    const original = await defaultContactPipeline(admin);
    const cleared = await put(admin, original._id, { isDefault: false });
    assert.equal(cleared.status, 400);
    assert.match(cleared.body.error, /^isDefault /);
    const next = await createPipeline(app, admin, { name: 'Next', type: 'Contact' });
    const moved = await put(admin, next._id, { isDefault: true });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.data.isDefault, true);
    assert.equal((await app.request('GET', `/api/pipelines/${original._id}`, { token: admin.token })).body.data.isDefault, false);
  });
});

describe('DELETE /api/pipelines/{id}', () => {
  test('an unused pipeline is deleted with its stages', async () => {
    const admin = await registerOrganization(app);
    const pipeline = await createPipeline(app, admin, { name: 'Temp', type: 'Application' });
    const res = await remove(admin, pipeline._id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, message: 'Pipeline deleted', data: { _id: pipeline._id } });
    assert.deepEqual((await app.request('GET', `/api/pipelines/${pipeline._id}`, { token: admin.token })).body, NOT_FOUND);
    const stages = await app.db.query('SELECT id FROM pipeline_stages WHERE pipeline_id = $1', [pipeline._id]);
    assert.equal(stages.length, 0);
  });

  test('the default pipeline cannot be deleted', async () => {
    const admin = await registerOrganization(app);
    const res = await remove(admin, (await defaultContactPipeline(admin))._id);
    assert.equal(res.status, 400);
    assert.match(res.body.error, /default pipeline cannot be deleted/);
  });

  test('a pipeline a configuration uses, directly or through a stage, cannot be deleted; the error names it', async () => {
    const admin = await registerOrganization(app);
    const processId = await createPrompt(app, admin);
    const contact = await createPipeline(app, admin, { name: 'Funnel', type: 'Contact' });
    const applications = await createPipeline(app, admin, { name: 'Apps', type: 'Application' });
    await createConfiguration(app, admin, processId, { configurationName: 'Uses funnel', pipelineId: contact._id });
    await createConfiguration(app, admin, processId, { configurationName: 'Uses apps', applicationPipelineId: applications._id });
    const first = await remove(admin, contact._id);
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'Pipeline is in use by lead management configuration "Uses funnel" and cannot be deleted');
    const second = await remove(admin, applications._id);
    assert.equal(second.status, 400);
    assert.equal(second.body.error, 'Pipeline is in use by lead management configuration "Uses apps" and cannot be deleted');
  });

  test('a pipeline that leads are in cannot be deleted', async () => {
    const admin = await registerOrganization(app);
    const pipeline = await createPipeline(app, admin, { name: 'Busy', type: 'Contact' });
    await leadInStage(admin, pipeline._id, pipeline.stages[0]._id);
    const res = await remove(admin, pipeline._id);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'Pipeline is in use by leads or applications and cannot be deleted');
  });

  test('a pipeline or stage that applications are in cannot be deleted', async () => {
    const admin = await registerOrganization(app);
    const pipeline = await createPipeline(app, admin, { name: 'Apps', type: 'Application' });
    await applicationInStage(admin, pipeline._id, pipeline.stages[1]._id);
    const dropStage = await put(admin, pipeline._id, { stages: [pipeline.stages[0]] });
    assert.equal(dropStage.status, 400);
    assert.match(dropStage.body.error, /^stages cannot drop a stage that leads or applications are in/);
    const res = await remove(admin, pipeline._id);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'Pipeline is in use by leads or applications and cannot be deleted');
  });
});

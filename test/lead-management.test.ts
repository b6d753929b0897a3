import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertNumbered } from '../src/db/bulk.ts';
import { statementText, type Database, type Queryable, type Statement } from '../src/db/database.ts';
import { newId } from '../src/lib/ids.ts';
import { findActiveConfigurationByInboundEmail, getActiveConfiguration } from '../src/modules/lead-management/service.ts';
import { createConfiguration, createPipeline, createPrompt, postConfiguration } from './support/configurations.ts';
import { addUser, apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

const NOT_FOUND = { success: false, error: 'Lead management configuration not found' };
const DENIED = { success: false, error: 'Permission denied' };

/** An organization with an ADMIN, a prompt and the id of its default Contact pipeline. */
async function organization(name = 'Acme') {
  const admin = await registerOrganization(app, name);
  const processId = await createPrompt(app, admin);
  const pipelines = await app.request('GET', '/api/pipelines', { token: admin.token });
  const contact = pipelines.body.data.find((p: { isDefault: boolean; type: string }) => p.isDefault && p.type === 'Contact');
  return { admin, processId, contact: contact as { _id: string; stages: { _id: string; name: string }[] } };
}

async function countConfigurations(account: Account): Promise<number> {
  const res = await app.request('GET', '/api/lead-management', { token: account.token });
  return res.body.data.length;
}

function get(account: Account, id: string) {
  return app.request('GET', `/api/lead-management/${id}`, { token: account.token });
}

function put(account: Account, id: string, body?: unknown) {
  return app.request('PUT', `/api/lead-management/${id}`, { token: account.token, body });
}

const SEED_FIELDS = [
  '_id', 'organizationId', 'userId', 'configurationName', 'name', 'description', 'source', 'inboundEmail', 'initialStage',
  'defaultProcess', 'isAutopilot', 'allowRecontact', 'starterMessage', 'costPerLead', 'status', 'pipelineId', 'pipelineStage',
  'createApplication', 'applicationName', 'applicationStatus', 'applicationPipelineId', 'applicationPipelineStage',
  'forwardToOutreach', 'useWorkflowOnly', 'createdAt', 'updatedAt',
];
const RESOLVED_FIELDS = ['initialStageId', 'pipelineStageId', 'applicationPipelineStageId'];
/** Every property of seed 000's UpdateLeadManagementRequest: what a PUT may change. */
const SEED_UPDATE_FIELDS = [
  'configurationName', 'name', 'description', 'source', 'inboundEmail', 'initialStage', 'defaultProcess', 'isAutopilot',
  'allowRecontact', 'starterMessage', 'costPerLead', 'status', 'pipelineId', 'pipelineStage', 'createApplication',
  'applicationName', 'applicationStatus', 'applicationPipelineId', 'applicationPipelineStage', 'forwardToOutreach', 'useWorkflowOnly',
];

/** The fields the served OpenAPI document gives the PUT body. */
async function documentedUpdateFields(): Promise<string[]> {
  const spec = (await app.request('GET', '/openapi.json')).body;
  return Object.keys(spec.paths['/api/lead-management/{id}'].put.requestBody.content['application/json'].schema.properties).sort();
}

// The seeds document a 500 for create ("Error creating lead management") and update ("Error
// updating lead management"): the error envelope with those words, never the driver's message.
const CREATE_FAILED = { success: false, error: 'Error creating lead management' };
const UPDATE_FAILED = { success: false, error: 'Error updating lead management' };

/**
 * Runs `work` while every write to lead_management_configs fails the way a dropped connection
 * does, as inbound-email.test.ts breaks the database for one SMTP session; here the running
 * app's context gets the broken database, for these requests only. Reads still work, so a
 * request gets as far as its write.
 */
async function withConfigurationWritesFailing<T>(work: () => Promise<T>): Promise<T> {
  const db = app.ctx.db;
  const writesConfigurations = (statement: Statement) => /^\s*(INSERT INTO|UPDATE) lead_management_configs\b/i.test(statementText(statement));
  const failingWrites = (connection: Queryable): Queryable => ({
    ...connection,
    query: <T>(statement: Statement, params?: unknown[]) =>
      writesConfigurations(statement) ? Promise.reject(new Error('connection terminated')) : connection.query<T>(statement, params),
  });
  // an update writes inside a transaction, so its connection fails the same way
  const broken: Database = { ...db, ...failingWrites(db), transaction: (work) => db.transaction((tx) => work(failingWrites(tx))) };
  app.ctx.db = broken;
  try {
    return await work();
  } finally {
    app.ctx.db = db;
  }
}

describe('POST /api/lead-management', () => {
  test('creates with 201, the documented message and every documented default', async () => {
    const { admin, processId, contact } = await organization();
    const res = await app.request('POST', '/api/lead-management', {
      token: admin.token,
      body: { configurationName: 'Facebook Lead Ad Funnel', initialStage: 'New Lead', defaultProcess: processId },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.success, true);
    assert.equal(res.body.message, 'Lead management configuration created');
    const data = res.body.data;
    assert.deepEqual(Object.keys(data).sort(), [...SEED_FIELDS, ...RESOLVED_FIELDS].sort());
    assert.match(data._id, /^[0-9a-f]{24}$/);
    assert.equal(data.organizationId, admin.organizationId);
    assert.equal(data.userId, admin.userId);
    assert.equal(data.configurationName, 'Facebook Lead Ad Funnel');
    assert.equal(data.initialStage, 'New Lead');
    assert.equal(data.initialStageId, contact.stages[0]._id);
    assert.equal(data.defaultProcess, processId);
    // documented defaults
    assert.equal(data.source, 'Unassigned');
    assert.equal(data.isAutopilot, false);
    assert.equal(data.allowRecontact, false);
    assert.equal(data.costPerLead, 0);
    assert.equal(data.status, 'active');
    assert.equal(data.createApplication, false);
    assert.equal(data.forwardToOutreach, true);
    assert.equal(data.useWorkflowOnly, false);
    // nullable fields are null when unset
    for (const field of ['name', 'description', 'inboundEmail', 'starterMessage', 'pipelineId', 'pipelineStage', 'pipelineStageId',
      'applicationName', 'applicationStatus', 'applicationPipelineId', 'applicationPipelineStage', 'applicationPipelineStageId']) {
      assert.equal(data[field], null, field);
    }
    assert.equal(data.createdAt, '2026-06-01T12:00:00.000Z');
    assert.equal(data.updatedAt, data.createdAt);
    assert.deepEqual((await get(admin, data._id)).body.data, data);
  });

  test('stores every supplied field as given', async () => {
    const { admin, processId } = await organization();
    const pipeline = await createPipeline(app, admin, { name: 'Funnel', type: 'Contact', stages: [{ name: 'Inbox' }, { name: 'Booked' }] });
    const applications = await createPipeline(app, admin, { name: 'Apps', type: 'Application' });
    const body = {
      configurationName: 'Everything',
      name: 'FB Lead Ad',
      description: 'Routes Facebook Lead Ad submissions.',
      source: 'Facebook Lead Ad',
      inboundEmail: 'leads+fb@inbound.example.com',
      initialStage: 'Inbox',
      defaultProcess: processId,
      isAutopilot: true,
      allowRecontact: true,
      starterMessage: 'Hi {{firstName}}, thanks for your interest!',
      costPerLead: 12.5,
      status: 'inactive',
      pipelineId: pipeline._id,
      pipelineStage: pipeline.stages[1]._id,
      createApplication: true,
      applicationName: 'Loan',
      applicationStatus: 'new',
      applicationPipelineId: applications._id,
      applicationPipelineStage: 'in review',
      forwardToOutreach: false,
      useWorkflowOnly: true,
    };
    const res = await app.request('POST', '/api/lead-management', { token: admin.token, body });
    assert.equal(res.status, 201, res.text);
    for (const [field, value] of Object.entries(body)) assert.deepEqual(res.body.data[field], value, field);
    assert.equal(res.body.data.initialStageId, pipeline.stages[0]._id);
    assert.equal(res.body.data.pipelineStageId, pipeline.stages[1]._id);
    assert.equal(res.body.data.applicationPipelineStageId, applications.stages.find((s) => s.name === 'In Review')!._id);
  });

  test('unknown extra fields are accepted and ignored', async () => {
    const { admin, processId } = await organization();
    const res = await postConfiguration(app, admin, processId, { favouriteColour: 'teal', organizationId: 'x'.repeat(24), _id: 'abc' });
    assert.equal(res.status, 201);
    assert.equal(res.body.data.favouriteColour, undefined);
    assert.equal(res.body.data.organizationId, admin.organizationId);
    assert.match(res.body.data._id, /^[0-9a-f]{24}$/);
  });

  test('each required field missing answers 400 naming it, and nothing is written', async () => {
    const { admin, processId } = await organization();
    const full = { configurationName: 'Required', initialStage: 'New Lead', defaultProcess: processId };
    for (const field of Object.keys(full)) {
      const body: Record<string, unknown> = { ...full };
      delete body[field];
      const res = await app.request('POST', '/api/lead-management', { token: admin.token, body });
      assert.equal(res.status, 400, field);
      assert.equal(res.body.success, false);
      assert.match(res.body.error, new RegExp(field), field);
    }
    assert.equal(await countConfigurations(admin), 0);
  });

  test('each field is validated independently: a wrong value answers 400 naming the field, and nothing is written', async () => {
    const { admin, processId } = await organization();
    const invalid: [string, unknown][] = [
      ['configurationName', ''],
      ['configurationName', '   '],
      ['configurationName', 42],
      ['name', 5],
      ['description', true],
      ['source', 5],
      ['inboundEmail', 'not-an-email'],
      ['inboundEmail', 5],
      ['initialStage', ''],
      ['initialStage', 7],
      ['defaultProcess', 7],
      ['isAutopilot', 'true'],
      ['allowRecontact', 1],
      ['starterMessage', ['hi']],
      ['costPerLead', -1],
      ['costPerLead', '5'],
      ['status', 'paused'],
      ['pipelineId', 5],
      ['pipelineStage', 5],
      ['createApplication', 'yes'],
      ['applicationName', 5],
      ['applicationStatus', {}],
      ['applicationPipelineId', 5],
      ['applicationPipelineStage', 5],
      ['forwardToOutreach', null],
      ['useWorkflowOnly', 'false'],
    ];
    for (const [field, value] of invalid) {
      const res = await postConfiguration(app, admin, processId, { [field]: value });
      assert.equal(res.status, 400, `${field}=${JSON.stringify(value)}: ${res.text}`);
      assert.equal(res.body.success, false);
      assert.match(res.body.error, new RegExp(`\\b${field}\\b`), `${field}=${JSON.stringify(value)}: ${res.body.error}`);
    }
    assert.equal(await countConfigurations(admin), 0);
  });

  test('the messages say what is wrong', async () => {
    const { admin, processId } = await organization();
    assert.equal((await postConfiguration(app, admin, processId, { costPerLead: -1 })).body.error, 'costPerLead must be >= 0');
    assert.equal((await postConfiguration(app, admin, processId, { status: 'paused' })).body.error, 'status must be one of: active, inactive');
    assert.equal((await postConfiguration(app, admin, processId, { inboundEmail: 'nope' })).body.error, 'inboundEmail must be a valid email address');
    assert.equal((await postConfiguration(app, admin, processId, { isAutopilot: 'true' })).body.error, 'isAutopilot must be boolean');
  });

  test('defaultProcess must be a prompt of the caller\'s organization', async () => {
    const { admin, processId } = await organization();
    const other = await organization('Other');
    for (const defaultProcess of ['0'.repeat(24), 'not-an-id', other.processId]) {
      const res = await postConfiguration(app, admin, defaultProcess);
      assert.equal(res.status, 400, defaultProcess);
      assert.equal(res.body.error, 'defaultProcess must be the _id of an existing prompt');
    }
    assert.equal((await postConfiguration(app, admin, processId)).status, 201);
  });

  test('pipelineId must be a Contact pipeline of the organization, and stages resolve in it', async () => {
    const { admin, processId } = await organization();
    const other = await organization('Other');
    const applications = await createPipeline(app, admin, { name: 'Apps', type: 'Application' });
    for (const pipelineId of ['0'.repeat(24), 'nope', other.contact._id]) {
      const res = await postConfiguration(app, admin, processId, { pipelineId });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'pipelineId must be the _id of an existing pipeline');
    }
    const wrongType = await postConfiguration(app, admin, processId, { pipelineId: applications._id });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error, 'pipelineId must be a Contact pipeline');

    const funnel = await createPipeline(app, admin, { name: 'Funnel', type: 'Contact', stages: [{ name: 'Inbox' }, { name: 'New Lead' }] });
    const res = await postConfiguration(app, admin, processId, { pipelineId: funnel._id, initialStage: 'NEW LEAD', pipelineStage: ' inbox ' });
    assert.equal(res.status, 201);
    assert.equal(res.body.data.pipelineId, funnel._id);
    assert.equal(res.body.data.initialStageId, funnel.stages[1]._id);
    assert.equal(res.body.data.pipelineStageId, funnel.stages[0]._id);
  });

  test('initialStage and pipelineStage must resolve, by _id or case-insensitive name, in the chosen pipeline', async () => {
    const { admin, processId, contact } = await organization();
    const other = await organization('Other');
    const funnel = await createPipeline(app, admin, { name: 'Funnel', type: 'Contact', stages: [{ name: 'Inbox' }] });

    const byId = await postConfiguration(app, admin, processId, { initialStage: contact.stages[2]._id });
    assert.equal(byId.status, 201);
    assert.equal(byId.body.data.initialStageId, contact.stages[2]._id);
    const byName = await postConfiguration(app, admin, processId, { initialStage: 'qualified' });
    assert.equal(byName.body.data.initialStageId, contact.stages.find((s) => s.name === 'Qualified')!._id);

    const refused: [string, Record<string, unknown>][] = [
      ['initialStage', { initialStage: 'Nowhere' }],
      ['initialStage', { initialStage: funnel.stages[0]._id }], // a stage of another pipeline
      ['initialStage', { initialStage: other.contact.stages[0]._id }], // a stage of another organization
      ['initialStage', { pipelineId: funnel._id, initialStage: 'New Lead' }],
      ['pipelineStage', { pipelineStage: 'Nowhere' }],
    ];
    for (const [field, fields] of refused) {
      const res = await postConfiguration(app, admin, processId, fields);
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.match(res.body.error, new RegExp(`^${field} `), res.body.error);
    }
  });

  test('applicationPipelineId must be an Application pipeline; with createApplication and none given the default one is used', async () => {
    const { admin, processId, contact } = await organization();
    const wrongType = await postConfiguration(app, admin, processId, { applicationPipelineId: contact._id });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error, 'applicationPipelineId must be an Application pipeline');

    // no Application pipeline yet: an application stage has nowhere to resolve
    const nowhere = await postConfiguration(app, admin, processId, { createApplication: true, applicationPipelineStage: 'Submitted' });
    assert.equal(nowhere.status, 400);
    assert.match(nowhere.body.error, /^applicationPipelineStage /);

    const withoutDefault = await createConfiguration(app, admin, processId, { createApplication: true });
    assert.equal(withoutDefault.applicationPipelineId, null);

    const applications = await createPipeline(app, admin, { name: 'Apps', type: 'Application', isDefault: true });
    const created = await createConfiguration(app, admin, processId, { createApplication: true, applicationPipelineStage: 'approved' });
    assert.equal(created.applicationPipelineId, applications._id);
    assert.equal(created.applicationPipelineStageId, applications.stages.find((s) => s.name === 'Approved')!._id);

    const notCreating = await createConfiguration(app, admin, processId, {});
    assert.equal(notCreating.applicationPipelineId, null);

    // an unrelated change leaves the earlier configuration as it was; touching createApplication picks the default up
    assert.equal((await put(admin, withoutDefault._id, { source: 'Elsewhere' })).body.data.applicationPipelineId, null);
    assert.equal((await put(admin, withoutDefault._id, { createApplication: true })).body.data.applicationPipelineId, applications._id);
  });

  test('a database failure answers 500 in the error envelope and writes nothing', async () => {
    const { admin, processId } = await organization();
    const name = 'Written when the database works';
    const res = await withConfigurationWritesFailing(() => postConfiguration(app, admin, processId, { configurationName: name }));
    assert.equal(res.status, 500, res.text);
    assert.deepEqual(res.body, CREATE_FAILED);
    assert.equal(await countConfigurations(admin), 0);
    // the same request succeeds once the database is back: the failure was the database's alone
    assert.equal((await postConfiguration(app, admin, processId, { configurationName: name })).status, 201);
  });
});

describe('configurationName uniqueness', () => {
  test('is per user and case-insensitive: the same user is refused, another user may reuse it', async () => {
    const { admin, processId } = await organization();
    const rep = await addUser(app, admin);
    assert.equal((await postConfiguration(app, admin, processId, { configurationName: 'Facebook Funnel' })).status, 201);
    const again = await postConfiguration(app, admin, processId, { configurationName: 'FACEBOOK funnel' });
    assert.equal(again.status, 400);
    assert.equal(again.body.success, false);
    assert.equal(again.body.error, 'configurationName "FACEBOOK funnel" is already taken');
    assert.equal(await countConfigurations(admin), 1);
    assert.equal((await postConfiguration(app, rep, processId, { configurationName: 'facebook funnel' })).status, 201);
  });

  test('two concurrent creates of one name: exactly one wins', async () => {
    const { admin, processId } = await organization();
    for (let round = 0; round < 3; round += 1) {
      const name = `Race ${round}`;
      const results = await Promise.all([
        postConfiguration(app, admin, processId, { configurationName: name }),
        postConfiguration(app, admin, processId, { configurationName: name.toUpperCase() }),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 400]);
      assert.match(results.find((r) => r.status === 400)!.body.error, /already taken/);
    }
    assert.equal(await countConfigurations(admin), 3);
  });

  test('renaming onto a taken name is refused; changing the case of one\'s own name is not', async () => {
    const { admin, processId } = await organization();
    await createConfiguration(app, admin, processId, { configurationName: 'Alpha' });
    const beta = await createConfiguration(app, admin, processId, { configurationName: 'Beta' });
    const clash = await put(admin, beta._id, { configurationName: 'alpha' });
    assert.equal(clash.status, 400);
    assert.match(clash.body.error, /^configurationName .*already taken/);
    assert.equal((await put(admin, beta._id, { configurationName: 'BETA' })).status, 200);
  });
});

describe('inboundEmail uniqueness among active configurations', () => {
  test('an address taken by an active configuration is refused, in any case and in any organization', async () => {
    const { admin, processId } = await organization();
    const other = await organization('Other');
    await createConfiguration(app, admin, processId, { inboundEmail: 'Leads@Inbound.example.com' });
    for (const [account, process] of [[admin, processId], [other.admin, other.processId]] as const) {
      const res = await postConfiguration(app, account, process, { inboundEmail: 'leads@inbound.example.com' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'inboundEmail is already used by another active configuration');
    }
  });

  test('an inactive configuration may share it, but cannot be reactivated while it is taken', async () => {
    const { admin, processId } = await organization();
    const inactive = await createConfiguration(app, admin, processId, { inboundEmail: 'shared@inbound.example.com', status: 'inactive' });
    await createConfiguration(app, admin, processId, { inboundEmail: 'shared@inbound.example.com' });
    const reactivate = await put(admin, inactive._id, { status: 'active' });
    assert.equal(reactivate.status, 400);
    assert.equal(reactivate.body.error, 'inboundEmail is already used by another active configuration');
    assert.equal((await get(admin, inactive._id)).body.data.status, 'inactive');
  });
});

describe('GET /api/lead-management', () => {
  test('a rep lists their own configurations, an ADMIN all of the organization\'s, another organization none', async () => {
    const { admin, processId } = await organization();
    const rep = await addUser(app, admin);
    const other = await organization('Other');
    const mine = await createConfiguration(app, rep, processId);
    const admins = await createConfiguration(app, admin, processId);
    const repList = await app.request('GET', '/api/lead-management', { token: rep.token });
    assert.equal(repList.status, 200);
    assert.deepEqual(repList.body.data.map((c: { _id: string }) => c._id), [mine._id]);
    const adminList = await app.request('GET', '/api/lead-management', { token: admin.token });
    assert.deepEqual(adminList.body.data.map((c: { _id: string }) => c._id).sort(), [mine._id, admins._id].sort());
    assert.deepEqual((await app.request('GET', '/api/lead-management', { token: other.admin.token })).body.data, []);
  });
});

describe('ownership', () => {
  test('the owner and an ADMIN read and change it; another rep gets 403; another organization gets 404', async () => {
    const { admin, processId } = await organization();
    const owner = await addUser(app, admin);
    const otherRep = await addUser(app, admin);
    const head = await addUser(app, admin, 'DEPARTMENT_HEAD');
    const other = await organization('Other');
    const config = await createConfiguration(app, owner, processId);

    assert.equal((await get(owner, config._id)).status, 200);
    assert.equal((await get(admin, config._id)).status, 200);
    assert.equal((await put(owner, config._id, { source: 'Owner' })).status, 200);
    const byAdmin = await put(admin, config._id, { source: 'Admin' });
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.data.userId, owner.userId);

    for (const stranger of [otherRep, head]) {
      for (const res of [
        await get(stranger, config._id),
        await put(stranger, config._id, { source: 'Stranger' }),
        await app.request('DELETE', `/api/lead-management/${config._id}`, { token: stranger.token }),
      ]) {
        assert.equal(res.status, 403);
        assert.deepEqual(res.body, DENIED);
      }
    }
    for (const res of [
      await get(other.admin, config._id),
      await put(other.admin, config._id, { source: 'Other org' }),
      await app.request('DELETE', `/api/lead-management/${config._id}`, { token: other.admin.token }),
    ]) {
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NOT_FOUND);
    }
    assert.equal((await get(owner, config._id)).body.data.source, 'Admin');
  });

  test('unknown and malformed ids answer 404 exactly like another organization\'s', async () => {
    const { admin } = await organization();
    for (const id of ['0'.repeat(24), 'not-an-id', 'ABCDEF0123456789abcdef01']) {
      for (const res of [await get(admin, id), await put(admin, id, { source: 'x' }), await app.request('DELETE', `/api/lead-management/${id}`, { token: admin.token })]) {
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, NOT_FOUND);
      }
    }
  });
});

describe('PUT /api/lead-management/{id}', () => {
  test('changes only the fields supplied and bumps updatedAt', async () => {
    const { admin, processId } = await organization();
    const before = await createConfiguration(app, admin, processId, { source: 'Facebook', starterMessage: 'Hi' });
    app.clock.advance(60_000);
    const res = await put(admin, before._id, { isAutopilot: false, costPerLead: 15, status: 'inactive', somethingElse: 1 });
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.equal(res.body.message, 'Lead management configuration updated');
    const after = res.body.data;
    assert.equal(after.costPerLead, 15);
    assert.equal(after.status, 'inactive');
    assert.equal(after.somethingElse, undefined);
    assert.equal(after.updatedAt, new Date(Date.parse(before.updatedAt) + 60_000).toISOString());
    assert.equal(after.createdAt, before.createdAt);
    const unchanged = { ...before, costPerLead: 15, status: 'inactive', updatedAt: after.updatedAt };
    assert.deepEqual(after, unchanged);
    assert.deepEqual((await get(admin, before._id)).body.data, after);
  });

  test('changes every writable field: each one supplied is stored and read back', async () => {
    const { admin, processId } = await organization();
    const before = await createConfiguration(app, admin, processId);
    const secondProcess = await createPrompt(app, admin, 'Second');
    const funnel = await createPipeline(app, admin, { name: 'Funnel', type: 'Contact', stages: [{ name: 'Inbox' }, { name: 'Booked' }] });
    const applications = await createPipeline(app, admin, { name: 'Apps', type: 'Application' });
    const changes: Record<string, unknown> = {
      configurationName: 'Renamed funnel',
      name: 'FB Lead Ad',
      description: 'Routes Facebook Lead Ad submissions.',
      source: 'Facebook Lead Ad',
      inboundEmail: 'put-every-field@inbound.example.com',
      initialStage: 'Inbox',
      defaultProcess: secondProcess,
      isAutopilot: true,
      allowRecontact: true,
      starterMessage: 'Hi {{firstName}}, thanks for your interest!',
      costPerLead: 12.5,
      status: 'inactive',
      pipelineId: funnel._id,
      pipelineStage: funnel.stages[1]._id,
      createApplication: true,
      applicationName: 'Loan',
      applicationStatus: 'new',
      applicationPipelineId: applications._id,
      applicationPipelineStage: 'in review',
      forwardToOutreach: false,
      useWorkflowOnly: true,
    };
    // every documented field, each with a value the configuration does not already have,
    // so a field the update drops shows
    assert.deepEqual(Object.keys(changes).sort(), [...SEED_UPDATE_FIELDS].sort());
    for (const [field, value] of Object.entries(changes)) assert.notDeepEqual(before[field], value, `${field} already has the value`);

    app.clock.advance(60_000);
    const res = await put(admin, before._id, changes);
    assert.equal(res.status, 200, res.text);
    const expected = {
      ...before,
      ...changes,
      initialStageId: funnel.stages[0]._id,
      pipelineStageId: funnel.stages[1]._id,
      applicationPipelineStageId: applications.stages.find((s) => s.name === 'In Review')!._id,
      updatedAt: app.clock.now().toISOString(),
    };
    assert.deepEqual(res.body.data, expected);
    assert.deepEqual((await get(admin, before._id)).body.data, expected);
  });

  test('a null clears a nullable field; no body changes nothing but updatedAt', async () => {
    const { admin, processId } = await organization();
    const config = await createConfiguration(app, admin, processId, { inboundEmail: 'clear@inbound.example.com', name: 'Named' });
    const cleared = await put(admin, config._id, { inboundEmail: null, name: null });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.data.inboundEmail, null);
    assert.equal(cleared.body.data.name, null);
    app.clock.advance(1_000);
    const empty = await app.request('PUT', `/api/lead-management/${config._id}`, { token: admin.token });
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body.data, { ...cleared.body.data, updatedAt: app.clock.now().toISOString() });
  });

  test('each invalid field answers 400 naming it and changes nothing', async () => {
    const { admin, processId } = await organization();
    const config = await createConfiguration(app, admin, processId);
    const invalid: [string, unknown][] = [
      ['configurationName', ''],
      ['costPerLead', -0.01],
      ['status', 'archived'],
      ['inboundEmail', 'no-at-sign'],
      ['defaultProcess', '0'.repeat(24)],
      ['pipelineId', '0'.repeat(24)],
      ['initialStage', 'Nowhere'],
      ['pipelineStage', 'Nowhere'],
      ['applicationPipelineId', 'nope'],
    ];
    app.clock.advance(1_000);
    for (const [field, value] of invalid) {
      // a valid change alongside must not be written either
      const res = await put(admin, config._id, { source: 'Should not stick', [field]: value });
      assert.equal(res.status, 400, `${field}=${JSON.stringify(value)}: ${res.text}`);
      assert.match(res.body.error, new RegExp(`\\b${field}\\b`), res.body.error);
    }
    assert.deepEqual((await get(admin, config._id)).body.data, config);
  });

  test('a wrong type in any field of the body answers 400 in the error envelope naming it, and changes nothing', async () => {
    const { admin, processId } = await organization();
    // with both pipelines set, a stage of a wrong type that got past validation would reach stage resolution
    const applications = await createPipeline(app, admin, { name: 'Apps', type: 'Application' });
    const config = await createConfiguration(app, admin, processId, { createApplication: true, applicationPipelineId: applications._id, pipelineStage: 'Engaged' });
    // per documented field, values of JSON types it does not take (null only where it is not nullable)
    const wrongTypes: Record<string, unknown[]> = {
      configurationName: [42, null],
      name: [5, ['FB Lead Ad']],
      description: [true, {}],
      source: [5, null],
      inboundEmail: [5, false],
      initialStage: [7, null],
      defaultProcess: [7, null],
      isAutopilot: ['false', null],
      allowRecontact: [1, 'true'],
      starterMessage: [['hi'], 5],
      costPerLead: ['free', null],
      status: [1, null],
      pipelineId: [5, true],
      pipelineStage: [5, {}],
      createApplication: [0, 'yes'],
      applicationName: [5, []],
      applicationStatus: [{}, 1],
      applicationPipelineId: [5, false],
      applicationPipelineStage: [5, ['Submitted']],
      forwardToOutreach: [null, 'no'],
      useWorkflowOnly: ['false', 0],
    };
    // the table covers the seed's fields, which are the ones the app documents: a field added to either shows here
    assert.deepEqual(Object.keys(wrongTypes).sort(), [...SEED_UPDATE_FIELDS].sort());
    assert.deepEqual(await documentedUpdateFields(), [...SEED_UPDATE_FIELDS].sort());
    app.clock.advance(1_000);
    for (const [field, values] of Object.entries(wrongTypes)) {
      for (const value of values) {
        const label = `${field}=${JSON.stringify(value)}`;
        // a valid change alongside must not be written either
        const alongside = field === 'description' ? { source: 'Should not stick' } : { description: 'Should not stick' };
        const res = await put(admin, config._id, { ...alongside, [field]: value });
        assert.equal(res.status, 400, `${label}: ${res.text}`);
        assert.equal(res.body.success, false, label);
        assert.equal(typeof res.body.error, 'string', label);
        assert.match(res.body.error, new RegExp(`^${field} `), `${label}: ${res.body.error}`);
        // every issue reported is this field's (a wrong-typed status is also not one of the enum)
        assert.deepEqual([...new Set(res.body.details.map((d: { field: string }) => d.field))], [field], label);
      }
    }
    assert.deepEqual((await get(admin, config._id)).body.data, config);
  });

  test('a database failure answers 500 in the error envelope and changes nothing', async () => {
    const { admin, processId } = await organization();
    const config = await createConfiguration(app, admin, processId);
    app.clock.advance(1_000);
    const res = await withConfigurationWritesFailing(() => put(admin, config._id, { description: 'Lost with the connection', costPerLead: 7 }));
    assert.equal(res.status, 500, res.text);
    assert.deepEqual(res.body, UPDATE_FAILED);
    assert.deepEqual((await get(admin, config._id)).body.data, config);
    // the same change goes through once the database is back
    assert.equal((await put(admin, config._id, { description: 'Lost with the connection', costPerLead: 7 })).status, 200);
  });

  test('changing pipelineId re-resolves the stored stages in the new pipeline', async () => {
    const { admin, processId, contact } = await organization();
    const config = await createConfiguration(app, admin, processId, { initialStage: 'New Lead', pipelineStage: 'contacted' });
    const similar = await createPipeline(app, admin, { name: 'Similar', type: 'Contact', stages: [{ name: 'Contacted' }, { name: 'New Lead' }] });
    const moved = await put(admin, config._id, { pipelineId: similar._id });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.data.pipelineId, similar._id);
    assert.equal(moved.body.data.initialStageId, similar.stages[1]._id);
    assert.equal(moved.body.data.pipelineStageId, similar.stages[0]._id);

    const bare = await createPipeline(app, admin, { name: 'Bare', type: 'Contact', stages: [{ name: 'Only' }] });
    const refused = await put(admin, config._id, { pipelineId: bare._id });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /^initialStage /);
    const withStages = await put(admin, config._id, { pipelineId: bare._id, initialStage: 'only', pipelineStage: null });
    assert.equal(withStages.status, 200, withStages.text);
    assert.equal(withStages.body.data.initialStageId, bare.stages[0]._id);
    assert.equal(withStages.body.data.pipelineStageId, null);

    const back = await put(admin, config._id, { pipelineId: null, initialStage: contact.stages[1]._id });
    assert.equal(back.status, 200, back.text);
    assert.equal(back.body.data.pipelineId, null);
    assert.equal(back.body.data.initialStageId, contact.stages[1]._id);
  });

  test('concurrent PUTs of the pipeline and of a stage both apply, and leads still land in a stage of the pipeline', async () => {
    const { admin, processId } = await organization();
    const stages = [{ name: 'New Lead' }, { name: 'Contacted' }, { name: 'Engaged' }];
    const first = await createPipeline(app, admin, { name: 'First', type: 'Contact', stages });
    const second = await createPipeline(app, admin, { name: 'Second', type: 'Contact', stages });
    const secondStageIds = second.stages.map((stage) => stage._id);
    const config = await createConfiguration(app, admin, processId, {
      pipelineId: first._id,
      initialStage: 'New Lead',
      pipelineStage: 'Engaged',
      starterMessage: 'Hi {{firstName}}',
    });
    const key = await apiKeyFor(app, admin);
    // each round starts in the first pipeline; either order of the two PUTs ends the same way
    for (let round = 0; round < 20; round++) {
      const reset = await put(admin, config._id, { pipelineId: first._id, initialStage: 'New Lead' });
      assert.equal(reset.status, 200, reset.text);
      const [moved, restaged] = await Promise.all([put(admin, config._id, { pipelineId: second._id }), put(admin, config._id, { initialStage: 'Contacted' })]);
      assert.deepEqual([moved.status, restaged.status], [200, 200], `round ${round}: ${moved.text} ${restaged.text}`);
      const stored = (await get(admin, config._id)).body.data;
      assert.deepEqual(
        { pipelineId: stored.pipelineId, initialStage: stored.initialStage, initialStageId: stored.initialStageId, pipelineStageId: stored.pipelineStageId },
        { pipelineId: second._id, initialStage: 'Contacted', initialStageId: second.stages[1]._id, pipelineStageId: second.stages[2]._id },
        `round ${round}: both changes are kept and every stage is one of the pipeline's`,
      );
      const routed = await app.request('POST', '/api/webhook/outreach', {
        token: key,
        body: { configurationId: config._id, firstName: 'Race', phoneNumber: `+1212555${String(round).padStart(4, '0')}` },
      });
      assert.equal(routed.status, 200, routed.text);
      const lead = (await app.request('GET', `/api/leads/${routed.body.data.contactId}`, { token: admin.token })).body.data;
      assert.equal(lead.pipelineId, second._id, `round ${round}: the lead is in the configuration's pipeline`);
      assert.ok(secondStageIds.includes(lead.stageId), `round ${round}: the lead's stage belongs to its pipeline`);
    }
  });

  test('defaultProcess, when supplied, must be a prompt of the organization', async () => {
    const { admin, processId } = await organization();
    const other = await organization('Other');
    const config = await createConfiguration(app, admin, processId);
    const refused = await put(admin, config._id, { defaultProcess: other.processId });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'defaultProcess must be the _id of an existing prompt');
    const second = await createPrompt(app, admin, 'Second');
    const changed = await put(admin, config._id, { defaultProcess: second });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.data.defaultProcess, second);
  });
});

describe('DELETE /api/lead-management/{id}', () => {
  test('the owner deletes it with the documented message; it is gone afterwards', async () => {
    const { admin, processId } = await organization();
    const rep = await addUser(app, admin);
    const config = await createConfiguration(app, rep, processId);
    const res = await app.request('DELETE', `/api/lead-management/${config._id}`, { token: rep.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, message: 'Lead management configuration deleted', data: { _id: config._id } });
    assert.deepEqual((await get(rep, config._id)).body, NOT_FOUND);
    assert.equal((await app.request('DELETE', `/api/lead-management/${config._id}`, { token: rep.token })).status, 404);
    // its name is free again
    assert.equal((await postConfiguration(app, rep, processId, { configurationName: config.configurationName })).status, 201);
  });

  test('a configuration that routed leads cannot be deleted (it can be deactivated)', async () => {
    const { admin, processId } = await organization();
    const config = await createConfiguration(app, admin, processId);
    // a routed lead, written directly: the leads module is not what is under test
    await insertNumbered(app.db, 'leads', admin.organizationId, ['id', 'configuration_id'], [{ id: newId(), configuration_id: config._id }]);
    const res = await app.request('DELETE', `/api/lead-management/${config._id}`, { token: admin.token });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /cannot be deleted; set its status to inactive instead$/);
    assert.equal((await get(admin, config._id)).status, 200);
    assert.equal((await put(admin, config._id, { status: 'inactive' })).status, 200);
  });

  test('an ADMIN may delete a rep\'s configuration', async () => {
    const { admin, processId } = await organization();
    const rep = await addUser(app, admin);
    const config = await createConfiguration(app, rep, processId);
    assert.equal((await app.request('DELETE', `/api/lead-management/${config._id}`, { token: admin.token })).status, 200);
  });
});

describe('authentication and request bodies', () => {
  test('no token or a bad token answers 401; an API key works like a JWT', async () => {
    const { admin, processId } = await organization();
    const none = await app.request('GET', '/api/lead-management');
    assert.equal(none.status, 401);
    assert.equal(none.body.success, false);
    const bad = await app.request('POST', '/api/lead-management', { token: 'olk_nope', body: {} });
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.body, { success: false, error: 'Invalid or expired token' });
    const key = await apiKeyFor(app, admin);
    const created = await app.request('POST', '/api/lead-management', {
      token: key,
      body: { configurationName: 'Via key', initialStage: 'New Lead', defaultProcess: processId },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.data.userId, admin.userId);
  });

  test('malformed JSON, a non-object body, a wrong content type and an oversize body are 4xx in the envelope', async () => {
    const { admin } = await organization();
    const json = { 'content-type': 'application/json' };
    const cases: [number, Parameters<TestApp['request']>[2]][] = [
      [400, { raw: '{"configurationName": ', headers: json }],
      [400, { raw: '[1, 2]', headers: json }],
      [400, { raw: '"text"', headers: json }],
      [415, { raw: 'configurationName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
      [413, { raw: JSON.stringify({ configurationName: 'x'.repeat(1_100_000) }), headers: json }],
    ];
    for (const [status, options] of cases) {
      const res = await app.request('POST', '/api/lead-management', { token: admin.token, ...options });
      assert.equal(res.status, status, res.text.slice(0, 200));
      assert.equal(res.body.success, false);
      assert.equal(typeof res.body.error, 'string');
    }
    assert.equal(await countConfigurations(admin), 0);
  });
});

describe('OpenAPI', () => {
  test('documents every lead-management route under the Lead Management tag with a summary', async () => {
    const spec = (await app.request('GET', '/openapi.json')).body;
    const operations = [
      spec.paths['/api/lead-management'].post,
      spec.paths['/api/lead-management'].get,
      spec.paths['/api/lead-management/{id}'].get,
      spec.paths['/api/lead-management/{id}'].put,
      spec.paths['/api/lead-management/{id}'].delete,
    ];
    for (const operation of operations) {
      assert.deepEqual(operation.tags, ['Lead Management']);
      assert.equal(typeof operation.summary, 'string');
    }
    const body = spec.paths['/api/lead-management'].post.requestBody.content['application/json'].schema;
    assert.deepEqual([...body.required].sort(), ['configurationName', 'defaultProcess', 'initialStage']);
    assert.equal(body.properties.costPerLead.minimum, 0);
    assert.equal(body.properties.source.default, 'Unassigned');
    assert.equal(body.properties.forwardToOutreach.default, true);
    const update = spec.paths['/api/lead-management/{id}'].put.requestBody.content['application/json'].schema;
    assert.equal(update.properties.source.default, undefined);
  });
});

describe('routing lookups for other modules', () => {
  test('getActiveConfiguration and findActiveConfigurationByInboundEmail return resolved ids for active configurations only', async () => {
    const { admin, processId, contact } = await organization();
    const other = await organization('Other');
    const config = await createConfiguration(app, admin, processId, {
      inboundEmail: 'Route@Inbound.example.com',
      initialStage: 'New Lead',
      pipelineStage: 'Engaged',
      costPerLead: 3,
    });
    const routed = await getActiveConfiguration(app.ctx, admin.organizationId, config._id);
    assert.ok(routed);
    assert.equal(routed.pipelineId, contact._id);
    assert.equal(routed.initialStageId, contact.stages[0]._id);
    assert.equal(routed.entryStageId, contact.stages.find((s) => s.name === 'Engaged')!._id);
    assert.equal(routed.defaultProcessId, processId);
    assert.equal(routed.costPerLead, 3);
    assert.deepEqual(await findActiveConfigurationByInboundEmail(app.ctx, 'route@inbound.EXAMPLE.com'), routed);

    assert.equal(await getActiveConfiguration(app.ctx, other.admin.organizationId, config._id), undefined);
    assert.equal(await getActiveConfiguration(app.ctx, admin.organizationId, 'nope'), undefined);
    await put(admin, config._id, { status: 'inactive' });
    assert.equal(await getActiveConfiguration(app.ctx, admin.organizationId, config._id), undefined);
    assert.equal(await findActiveConfigurationByInboundEmail(app.ctx, 'route@inbound.example.com'), undefined);
  });
});

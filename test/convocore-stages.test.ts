import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

// Convocore's metaData.stage lives in a "Convocore" pipeline made on first use: first uses
// racing each other make each stage once, and a refused request makes nothing.

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

interface Stage {
  _id: string;
  name: string;
  color: string | null;
}
interface Pipeline {
  _id: string;
  name: string;
  stages: Stage[];
}

interface Tenant {
  account: Account;
  key: string;
  agentId: string;
}

async function tenant(): Promise<Tenant> {
  const account = await registerOrganization(app, 'Stages');
  const key = await apiKeyFor(app, account);
  const agent = await app.request('POST', '/api/agents', { token: account.token, body: { name: 'Chat Bot' } });
  assert.equal(agent.status, 201, agent.text);
  return { account, key, agentId: agent.body.data._id };
}

let phoneCounter = 1000;
const nextPhone = () => `+1415555${String(phoneCounter++).padStart(4, '0')}`;
const createLead = (t: Tenant, lead: Record<string, unknown>) =>
  app.request('POST', '/convocore/v3/leads', { token: t.key, body: { lead: { agentId: t.agentId, name: 'Pat Lee', phone: nextPhone(), ...lead } } });
const updateLead = (t: Tenant, id: string, lead: Record<string, unknown>) =>
  app.request('PATCH', `/convocore/v3/leads/${id}`, { token: t.key, body: { agentId: t.agentId, lead } });

async function pipelines(t: Tenant): Promise<Pipeline[]> {
  const res = await app.request('GET', '/api/pipelines', { token: t.account.token });
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}
const convocorePipeline = async (t: Tenant) => (await pipelines(t)).find((pipeline) => pipeline.name === 'Convocore');
const putStages = (t: Tenant, pipeline: Pipeline, stages: Stage[]) =>
  app.request('PUT', `/api/pipelines/${pipeline._id}`, { token: t.account.token, body: { stages } });

/** Each stage name once, and the pipeline's own stage list is accepted back as it is. */
async function assertStagesOnce(t: Tenant, name: string) {
  const pipeline = (await convocorePipeline(t))!;
  const names = pipeline.stages.map((stage) => stage.name);
  assert.equal(names.filter((stageName) => stageName === name).length, 1, `stages: ${names.join(', ')}`);
  assert.equal(new Set(names.map((stageName) => stageName.toLowerCase())).size, names.length, `stages: ${names.join(', ')}`);
  const res = await putStages(t, pipeline, pipeline.stages);
  assert.equal(res.status, 200, res.text);
}

describe('Convocore stages under concurrent first use', () => {
  test('concurrent creates naming a stage not made yet make it once (the pipeline, then a removed stage)', async () => {
    // the race is only real on a PostgreSQL server (PGlite runs one statement at a time); a few rounds make losing it likely
    for (let round = 0; round < 4; round++) {
      const t = await tenant();
      const created = await Promise.all(Array.from({ length: 6 }, () => createLead(t, { metaData: { stage: 'engaged' } })));
      for (const res of created) {
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.data.metaData.stage, 'engaged');
      }
      await assertStagesOnce(t, 'Engaged');

      // a stage someone removed is added back once, however many requests need it at once
      const pipeline = (await convocorePipeline(t))!;
      const removed = await putStages(t, pipeline, pipeline.stages.filter((stage) => stage.name !== 'Won'));
      assert.equal(removed.status, 200, removed.text);
      const readded = await Promise.all(Array.from({ length: 6 }, () => createLead(t, { metaData: { stage: 'won' } })));
      for (const res of readded) assert.equal(res.status, 200, res.text);
      await assertStagesOnce(t, 'Won');
      assert.equal((await convocorePipeline(t))!.stages.length, 13);
    }
  });

  test('a stage renamed to another case is still that stage, not a second one', async () => {
    const t = await tenant();
    assert.equal((await createLead(t, { metaData: { stage: 'trial' } })).status, 200);
    const pipeline = (await convocorePipeline(t))!;
    const renamed = pipeline.stages.map((stage) => (stage.name === 'Trial' ? { ...stage, name: 'TRIAL' } : stage));
    assert.equal((await putStages(t, pipeline, renamed)).status, 200);
    const res = await createLead(t, { metaData: { stage: 'trial' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.metaData.stage, 'trial');
    assert.deepEqual((await convocorePipeline(t))!.stages, renamed);
  });
});

describe('a refused Convocore request writes nothing', () => {
  test('a refused create or update makes neither the Convocore pipeline nor a removed stage', async () => {
    const t = await tenant();
    const before = await pipelines(t);
    const refusedCreate = await createLead(t, { phone: 'not a phone', metaData: { stage: 'won' } });
    assert.equal(refusedCreate.status, 400, refusedCreate.text);
    assert.deepEqual(await pipelines(t), before);

    // a lead in the default pipeline, then an update refused for its phone
    const lead = await createLead(t, {});
    assert.equal(lead.status, 200, lead.text);
    const refusedUpdate = await updateLead(t, lead.body.data.id, { phone: 'not a phone', metaData: { stage: 'won' } });
    assert.equal(refusedUpdate.status, 400, refusedUpdate.text);
    assert.deepEqual(await pipelines(t), before);

    // the pipeline exists now, without Won: refused requests do not add it back
    assert.equal((await updateLead(t, lead.body.data.id, { metaData: { stage: 'engaged' } })).status, 200);
    const pipeline = (await convocorePipeline(t))!;
    assert.equal((await putStages(t, pipeline, pipeline.stages.filter((stage) => stage.name !== 'Won'))).status, 200);
    const withoutWon = await pipelines(t);
    assert.equal((await createLead(t, { phone: 'not a phone', metaData: { stage: 'won' } })).status, 400);
    assert.equal((await updateLead(t, lead.body.data.id, { phone: 'not a phone', metaData: { stage: 'won' } })).status, 400);
    // a duplicate is refused after the checks, when the lead is written
    const duplicate = await createLead(t, { phone: lead.body.data.phone, metaData: { stage: 'won' } });
    assert.equal(duplicate.status, 409, duplicate.text);
    assert.deepEqual(await pipelines(t), withoutWon);
  });
});

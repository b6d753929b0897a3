import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { addUser, apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { approvalsOf, createConfiguration, leadRow, messagesOf, timelineOf } from './support/intake.ts';

let app: TestApp;
let fake: FakeOpenAI;
let admin: Account;
let apiKey: string;

before(async () => {
  fake = await startFakeOpenAI();
  app = await startApp({ openai: { baseUrl: fake.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 300 } });
  admin = await registerOrganization(app);
  apiKey = await apiKeyFor(app, admin);
});
after(async () => {
  await app.close();
  await fake.close();
});

const post = (body: unknown, key: string = apiKey) => app.request('POST', '/api/webhook/outreach', { token: key, body });

let phoneCounter = 100;
const nextPhone = () => `+1212555${String(phoneCounter++).padStart(4, '0')}`;

describe('POST /api/webhook/outreach statuses', () => {
  test('200 with the documented message and ids; the lead is placed by the configuration', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi {{firstName}}, about {{roof}}?', isAutopilot: true });
    const phone = nextPhone();
    const res = await post({ configurationId: config._id, firstName: 'Ada', lastName: 'Lovelace', phoneNumber: phone, email: 'ada@example.com', roof: 'south' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.success, true);
    assert.equal(res.body.message, 'Data processed successfully and message sent.');
    assert.match(res.body.data.contactId, /^[0-9a-f]{24}$/);
    assert.equal(typeof res.body.data.conversationId, 'string');
    assert.equal(res.body.data.applicationId, null);

    const lead = await leadRow(app, res.body.data.contactId);
    assert.equal(lead.phone, phone);
    assert.equal(lead.source, 'Facebook Lead Ad');
    assert.equal(lead.stage_name, 'New Lead');
    assert.equal(lead.process_id, config.defaultProcess);
    assert.equal(lead.configuration_id, config._id);
    assert.deepEqual(lead.additional_info, { roof: 'south' });
    assert.equal(lead.follow_up_step, 1, 'forwardToOutreach enrolls the lead');
    assert.ok(lead.next_follow_up_at, 'its next follow-up is scheduled');

    const [message] = await messagesOf(app, lead.id);
    assert.equal(message.status, 'queued');
    assert.equal(message.channel, 'text');
    assert.equal(message.content, 'Hi Ada, about south?');
    const [intake] = await app.db.query<any>('SELECT * FROM lead_intakes WHERE lead_id = $1', [lead.id]);
    assert.equal(intake.cost, 12.5);
    assert.equal(intake.created, true);
    const routing = (await timelineOf(app, lead.id)).find((a) => a.created_by === 'routing');
    assert.deepEqual(routing.metadata.decisions, [
      `New lead routed by configuration "${config.configurationName}"`,
      'Enrolled in the follow-up cadence',
      'First message queued (autopilot)',
    ]);
    assert.equal(routing.metadata.costPerLead, 12.5);
  });

  test('configuration_id and CONFIGURATION_ID are accepted too; other keys are custom data', async () => {
    const config = await createConfiguration(app, admin);
    for (const key of ['configuration_id', 'CONFIGURATION_ID']) {
      const res = await post({ [key]: config._id, firstName: 'Bo', phoneNumber: nextPhone(), utm: 'spring' });
      assert.equal(res.status, 200, res.text);
      const lead = await leadRow(app, res.body.data.contactId);
      assert.deepEqual(lead.additional_info, { utm: 'spring' });
    }
  });

  test('400 without a configuration id, 400 for an inactive one', async () => {
    const missing = await post({ firstName: 'Ada', phoneNumber: nextPhone() });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /configurationId/);
    const config = await createConfiguration(app, admin, { status: 'inactive' });
    const inactive = await post({ configurationId: config._id, firstName: 'Ada', phoneNumber: nextPhone() });
    assert.equal(inactive.status, 400);
    assert.match(inactive.body.error, /inactive/);
  });

  test('404 for an unknown, malformed or another user\'s configuration', async () => {
    const rep = await addUser(app, admin);
    const repsConfig = await createConfiguration(app, rep);
    const other = await registerOrganization(app, 'Other');
    const othersConfig = await createConfiguration(app, other);
    for (const id of ['0123456789abcdef01234567', 'not-an-id', repsConfig._id, othersConfig._id]) {
      const res = await post({ configurationId: id, firstName: 'Ada', phoneNumber: nextPhone() });
      assert.equal(res.status, 404, `${id}: ${res.text}`);
      assert.equal(res.body.success, false);
    }
  });

  test('401 for a bad key, no key, or a login token (JWT) instead of an API key', async () => {
    const config = await createConfiguration(app, admin);
    const body = { configurationId: config._id, firstName: 'Ada', phoneNumber: nextPhone() };
    assert.equal((await post(body, 'olk_wrong')).status, 401);
    assert.equal((await post(body, admin.token)).status, 401);
    assert.equal((await app.request('POST', '/api/webhook/outreach', { body })).status, 401);
    const viaHeader = await app.request('POST', '/api/webhook/outreach', { body, headers: { 'x-api-key': apiKey } });
    assert.equal(viaHeader.status, 200, viaHeader.text);
  });

  test('without a valid key the body is never judged: 401, not the 400 or 413 that would describe it', async () => {
    const oversize = { configurationId: 'x', note: 'n'.repeat(app.ctx.config.bodyLimitBytes) };
    for (const token of [undefined, 'olk_wrong']) {
      assert.equal((await app.request('POST', '/api/webhook/outreach', { token, body: { firstName: 5 } })).status, 401);
      assert.equal((await app.request('POST', '/api/webhook/outreach', { token, raw: '{not json', headers: { 'content-type': 'application/json' } })).status, 401);
      assert.equal((await app.request('POST', '/api/webhook/outreach', { token, body: oversize })).status, 401);
      assert.equal((await app.request('POST', '/api/inbound/email', { token, raw: '{not json', headers: { 'content-type': 'application/json' } })).status, 401);
    }
  });

  test('400 for a lead with neither phone nor email, or a bad phone; nothing is written', async () => {
    const config = await createConfiguration(app, admin);
    const before = await app.db.query<any>('SELECT count(*)::int AS n FROM leads');
    assert.equal((await post({ configurationId: config._id, firstName: 'Nobody' })).status, 400);
    const badPhone = await post({ configurationId: config._id, firstName: 'Ada', phoneNumber: 'call me maybe' });
    assert.equal(badPhone.status, 400);
    assert.match(badPhone.body.error, /phone/);
    const afterCount = await app.db.query<any>('SELECT count(*)::int AS n FROM leads');
    assert.equal(afterCount[0].n, before[0].n);
  });

  test('the nested form (contacts, applications, conversations) is accepted', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hello {{firstName}}' });
    const res = await post({
      configurationId: config._id,
      contacts: { firstName: 'Nia', lastName: 'Nested', phoneNumber: nextPhone(), email: 'nia@example.com' },
      applications: { product: 'Solar 5kW' },
      conversations: [{ body: 'Interested!' }],
    });
    assert.equal(res.status, 200, res.text);
    const lead = await leadRow(app, res.body.data.contactId);
    assert.equal(lead.first_name, 'Nia');
    assert.equal(lead.email, 'nia@example.com');
    assert.deepEqual(lead.additional_info.applications, { product: 'Solar 5kW' });
    const inArray = await post({ configurationId: config._id, contacts: [{ firstName: 'Ari', phoneNumber: nextPhone() }] });
    assert.equal(inArray.status, 200, inArray.text);
    assert.equal((await leadRow(app, inArray.body.data.contactId)).first_name, 'Ari');
  });

  test('contacts holding several contacts, none, or not a contact is 400 and writes nothing: a call routes one contact', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hello {{firstName}}' });
    const count = async () => (await app.db.query<any>('SELECT count(*)::int AS n FROM leads'))[0].n;
    const before = await count();
    for (const contacts of [
      [{ firstName: 'One', phoneNumber: nextPhone() }, { firstName: 'Two', phoneNumber: nextPhone() }],
      [],
      'Nia Nested',
      [['Nia']],
    ]) {
      const res = await post({ configurationId: config._id, contacts });
      assert.equal(res.status, 400, JSON.stringify(contacts));
      assert.equal(res.body.success, false);
      assert.equal(res.body.error, 'contacts must be one contact: an object, or an array holding one');
    }
    assert.equal(await count(), before);
  });
});

describe('routing rules', () => {
  test('dedupe by phone, then email: an existing lead is updated, not re-contacted without allowRecontact', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi {{firstName}}' });
    const phone = nextPhone();
    const first = await post({ configurationId: config._id, firstName: 'Dee', phoneNumber: phone, email: 'dee@example.com' });
    const again = await post({ configurationId: config._id, firstName: 'Dee', phoneNumber: phone, budget: '10k' });
    const byEmail = await post({ configurationId: config._id, firstName: 'Dee', email: 'DEE@example.com' });
    assert.equal(again.body.data.contactId, first.body.data.contactId);
    assert.equal(byEmail.body.data.contactId, first.body.data.contactId);
    const lead = await leadRow(app, first.body.data.contactId);
    assert.equal(lead.additional_info.budget, '10k', 'the existing lead is updated');
    assert.equal((await approvalsOf(app, lead.id)).length, 1, 'contacted once only');
    const titles = (await timelineOf(app, lead.id)).map((a) => a.title);
    assert.equal(titles.filter((t) => t.includes('not re-contacted')).length, 2);
    const intakes = await app.db.query<any>('SELECT created, cost FROM lead_intakes WHERE lead_id = $1 ORDER BY at, id', [lead.id]);
    assert.deepEqual(intakes.map((i) => i.cost), [12.5, 0, 0], 'only the new lead carries the cost');
  });

  test('allowRecontact: an existing lead gets a new first message', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi again {{firstName}}', allowRecontact: true });
    const phone = nextPhone();
    await post({ configurationId: config._id, firstName: 'Rae', phoneNumber: phone });
    const again = await post({ configurationId: config._id, firstName: 'Rae', phoneNumber: phone });
    assert.equal((await approvalsOf(app, again.body.data.contactId)).length, 2);
  });

  test('not on autopilot: the rendered first message waits in the approval queue', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi {{firstName}} {{lastName}}!' });
    const res = await post({ configurationId: config._id, firstName: 'Ada', lastName: 'Byron', phoneNumber: nextPhone() });
    const [approval] = await approvalsOf(app, res.body.data.contactId);
    assert.equal(approval.status, 'pending');
    assert.equal(approval.content, 'Hi Ada Byron!');
    assert.equal((await messagesOf(app, res.body.data.contactId)).length, 0, 'nothing is sent before approval');
  });

  test('createApplication makes an Application in the application pipeline and stage', async () => {
    const pipeline = await app.request('POST', '/api/pipelines', {
      token: admin.token,
      body: { name: 'Loans', type: 'Application', stages: [{ name: 'Submitted' }, { name: 'Funded' }] },
    });
    assert.equal(pipeline.status, 201, pipeline.text);
    const config = await createConfiguration(app, admin, {
      createApplication: true,
      applicationName: 'Loan application',
      applicationStatus: 'open',
      applicationPipelineId: pipeline.body.data._id,
      applicationPipelineStage: 'Funded',
    });
    const res = await post({ configurationId: config._id, firstName: 'Al', phoneNumber: nextPhone() });
    assert.match(res.body.data.applicationId, /^[0-9a-f]{24}$/);
    const got = await app.request('GET', `/api/applications/${res.body.data.applicationId}`, { token: admin.token });
    assert.equal(got.status, 200, got.text);
    const application = got.body.data;
    assert.equal(application.name, 'Loan application');
    assert.equal(application.status, 'open');
    assert.equal(application.stageName, 'Funded');
    assert.equal(application.pipelineId, pipeline.body.data._id);
    assert.equal(application.leadId, res.body.data.contactId);
    const listed = await app.request('GET', `/api/applications?leadId=${res.body.data.contactId}`, { token: admin.token });
    assert.deepEqual(listed.body.data.map((a: any) => a._id), [application._id]);
    const other = await registerOrganization(app, 'Elsewhere');
    assert.equal((await app.request('GET', `/api/applications/${application._id}`, { token: other.token })).status, 404);
    assert.equal((await app.request('GET', '/api/applications/nope', { token: admin.token })).status, 404);
  });

  test('pipelineStage wins over initialStage', async () => {
    const config = await createConfiguration(app, admin, { pipelineStage: 'Engaged' });
    const res = await post({ configurationId: config._id, firstName: 'Pia', phoneNumber: nextPhone() });
    assert.equal((await leadRow(app, res.body.data.contactId)).stage_name, 'Engaged');
  });

  // One flag per configuration, each checked for what it does and for what it leaves alone:
  // with both in one configuration, a flag that did the other's job (or nothing) would pass.
  test('useWorkflowOnly skips the first message and nothing else: the lead is still enrolled in the cadence', async () => {
    const config = await createConfiguration(app, admin, { useWorkflowOnly: true, starterMessage: 'Hi' });
    assert.equal(config.forwardToOutreach, true);
    const res = await post({ configurationId: config._id, firstName: 'Wu', phoneNumber: nextPhone() });
    assert.equal(res.status, 200, res.text);
    const lead = await leadRow(app, res.body.data.contactId);
    assert.equal((await approvalsOf(app, lead.id)).length, 0, 'no first message waits for approval');
    assert.equal((await messagesOf(app, lead.id)).length, 0, 'no first message is queued');
    assert.equal(lead.follow_up_step, 1, 'forwardToOutreach still enrolls the lead');
    assert.ok(lead.next_follow_up_at, 'its next follow-up is scheduled');
    const routing = (await timelineOf(app, lead.id)).find((a) => a.created_by === 'routing');
    assert.deepEqual(routing.metadata.decisions, [
      `New lead routed by configuration "${config.configurationName}"`,
      'Enrolled in the follow-up cadence',
      'Workflow only: the autopilot first message was skipped',
    ]);
  });

  test('forwardToOutreach false leaves the cadence alone and nothing else: the first message still goes out', async () => {
    const config = await createConfiguration(app, admin, { forwardToOutreach: false, starterMessage: 'Hi {{firstName}}' });
    assert.equal(config.useWorkflowOnly, false);
    const res = await post({ configurationId: config._id, firstName: 'Fo', phoneNumber: nextPhone() });
    assert.equal(res.status, 200, res.text);
    const lead = await leadRow(app, res.body.data.contactId);
    assert.equal(lead.follow_up_step, null, 'not enrolled');
    assert.equal(lead.next_follow_up_at, null, 'no follow-up scheduled');
    const approvals = await approvalsOf(app, lead.id);
    assert.deepEqual(approvals.map((a) => [a.status, a.content]), [['pending', 'Hi Fo']], 'the first message waits for approval as usual');
    const routing = (await timelineOf(app, lead.id)).find((a) => a.created_by === 'routing');
    assert.deepEqual(routing.metadata.decisions, [
      `New lead routed by configuration "${config.configurationName}"`,
      'First message waiting for approval',
    ]);
  });

  test('no starter message: the AI composer writes the first message from the process', async () => {
    const config = await createConfiguration(app, admin, { isAutopilot: true });
    fake.script({ answer: 'Hi Zed, saw you want solar. Free assessment this week?' });
    const res = await post({ configurationId: config._id, firstName: 'Zed', phoneNumber: nextPhone() });
    const [message] = await messagesOf(app, res.body.data.contactId);
    assert.equal(message.content, 'Hi Zed, saw you want solar. Free assessment this week?');
    const sent = fake.requests.at(-1)!;
    assert.match(sent.messages[0].content, /solar installer/);
    assert.match(sent.messages[0].content, /First name: Zed/);
    const traces = await app.request('GET', `/api/leads/${res.body.data.contactId}/ai-traces`, { token: admin.token });
    assert.equal(traces.status, 200);
    assert.equal(traces.body.data[0].outcome, 'ok');
    assert.equal(traces.body.data[0].totalTokens, 49);
  });

  test('the model failing or timing out falls back to the template: the lead and its message are not lost', async () => {
    const config = await createConfiguration(app, admin);
    fake.script({ hang: true }, { fail: 500 });
    const res = await post({ configurationId: config._id, firstName: 'Fay', phoneNumber: nextPhone() });
    assert.equal(res.status, 200, res.text);
    const [approval] = await approvalsOf(app, res.body.data.contactId);
    assert.equal(approval.composed_by, 'template');
    assert.match(approval.content, /^Hi Fay, thanks for your interest!/);
    const traces = await app.request('GET', `/api/leads/${res.body.data.contactId}/ai-traces`, { token: admin.token });
    assert.equal(traces.body.data[0].outcome, 'fallback');
    assert.equal(traces.body.data[0].attempts, 2);
  });

  test('concurrent webhooks for the same new person make one lead', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi' });
    const phone = nextPhone();
    const results = await Promise.all([1, 2, 3].map(() => post({ configurationId: config._id, firstName: 'Twin', phoneNumber: phone })));
    for (const r of results) assert.equal(r.status, 200, r.text);
    assert.equal(new Set(results.map((r) => r.body.data.contactId)).size, 1);
  });
});

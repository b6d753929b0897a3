import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startFakeOpenAI } from './support/fake-openai.ts';
import { startApp, type Response } from './support/harness.ts';
import {
  buildWorld,
  hexIdsOf,
  idOf,
  normalized,
  operationsOf,
  ownPath,
  pathWith,
  send,
  snapshot,
  unknownIdFor,
  validBody,
  type Operation,
} from './support/sweep.ts';

// Tenant isolation on every surface: organization B using organization A's ids (in a path,
// a body or a query) gets exactly the answer an id that exists nowhere gets, A's resources
// read the same afterwards, and no list B can reach ever shows one of A's ids.

// A model to answer, so the AI playground's control (Beta's own prompt) can succeed.
const model = await startFakeOpenAI();
const app = await startApp({ openai: { baseUrl: model.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 5_000 } });
after(async () => {
  await app.close();
  await model.close();
});
// Alpha's integer ids must be numbers Beta never issues here: each organization numbers its own from 1.
const alpha = await buildWorld(app, 'Alpha', { numberedAfter: 1_000_000 });
const beta = await buildWorld(app, 'Beta');
const spec = (await app.request('GET', '/openapi.json')).body;
const operations = operationsOf(spec);

// A lead and an agent only Alpha has: Beta's lookups by phone, name or email must find nothing.
const ALPHA_ONLY = { firstName: 'Solitary', lastName: 'Lemur', phone: '+14155550177', email: 'solitary.lemur@example.com' };
const alphaOnly = await app.request('POST', '/api/leads', { token: alpha.account.token, body: { ...ALPHA_ONLY, agentId: alpha.agentId } });
assert.equal(alphaOnly.status, 201, alphaOnly.text);
const alphaOnlyAgent = await app.request('POST', '/api/agents', { token: alpha.account.token, body: { name: 'Alpha-only agent' } });
assert.equal(alphaOnlyAgent.status, 201, alphaOnlyAgent.text);
// An inbound address names its tenant: Beta's key must not deliver mail into Alpha's pipeline.
const ALPHA_INBOUND = 'alpha-leads@in.example.com';
const inbound = await app.request('PUT', `/api/lead-management/${alpha.configurationId}`, { token: alpha.account.token, body: { inboundEmail: ALPHA_INBOUND } });
assert.equal(inbound.status, 200, inbound.text);
const alphaIds = [...hexIdsOf(alpha), alphaOnly.body.data._id, alphaOnlyAgent.body.data._id];
// Beta's configuration gets an address of its own, the control for the inbound-address case below.
const BETA_INBOUND = 'beta-leads@in.example.com';
const betaInbound = await app.request('PUT', `/api/lead-management/${beta.configurationId}`, { token: beta.account.token, body: { inboundEmail: BETA_INBOUND } });
assert.equal(betaInbound.status, 200, betaInbound.text);

const UNKNOWN_HEX = '0123456789abcdef01234567';
const UNKNOWN_SEQ = 987654321;

/**
 * Sends Beta's request twice, once with Alpha's ids and once with ids that exist nowhere,
 * and checks the answers match, are refusals, and left Alpha's resources as they were.
 */
async function assertLikeUnknown(
  label: string,
  foreign: () => Promise<Response>,
  unknown: () => Promise<Response>,
  ids: { foreign: (string | number)[]; unknown: (string | number)[] },
): Promise<void> {
  const before = await snapshot(app, alpha);
  const unknownAnswer = await unknown();
  const foreignAnswer = await foreign();
  assert.ok(foreignAnswer.status >= 400 && foreignAnswer.status < 500, `${label}: ${foreignAnswer.status} ${foreignAnswer.text}`);
  assert.deepEqual(normalized(foreignAnswer, ids.foreign), normalized(unknownAnswer, ids.unknown), `${label}: Alpha's id answers unlike an unknown one`);
  assert.deepEqual(await snapshot(app, alpha), before, `${label}: Alpha's resources changed`);
}

describe("Beta addressing Alpha's ids in paths", () => {
  for (const operation of operations.filter((op) => op.pathParams.length > 0)) {
    test(operation.label, async () => {
      const body = validBody(beta, operation);
      const request = (path: string) => () => send(app, beta, operation, { path, body });
      for (const param of operation.pathParams) {
        const foreignId = idOf(alpha, operation, param);
        const unknownId = unknownIdFor(operation, param);
        await assertLikeUnknown(
          `${operation.label} {${param}}`,
          request(ownPath(beta, operation, { [param]: foreignId })),
          request(ownPath(beta, operation, { [param]: unknownId })),
          { foreign: [foreignId], unknown: [unknownId] },
        );
      }
      if (operation.pathParams.length > 1) {
        const allUnknown = Object.fromEntries(operation.pathParams.map((param) => [param, unknownIdFor(operation, param)]));
        const allForeign = operation.pathParams.map((param) => idOf(alpha, operation, param));
        await assertLikeUnknown(`${operation.label} (every id Alpha's)`, request(ownPath(alpha, operation)), request(pathWith(operation, allUnknown)), {
          foreign: allForeign,
          unknown: Object.values(allUnknown),
        });
      }
    });
  }
});

interface ReferenceCase {
  label: string;
  /** the request Beta sends, with `id` where Alpha's (or an unknown, or Beta's own) id goes */
  request(id: string | number): Promise<Response>;
  foreignId: string | number;
  unknownId: string | number;
  /**
   * Beta's own resource in Alpha's place, which the same request must accept: without it a
   * request refused whatever the id (a stage missing from the pipeline, an agent that is not
   * the lead's) would pass as isolation.
   */
  ownId: string | number;
}

const betaNative = (method: string, path: string, body: unknown) => app.request(method, `/api${path}`, { token: beta.account.token, body });
const betaKey = (method: string, path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${beta.apiKey}` }) =>
  app.request(method, path, { body, headers });
const hexCase = (label: string, foreignId: string, ownId: string, request: (id: string) => Promise<Response>): ReferenceCase => ({
  label,
  request: (id) => request(String(id)),
  foreignId,
  unknownId: UNKNOWN_HEX,
  ownId,
});

const REFERENCE_CASES: ReferenceCase[] = [
  hexCase('native lead create with agentId', alpha.agentId, beta.agentId, (id) => betaNative('POST', '/leads', { firstName: 'Ref', agentId: id })),
  hexCase('native lead create with campaignId', alpha.campaignId, beta.campaignId, (id) => betaNative('POST', '/leads', { firstName: 'Ref', campaignId: id })),
  hexCase('native lead create with processId', alpha.promptId, beta.promptId, (id) => betaNative('POST', '/leads', { firstName: 'Ref', processId: id })),
  hexCase('native lead create with pipelineId', alpha.pipelineId, beta.pipelineId, (id) => betaNative('POST', '/leads', { firstName: 'Ref', pipelineId: id })),
  hexCase('native lead create with configurationId', alpha.configurationId, beta.configurationId, (id) =>
    betaNative('POST', '/leads', { firstName: 'Ref', configurationId: id }),
  ),
  hexCase('native lead PATCH with agentId', alpha.agentId, beta.agentId, (id) => betaNative('PATCH', `/leads/${beta.leadId}`, { agentId: id })),
  hexCase('native lead PATCH with campaignId', alpha.campaignId, beta.campaignId, (id) => betaNative('PATCH', `/leads/${beta.leadId}`, { campaignId: id })),
  hexCase('native lead PATCH with pipelineId', alpha.pipelineId, beta.pipelineId, (id) => betaNative('PATCH', `/leads/${beta.leadId}`, { pipelineId: id })),
  hexCase('lead-management PUT with defaultProcess', alpha.promptId, beta.promptId, (id) =>
    betaNative('PUT', `/lead-management/${beta.configurationId}`, { defaultProcess: id }),
  ),
  // with a stage both worlds' "Sales" pipelines have, so the pipeline id alone decides
  hexCase('lead-management PUT with pipelineId', alpha.pipelineId, beta.pipelineId, (id) =>
    betaNative('PUT', `/lead-management/${beta.configurationId}`, { pipelineId: id, initialStage: 'Open' }),
  ),
  hexCase('agent create with processId', alpha.promptId, beta.promptId, (id) => betaNative('POST', '/agents', { name: 'Borrower', processId: id })),
  hexCase('agent PUT with processId', alpha.promptId, beta.promptId, (id) => betaNative('PUT', `/agents/${beta.agentId}`, { processId: id })),
  hexCase('campaign create with agentId', alpha.agentId, beta.agentId, (id) => betaNative('POST', '/campaigns', { name: 'Borrowed', agentId: id })),
  hexCase('campaign PUT with agentId', alpha.agentId, beta.agentId, (id) => betaNative('PUT', `/campaigns/${beta.campaignId}`, { agentId: id })),
  hexCase('AI playground with promptId', alpha.promptId, beta.promptId, (id) => betaNative('POST', '/ai/playground', { promptId: id, message: 'Hello' })),
  hexCase('intake webhook with configurationId', alpha.configurationId, beta.configurationId, (id) =>
    betaKey('POST', '/api/webhook/outreach', { configurationId: id, firstName: 'Ref', phoneNumber: '+14155550188' }),
  ),
  hexCase('CSV import with configurationId', alpha.configurationId, beta.configurationId, (id) =>
    app.request('POST', `/api/leads/import?configurationId=${id}`, {
      token: beta.account.token,
      raw: 'firstName,phone\nRef,+14155550166\n',
      headers: { 'content-type': 'text/csv' },
    }),
  ),
  hexCase('inbound email with configurationId', alpha.configurationId, beta.configurationId, (id) =>
    app.request('POST', `/api/inbound/email?configurationId=${id}`, {
      raw: 'From: Ref <ref@example.com>\r\nTo: leads@example.com\r\nSubject: Hi\r\n\r\nCall me at +14155550155\r\n',
      headers: { authorization: `Bearer ${beta.apiKey}`, 'content-type': 'message/rfc822' },
    }),
  ),
  ...['configurationId', 'configuration_id', 'CONFIGURATION_ID'].map((key) =>
    hexCase(`intake webhook with ${key} in the query`, alpha.configurationId, beta.configurationId, (id) =>
      betaKey('POST', `/api/webhook/outreach?${key}=${id}`, { firstName: 'Ref', phoneNumber: '+14155550188' }),
    ),
  ),
  {
    label: 'inbound email to the address of an Alpha configuration',
    request: (address) =>
      app.request('POST', `/api/inbound/email?to=${encodeURIComponent(address)}`, {
        raw: `From: Ref <ref@example.com>\r\nTo: ${address}\r\nSubject: Hi\r\n\r\nCall me at +14155550155\r\n`,
        headers: { authorization: `Bearer ${beta.apiKey}`, 'content-type': 'message/rfc822' },
      }),
    foreignId: ALPHA_INBOUND,
    unknownId: 'nobody@in.example.com',
    ownId: BETA_INBOUND,
  },
  hexCase('Apten create with customerProfile of Alpha only', 'Alpha-only agent', 'Ava', (id) =>
    betaKey('POST', '/apten/v1/leads/create', { firstName: 'Ref', lastName: 'Lead', phone: '+14155550144', customerProfile: id }, { 'x-api-key': beta.apiKey }),
  ),
  hexCase('Convocore create with agentId', alpha.agentId, beta.agentId, (id) => betaKey('POST', '/convocore/v3/leads', { lead: { agentId: id, name: 'Ref' } })),
  // Convocore refuses any agentId but the lead's own: Beta's lead's agent is the one that must work
  hexCase('Convocore PATCH with agentId', alpha.agentId, beta.agentId, (id) =>
    betaKey('PATCH', `/convocore/v3/leads/${beta.leadId}`, { agentId: id, lead: { name: 'Ref' } }),
  ),
  hexCase('Autocalls campaign create with assistant_id', alpha.agentId, beta.agentId, (id) =>
    betaKey('POST', '/autocalls/api/user/campaign', { name: 'Borrowed', assistant_id: id }),
  ),
  {
    label: 'Autocalls lead create with campaign_id',
    request: (id) => betaKey('POST', '/autocalls/api/user/lead', { phone_number: '+14155550133', campaign_id: id }),
    foreignId: alpha.campaignSeq,
    unknownId: UNKNOWN_SEQ,
    ownId: beta.campaignSeq,
  },
  {
    label: 'Autocalls lead PUT with campaign_id',
    request: (id) => betaKey('PUT', `/autocalls/api/user/leads/${beta.leadSeq}`, { campaign_id: id }),
    foreignId: alpha.campaignSeq,
    unknownId: UNKNOWN_SEQ,
    ownId: beta.campaignSeq,
  },
];

describe("Beta referring to Alpha's resources in bodies and queries", () => {
  for (const reference of REFERENCE_CASES) {
    test(reference.label, async () => {
      await assertLikeUnknown(reference.label, () => reference.request(reference.foreignId), () => reference.request(reference.unknownId), {
        foreign: [reference.foreignId],
        unknown: [reference.unknownId],
      });
      // the control: the same request with Beta's own resource succeeds, so the refusal above was the id's
      const own = await reference.request(reference.ownId);
      assert.ok(own.status >= 200 && own.status < 300, `${reference.label} with Beta's own id: ${own.status} ${own.text}`);
    });
  }
});

/** Query values that name Alpha's resources, by query parameter name. */
const ALPHA_QUERY_VALUES: Record<string, string> = {
  campaign: alpha.campaignId,
  agent: alpha.agentId,
  assignee: alpha.account.userId,
  leadId: alpha.leadId,
  agentId: alpha.agentId,
  campaign_id: String(alpha.campaignSeq),
  q: ALPHA_ONLY.lastName,
  phone: ALPHA_ONLY.phone,
  phone_number: ALPHA_ONLY.phone.slice(2),
};

// Page cursors Alpha was handed (after its first lead): Beta paging with them must still see only its own rows.
const alphaKey = { authorization: `Bearer ${alpha.apiKey}` };
const alphaNativeCursor = (await app.request('GET', '/api/leads?limit=1', { token: alpha.account.token })).body.data.nextCursor;
const alphaConvocoreCursor = (await app.request('GET', `/convocore/v3/leads?agentId=${alpha.agentId}&limit=1`, { headers: alphaKey })).body.nextCursor;
assert.ok(alphaNativeCursor && alphaConvocoreCursor, 'Alpha has a second page on both surfaces');
/** Further queries Beta lists with, beyond one per parameter naming Alpha's resources. */
const EXTRA_LIST_QUERIES: Record<string, string[]> = {
  '/api/leads': [`cursor=${encodeURIComponent(alphaNativeCursor)}`],
  '/convocore/v3/leads': [`agentId=${beta.agentId}`, `agentId=${beta.agentId}&cursor=${encodeURIComponent(alphaConvocoreCursor)}`],
};

function listRequests(operation: Operation): string[] {
  const queryNames: string[] = (spec.paths[operation.path].get.parameters ?? [])
    .filter((parameter: { in: string }) => parameter.in === 'query')
    .map((parameter: { name: string }) => parameter.name);
  const filtered = queryNames.filter((name) => name in ALPHA_QUERY_VALUES).map((name) => `${name}=${encodeURIComponent(ALPHA_QUERY_VALUES[name])}`);
  return [operation.path, ...[...filtered, ...(EXTRA_LIST_QUERIES[operation.path] ?? [])].map((query) => `${operation.path}?${query}`)];
}

describe("Beta's lists never show Alpha's ids", () => {
  for (const operation of operations.filter((op) => op.method === 'GET' && op.pathParams.length === 0)) {
    test(operation.label, async () => {
      for (const path of listRequests(operation)) {
        const response = await send(app, beta, operation, { path });
        assert.ok(response.status < 500, `${path}: ${response.status} ${response.text}`);
        for (const id of alphaIds) assert.ok(!response.text.includes(id), `${path} shows Alpha's ${id}: ${response.text.slice(0, 300)}`);
        assert.ok(!response.text.includes(ALPHA_ONLY.lastName), `${path} shows Alpha's lead: ${response.text.slice(0, 300)}`);
      }
    });
  }

  test("Autocalls lists Beta's own leads by integer id, none of Alpha's", async () => {
    const response = await app.request('GET', '/autocalls/api/user/leads?per_page=100', { headers: { authorization: `Bearer ${beta.apiKey}` } });
    assert.equal(response.status, 200, response.text);
    const ids = response.body.data.map((lead: { id: number }) => lead.id);
    assert.ok(ids.includes(beta.leadSeq));
    assert.ok(!ids.includes(alpha.leadSeq));
  });

  test("Apten and Convocore find Alpha's lead by neither phone nor id", async () => {
    const lookup = await app.request('GET', `/apten/v1/leads/lookup?phone=${encodeURIComponent(ALPHA_ONLY.phone)}`, { headers: { 'x-api-key': beta.apiKey } });
    assert.equal(lookup.status, 404, lookup.text);
    const chats = await app.request('GET', `/convocore/v3/leads?agentId=${alpha.agentId}`, { headers: { authorization: `Bearer ${beta.apiKey}` } });
    assert.ok(chats.status === 404 || (chats.status === 200 && chats.body.data.length === 0), `${chats.status} ${chats.text}`);
  });
});

/** Beta's world is the same shape as Alpha's, so a refusal above is isolation, not a broken fixture. */
test("Beta's own ids work where Alpha's were refused", async () => {
  for (const operation of operations.filter((op) => op.method === 'GET' && op.pathParams.length > 0)) {
    const response = await send(app, beta, operation, { path: ownPath(beta, operation) });
    assert.equal(response.status, 200, `${operation.label}: ${response.status} ${response.text}`);
  }
});

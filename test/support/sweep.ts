import assert from 'node:assert/strict';
import { twilioSignature } from '../../src/modules/channels/signature.ts';
import { apiKeyFor, registerOrganization, type Account, type Response, type TestApp } from './harness.ts';

/**
 * Machinery for the sweeps that walk every operation of /openapi.json: one organization's
 * full set of resources (a "world"), the surface each path belongs to (its credentials and
 * error envelope), which resource a path id names, and a valid body per operation so a
 * request reaches the id lookup instead of stopping at validation.
 */

export interface World {
  account: Account;
  apiKey: string;
  promptId: string;
  pipelineId: string;
  configurationId: string;
  agentId: string;
  campaignId: string;
  /** the campaign's integer id, which Autocalls addresses it by */
  campaignSeq: number;
  leadId: string;
  /** the lead's integer id, which Autocalls addresses it by */
  leadSeq: number;
  activityId: string;
  strategyId: string;
  approvalId: string;
  /** the application the webhook lead's routing created */
  applicationId: string;
}

async function created(response: Promise<Response>, what: string): Promise<any> {
  const res = await response;
  if (res.status !== 200 && res.status !== 201) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
}

/**
 * Registers an organization and creates one of each resource through the API. Every world
 * holds the same names and phone numbers, so isolation tests also show that equal values
 * in another organization do not collide. Integer ids are numbered per organization, so
 * worlds share theirs too: `numberedAfter` numbers this world's leads and campaigns after
 * that many, as if the organization had created them before, so that the integer ids of
 * its world are numbers another world never issues.
 */
export async function buildWorld(app: TestApp, organizationName: string, options: { numberedAfter?: number } = {}): Promise<World> {
  const account = await registerOrganization(app, organizationName);
  if (options.numberedAfter) {
    await app.db.query(`SELECT take_seqs($1, 'leads', $2), take_seqs($1, 'campaigns', $2)`, [account.organizationId, options.numberedAfter]);
  }
  const apiKey = await apiKeyFor(app, account);
  const native = (path: string, body: unknown, what: string) => created(app.request('POST', `/api${path}`, { token: account.token, body }), what);

  const promptId = (await native('/prompts', { name: 'Qualifier', content: 'Be helpful.' }, 'prompt')).data._id;
  const pipelineId = (await native('/pipelines', { name: 'Sales', type: 'Contact', stages: [{ name: 'Open' }, { name: 'Won' }] }, 'pipeline')).data._id;
  const configurationId = (
    await native(
      '/lead-management',
      { configurationName: 'Inbound', initialStage: 'New Lead', defaultProcess: promptId, starterMessage: 'Hi {{firstName}}!', createApplication: true },
      'configuration',
    )
  ).data._id;
  const agentId = (await native('/agents', { name: 'Ava', processId: promptId }, 'agent')).data._id;
  const campaign = (await native('/campaigns', { name: 'Calls', agentId }, 'campaign')).data;
  const lead = (await native('/leads', { firstName: 'Ada', lastName: 'Byron', phone: '+14155550100', agentId, campaignId: campaign._id, additionalInfo: { plan: 'pro' } }, 'lead')).data;
  const activityId = (await native(`/leads/${lead._id}/activities`, { type: 'Note', title: 'First call', note: 'Spoke briefly' }, 'activity')).data.id;
  const strategyId = (await native('/strategies', { name: 'Gentle', instructions: 'Ask one question.' }, 'strategy')).data._id;

  const routed = await created(
    app.request('POST', '/api/webhook/outreach', { token: apiKey, body: { configurationId, firstName: 'Quinn', phoneNumber: '+14155550199' } }),
    'webhook lead',
  );
  const queue = await created(app.request('GET', `/api/approvals?status=pending&leadId=${routed.data.contactId}`, { token: account.token }), 'approvals');
  const approvalId = queue.data[0]?._id;
  if (!approvalId) throw new Error('the webhook lead left no pending approval');
  const applicationId = routed.data.applicationId;
  if (!applicationId) throw new Error(`the webhook lead created no application: ${JSON.stringify(routed)}`);

  return { account, apiKey, promptId, pipelineId, configurationId, agentId, campaignId: campaign._id, campaignSeq: campaign.numericId, leadId: lead._id, leadSeq: lead.seq, activityId, strategyId, approvalId, applicationId };
}

type SurfaceName = 'native' | 'apten' | 'autocalls' | 'convocore';

interface Surface {
  name: SurfaceName;
  prefix: string;
  /** the headers that carry this world's credentials on this surface */
  credentials(world: World): Record<string, string>;
  /** the same headers carrying a credential the surface must refuse */
  badCredentials(world: World): Record<string, string>;
  /** the status of a request without valid credentials */
  refusal: number;
  /** why `body` is not this surface's error envelope, or undefined when it is */
  envelopeProblem(body: unknown): string | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const SURFACES: Surface[] = [
  {
    name: 'apten',
    prefix: '/apten/v1/',
    credentials: (world) => ({ 'x-api-key': world.apiKey }),
    // a valid session token is still not an API key
    badCredentials: (world) => ({ 'x-api-key': world.account.token }),
    refusal: 403,
    envelopeProblem: (body) => (isObject(body) && typeof body.message === 'string' && !('success' in body) ? undefined : 'Apten errors are {message}'),
  },
  {
    name: 'autocalls',
    prefix: '/autocalls/api/',
    credentials: (world) => ({ authorization: `Bearer ${world.apiKey}` }),
    badCredentials: (world) => ({ authorization: `Bearer ${world.account.token}` }),
    refusal: 401,
    envelopeProblem: (body) =>
      isObject(body) && typeof body.message === 'string' && (body.errors === undefined || isObject(body.errors)) && !('success' in body)
        ? undefined
        : 'Autocalls errors are {message, errors?}',
  },
  {
    name: 'convocore',
    prefix: '/convocore/v3/',
    credentials: (world) => ({ authorization: `Bearer ${world.apiKey}` }),
    badCredentials: (world) => ({ authorization: `Bearer ${world.account.token}` }),
    refusal: 401,
    envelopeProblem: (body) =>
      isObject(body) && typeof body.message === 'string' && typeof body.code === 'string' && (body.issues === undefined || Array.isArray(body.issues))
        ? undefined
        : 'Convocore errors are {message, code, issues?}',
  },
  {
    name: 'native',
    prefix: '/api/',
    credentials: (world) => ({ authorization: `Bearer ${world.account.token}` }),
    // a token signed with another secret
    badCredentials: (world) => ({ authorization: `Bearer ${world.account.token.slice(0, -4)}AAAA` }),
    refusal: 401,
    envelopeProblem: (body) => (isObject(body) && body.success === false && typeof body.error === 'string' ? undefined : 'native errors are {success:false, error}'),
  },
];

export function surfaceOf(path: string): Surface {
  const surface = SURFACES.find((s) => path.startsWith(s.prefix));
  if (!surface) throw new Error(`no surface for ${path}`);
  return surface;
}

export interface Operation {
  method: string;
  /** the OpenAPI path, with `{param}` placeholders */
  path: string;
  pathParams: string[];
  /** the JSON request body schema, when the operation documents one */
  bodySchema?: Record<string, any>;
  /** `security: []`: the route takes no bearer credential (it checks something else) */
  public: boolean;
  /** documented (in its summary) to take a user's API key and not a login token */
  apiKeyOnly: boolean;
  /** a carrier callback, authenticated by the carrier's request signature */
  twilioSigned: boolean;
  surface: Surface;
  label: string;
}

// Routes outside the four API surfaces, or that only describe the service.
const NOT_SWEPT = /^\/(docs|openapi\.json|healthz|readyz|metrics)/;

export function operationsOf(spec: any): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries<Record<string, any>>(spec.paths)) {
    if (NOT_SWEPT.test(path)) continue;
    for (const [method, operation] of Object.entries<any>(methods)) {
      const upper = method.toUpperCase();
      operations.push({
        method: upper,
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
        bodySchema: operation.requestBody?.content?.['application/json']?.schema,
        public: Array.isArray(operation.security) && operation.security.length === 0,
        apiKeyOnly: /API key only/i.test(operation.summary ?? ''),
        twilioSigned: path.startsWith('/api/webhook/twilio/'),
        surface: surfaceOf(path),
        label: `${upper} ${path}`,
      });
    }
  }
  return operations;
}

export type ResourceKind = 'prompt' | 'pipeline' | 'configuration' | 'agent' | 'campaign' | 'lead' | 'activity' | 'strategy' | 'approval' | 'application';

// The collection segment in front of a path id names the resource it addresses.
const KIND_BY_SEGMENT: Record<string, ResourceKind> = {
  prompts: 'prompt',
  pipelines: 'pipeline',
  'lead-management': 'configuration',
  agents: 'agent',
  campaigns: 'campaign',
  leads: 'lead',
  activities: 'activity',
  strategies: 'strategy',
  approvals: 'approval',
  applications: 'application',
};

export function kindOf(operation: Operation, param: string): ResourceKind {
  const segments = operation.path.split('/');
  const kind = KIND_BY_SEGMENT[segments[segments.indexOf(`{${param}}`) - 1]];
  if (!kind) throw new Error(`${operation.label}: no fixture resource for {${param}}; add one to test/support/sweep.ts`);
  return kind;
}

/** Autocalls addresses leads by integer; every other path id is a 24-hex id. */
const integerIds = (operation: Operation) => operation.surface.name === 'autocalls';

export function idOf(world: World, operation: Operation, param: string): string {
  const kind = kindOf(operation, param);
  if (kind === 'lead' && integerIds(operation)) return String(world.leadSeq);
  const ids: Record<ResourceKind, string> = {
    prompt: world.promptId,
    pipeline: world.pipelineId,
    configuration: world.configurationId,
    agent: world.agentId,
    campaign: world.campaignId,
    lead: world.leadId,
    activity: world.activityId,
    strategy: world.strategyId,
    approval: world.approvalId,
    application: world.applicationId,
  };
  return ids[kind];
}

/** A path id that exists nowhere, in the shape the route expects. */
export function unknownIdFor(operation: Operation, param: string): string {
  if (integerIds(operation)) return '987654321';
  return kindOf(operation, param) === 'activity' ? 'no-such-activity' : '0123456789abcdef01234567';
}

/**
 * Path ids no route could ever have issued, as raw path segments, with the answers they
 * get: a bad string and one longer than any id (the router has a length limit of its own)
 * are missing ids, 404 — except where a client chooses the id (activities), whose schema
 * bounds its length; a broken %-escape is not a URL at all, 400.
 */
export function malformedIdsFor(operation: Operation, param: string): { id: string; statuses: number[] }[] {
  const clientChosen = kindOf(operation, param) === 'activity';
  return [
    { id: 'not-an-id', statuses: [404] },
    { id: 'x'.repeat(300), statuses: clientChosen ? [400] : [404] },
    { id: '%E0%A4%A', statuses: [400] },
    // a NUL can never be in a stored id, and PostgreSQL refuses it in any text parameter
    { id: 'a%00b', statuses: clientChosen ? [400, 404] : [404] },
  ];
}

/** Path ids are inserted as given: callers pass URL-safe ids, or a deliberately malformed segment. */
export function pathWith(operation: Operation, ids: Record<string, string>): string {
  return operation.path.replace(/\{(\w+)\}/g, (_, param: string) => ids[param]);
}

export function ownPath(world: World, operation: Operation, overrides: Record<string, string> = {}): string {
  const ids = Object.fromEntries(operation.pathParams.map((param) => [param, idOf(world, operation, param)]));
  return pathWith(operation, { ...ids, ...overrides });
}

/**
 * A body the operation accepts from `world`'s credentials, so a request with it is judged
 * on its path ids alone. Bodies that would create or change something use values that
 * leave the world usable for the rest of the sweep.
 */
let freshName = 0;

export function validBody(world: World, operation: Operation): unknown {
  if (!operation.bodySchema) return undefined;
  freshName += 1;
  const name = `Sweep ${freshName}`;
  const bodies: Record<string, unknown> = {
    'POST /api/prompts': { name, content: 'Be brief.' },
    'POST /api/pipelines': { name, type: 'Contact' },
    'POST /api/lead-management': { configurationName: name, initialStage: 'New Lead', defaultProcess: world.promptId },
    'POST /api/agents': { name },
    'POST /api/campaigns': { name },
    'POST /api/leads': { firstName: name },
    'POST /api/strategies': { name, instructions: 'Be kind.' },
    'POST /api/ai/playground': { promptId: world.promptId, message: 'Hello' },
    'POST /apten/v1/leads/create': { firstName: name, lastName: 'Sweep', phone: `+1415556${String(freshName % 10_000).padStart(4, '0')}`, customerProfile: 'Ava' },
    'POST /autocalls/api/user/lead': { phone_number: `+1415557${String(freshName % 10_000).padStart(4, '0')}`, campaign_id: world.campaignSeq },
    'POST /autocalls/api/user/campaign': { name },
    'POST /convocore/v3/leads': { lead: { agentId: world.agentId, name } },
    'POST /api/webhook/outreach': { configurationId: world.configurationId, firstName: 'Webhook', phoneNumber: '+14155550111' },
    'PUT /api/prompts/{id}': { description: 'checked' },
    'PUT /api/pipelines/{id}': { name: 'Sales' },
    'PUT /api/lead-management/{id}': { description: 'checked' },
    'PUT /api/agents/{id}': { voiceEnabled: false },
    'PUT /api/campaigns/{id}': { maxRetries: 3 },
    'PATCH /api/leads/{id}': { firstName: 'Ada' },
    'POST /api/leads/{id}/activities': { type: 'Note', note: 'checked' },
    'PATCH /api/leads/{id}/activities/{activityId}': { completed: false },
    'POST /api/leads/{id}/messages': { content: 'Hello' },
    'PUT /api/strategies/{id}': { instructions: 'Ask one question.' },
    'PATCH /apten/v1/leads/{leadId}': { additionalInfo: { plan: 'pro' } },
    'PUT /apten/v1/leads/{leadId}': { additionalInfo: { plan: 'pro' } },
    'PUT /autocalls/api/user/leads/{id}': { variables: { plan: 'pro' } },
    'PATCH /convocore/v3/leads/{id}': { agentId: world.agentId, lead: { metaData: { company: 'Analytical' } } },
  };
  return bodies[operation.label] ?? {};
}

/** The JSON types a schema allows, or undefined when it allows any value. */
function allowedTypes(schema: Record<string, any>): Set<string> | undefined {
  if (schema.type) return new Set([schema.type].flat());
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return undefined;
  const types = new Set<string>();
  for (const branch of branches) {
    const inner = allowedTypes(branch);
    if (!inner) return undefined;
    inner.forEach((type) => types.add(type));
  }
  return types;
}

/** A value of none of the schema's types (a number also satisfies "integer"'s wrong value). */
function wrongValueFor(schema: Record<string, any>): unknown {
  const allowed = allowedTypes(schema);
  if (!allowed) return undefined;
  const pick = [12345, 'wrong', true, [1], { wrong: true }, null].find((value) => {
    const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? 'number' : typeof value;
    if (type === 'number' && (allowed.has('number') || allowed.has('integer'))) return false;
    return !allowed.has(type);
  });
  return pick;
}

/**
 * A body in which every typed property has a wrong type; undefined when the schema names no
 * typed property (the root-level wrong type covers those operations).
 */
/** The object schema of a body (an optional body is documented as a union with it). */
export function objectSchemaOf(schema: Record<string, any>): Record<string, any> {
  return schema.anyOf?.find((branch: any) => branch.type === 'object') ?? schema;
}

export function wrongTypedBody(schema: Record<string, any>): Record<string, unknown> | undefined {
  const body: Record<string, unknown> = {};
  const object = objectSchemaOf(schema);
  for (const [name, property] of Object.entries<Record<string, any>>(object.properties ?? {})) {
    const wrong = wrongValueFor(property);
    if (wrong !== undefined) body[name] = wrong;
  }
  if (Object.keys(body).length === 0 && isObject(object.additionalProperties)) {
    const wrong = wrongValueFor(object.additionalProperties);
    if (wrong !== undefined) body.anyField = wrong;
  }
  return Object.keys(body).length > 0 ? body : undefined;
}

const NUL = 'nul\u0000byte';
/**
 * Stands for the JSON number literal 1e400, which JSON.parse reads as Infinity and no
 * JSON.stringify can write: `jsonOf` puts the literal in its place.
 */
export const OVERFLOWING_NUMBER = '\u0001overflowing number\u0001';
/** A body as JSON text, with every OVERFLOWING_NUMBER written as the literal it stands for. */
export const jsonOf = (body: unknown) => JSON.stringify(body).replaceAll(JSON.stringify(OVERFLOWING_NUMBER), '1e400');
const LONE_SURROGATE = 'lone \ud800 surrogate';

/** `{"a":{"a":…}}` `depth` levels deep: parsers, validators and JSONB all recurse. */
function deeplyNested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { a: 1 };
  for (let level = 1; level < depth; level++) value = { a: value };
  return value;
}

type Schema = Record<string, any>;

/** The alternatives of a schema: its anyOf/oneOf branches, flattened (a `nullable` beside them adds null); the schema itself otherwise. */
function branchesOf(schema: Schema): Schema[] {
  const union = schema.anyOf ?? schema.oneOf;
  if (!Array.isArray(union)) return [schema];
  const branches = union.filter(isObject).flatMap((branch) => branchesOf(branch));
  return schema.nullable === true ? [...branches, { type: 'null' }] : branches;
}

/** The JSON types one branch (no anyOf/oneOf) takes, inferred from its keywords when it has no `type`; undefined when it takes any value. */
function typesOf(branch: Schema): string[] | undefined {
  let types: string[] | undefined;
  if (branch.type !== undefined) types = [branch.type].flat();
  else if ('const' in branch || Array.isArray(branch.enum)) {
    const values: unknown[] = 'const' in branch ? [branch.const] : branch.enum;
    types = [...new Set(values.map((value) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value)))];
  } else if (branch.properties || branch.additionalProperties !== undefined || branch.patternProperties || branch.required) types = ['object'];
  else if (branch.items !== undefined) types = ['array'];
  if (types && branch.nullable === true && !types.includes('null')) types = [...types, 'null'];
  return types;
}

/** Code points, as JSON Schema counts a string's length. */
const lengthOf = (text: string) => [...text].length;

const FORMAT_EXAMPLES: Record<string, string> = {
  email: 'sweep@example.com',
  'date-time': '2026-06-01T12:00:00.000Z',
  date: '2026-06-01',
  time: '12:00:00Z',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  'uri-reference': 'https://example.com/',
  hostname: 'example.com',
  ipv4: '127.0.0.1',
  uuid: '00000000-0000-4000-8000-000000000000',
};

const STRING_CANDIDATES = ['x', '1', 'a', 'key', 'x1', '09:00', 'sweep'];

function patternOf(source: unknown): RegExp | undefined | null {
  if (typeof source !== 'string') return undefined;
  try {
    return new RegExp(source, 'u');
  } catch {
    return null; // a pattern JavaScript cannot compile: nothing can be shown to match it
  }
}

function stringFor(schema: Schema): string | undefined {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  const pattern = patternOf(schema.pattern);
  if (pattern === null) return undefined;
  let candidates: string[];
  if (schema.format !== undefined) {
    const example = FORMAT_EXAMPLES[schema.format];
    if (example === undefined) return undefined;
    candidates = [example];
  } else {
    candidates = STRING_CANDIDATES.map((candidate) => candidate.padEnd(Math.max(min, candidate.length), 'x'));
    if (min === 0) candidates.push('');
  }
  return candidates.find((candidate) => lengthOf(candidate) >= min && lengthOf(candidate) <= max && (!pattern || pattern.test(candidate)));
}

function numberFor(schema: Schema, integer: boolean): number | undefined {
  // OpenAPI 3.0 writes exclusive bounds as booleans beside minimum/maximum; JSON Schema as numbers
  let low = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
  let lowExclusive = schema.exclusiveMinimum === true;
  if (typeof schema.exclusiveMinimum === 'number' && schema.exclusiveMinimum >= low) [low, lowExclusive] = [schema.exclusiveMinimum, true];
  let high = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
  let highExclusive = schema.exclusiveMaximum === true;
  if (typeof schema.exclusiveMaximum === 'number' && schema.exclusiveMaximum <= high) [high, highExclusive] = [schema.exclusiveMaximum, true];
  const step = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : integer ? 1 : undefined;
  const fits = (value: number) =>
    Number.isFinite(value) &&
    (lowExclusive ? value > low : value >= low) &&
    (highExclusive ? value < high : value <= high) &&
    (!integer || Number.isInteger(value)) &&
    (step === undefined || Number.isInteger(value / step));
  const candidates: number[] = [1];
  if (Number.isFinite(low)) candidates.push(low, low + 1, low + (step ?? 1) - (((low % (step ?? 1)) + (step ?? 1)) % (step ?? 1)));
  if (Number.isFinite(high)) candidates.push(high, high - 1);
  if (Number.isFinite(low) && Number.isFinite(high)) candidates.push((low + high) / 2);
  const rounded = candidates.flatMap((value) => (step ? [Math.ceil(value / step) * step, Math.floor(value / step) * step] : [value]));
  return rounded.find(fits);
}

/** The ways an object takes keys beyond its `properties`: one per patternProperties entry, and additionalProperties unless false. */
function mapSlotsOf(object: Schema): { pattern?: RegExp; value: Schema }[] {
  const slots: { pattern?: RegExp; value: Schema }[] = [];
  for (const [source, value] of Object.entries<unknown>(object.patternProperties ?? {})) {
    const pattern = patternOf(source);
    if (pattern && isObject(value)) slots.push({ pattern, value });
  }
  if (object.additionalProperties !== false) slots.push({ value: isObject(object.additionalProperties) ? object.additionalProperties : {} });
  return slots;
}

// '1' first: a Record whose key pattern the document lost (@fastify/swagger turns patternProperties into additionalProperties) is usually keyed by number
const KEY_CANDIDATES = ['1', '2', '3', 'a', 'b', 'key', 'key2', 'x1', 'x2', 'A1'];

/** A key `slot` takes that `taken` does not hold yet, or undefined. */
function freshKeyFor(object: Schema, slot: { pattern?: RegExp }, taken: Record<string, unknown>): string | undefined {
  const names = patternOf(object.propertyNames?.pattern);
  const patterns = mapSlotsOf(object).flatMap((other) => (other.pattern ? [other.pattern] : []));
  return KEY_CANDIDATES.find(
    (key) =>
      !(key in taken) &&
      !(key in (object.properties ?? {})) &&
      (slot.pattern ? slot.pattern.test(key) : !patterns.some((pattern) => pattern.test(key))) &&
      (!names || names.test(key)),
  );
}

/** Whether `key`, not a declared property, belongs to `slot`. */
function slotTakes(object: Schema, slot: { pattern?: RegExp }, key: string): boolean {
  if (key in (object.properties ?? {})) return false;
  if (slot.pattern) return slot.pattern.test(key);
  return !mapSlotsOf(object).some((other) => other.pattern?.test(key));
}

function objectFor(schema: Schema, depth: number): Record<string, unknown> | undefined {
  const properties: Record<string, Schema> = schema.properties ?? {};
  const value: Record<string, unknown> = {};
  for (const key of schema.required ?? []) {
    let property: Schema | undefined = properties[key];
    if (!property) property = mapSlotsOf(schema).find((slot) => slotTakes(schema, slot, key))?.value;
    if (!property) return undefined;
    const instance = validInstanceOf(property, depth + 1);
    if (instance === undefined) return undefined;
    value[key] = instance;
  }
  const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
  for (const [key, property] of Object.entries(properties)) {
    if (Object.keys(value).length >= minProperties) break;
    if (key in value) continue;
    const instance = validInstanceOf(property, depth + 1);
    if (instance !== undefined) value[key] = instance;
  }
  for (const slot of mapSlotsOf(schema)) {
    while (Object.keys(value).length < minProperties) {
      const key = freshKeyFor(schema, slot, value);
      const instance = key === undefined ? undefined : validInstanceOf(slot.value, depth + 1);
      if (key === undefined || instance === undefined) break;
      value[key] = instance;
    }
  }
  if (Object.keys(value).length < minProperties) return undefined;
  if (typeof schema.maxProperties === 'number' && Object.keys(value).length > schema.maxProperties) return undefined;
  return value;
}

function arrayFor(schema: Schema, depth: number): unknown[] | undefined {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  if (typeof schema.maxItems === 'number' && schema.maxItems < min) return undefined;
  if (Array.isArray(schema.items)) {
    // a tuple: every position it lists
    const tuple = schema.items.map((item: Schema) => validInstanceOf(item, depth + 1));
    return tuple.includes(undefined) || tuple.length < min ? undefined : tuple;
  }
  if (min === 0) return [];
  const item = validInstanceOf(schema.items ?? {}, depth + 1);
  if (item === undefined) return undefined;
  // equal items break uniqueItems: build only what needs a single item
  if (schema.uniqueItems === true && min > 1) return undefined;
  return Array.from({ length: min }, () => item);
}

/**
 * A small value `schema` accepts — required properties only (plus what minProperties
 * asks for, keyed to match patternProperties or, failing those, additionalProperties),
 * minItems items, the lowest number its bounds allow, a string of minLength matching
 * its pattern or format, an enum's first value, the first union branch that can be
 * built (null last) — or undefined where it cannot tell how to build one (allOf, $ref,
 * not, an unknown format, a pattern no candidate matches), so the caller skips it.
 */
export function validInstanceOf(schema: Schema | boolean | undefined, depth = 0): unknown {
  if (schema === true || schema === undefined) return 'x';
  if (schema === false || !isObject(schema) || depth > 16) return undefined;
  if (schema.allOf !== undefined || schema.$ref !== undefined || schema.not !== undefined) return undefined;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum.find((value: unknown) => value !== null) ?? (schema.enum.length > 0 ? schema.enum[0] : undefined);
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) {
    const branches = union.filter(isObject);
    const isNull = (branch: Schema) => branch.type === 'null' || (Array.isArray(branch.enum) && branch.enum.length === 1 && branch.enum[0] === null);
    for (const branch of [...branches.filter((branch) => !isNull(branch)), ...branches.filter(isNull)]) {
      const instance = validInstanceOf(branch, depth + 1);
      if (instance !== undefined) return instance;
    }
    return schema.nullable === true ? null : undefined;
  }
  const types = typesOf(schema);
  if (!types) return 'x';
  for (const type of [...types.filter((type) => type !== 'null'), ...types.filter((type) => type === 'null')]) {
    const instance =
      type === 'null'
        ? null
        : type === 'boolean'
          ? false
          : type === 'integer' || type === 'number'
            ? numberFor(schema, type === 'integer')
            : type === 'string'
              ? stringFor(schema)
              : type === 'object'
                ? objectFor(schema, depth)
                : type === 'array'
                  ? arrayFor(schema, depth)
                  : undefined;
    if (instance !== undefined) return instance;
  }
  return undefined;
}

const DATE_FORMATS = new Set(['date-time', 'date', 'time']);

/**
 * Values of an allowed JSON type that stress what lies behind validation: PostgreSQL's ban
 * on NUL characters (in text and in JSONB) and on lone surrogates (in JSONB), 32-bit and
 * 53-bit integer ranges, doubles at their limits, strings far longer than any column
 * expects, impossible dates; and the schema's own limits (its maximum and minimum, a
 * maxLength string of characters outside the BMP), which pass validation and reach the
 * domain logic. An untyped schema (any JSON, stored as JSONB) gets strings, numbers and objects.
 */
function leafExtremesFor(schema: Schema, name: string, depth: number): unknown[] {
  const declared = allowedTypes(schema);
  const types = declared ?? new Set(['string', 'number', 'object', 'array']);
  const branches = branchesOf(schema);
  const values: unknown[] = [];
  // an enum or const inside a nested object is refused by the schema alone: not worth a request per value
  const closed = depth > 0 && branches.every((branch) => 'const' in branch || Array.isArray(branch.enum) || branch.type === 'null');
  if (closed) return values;
  const stringBranches = branches.filter((branch) => typesOf(branch)?.includes('string'));
  if (types.has('string')) {
    values.push(NUL, 'x'.repeat(12_000), LONE_SURROGATE);
    const dated = /date|time|At$/i.test(name) || stringBranches.some((branch) => DATE_FORMATS.has(branch.format));
    if (dated) values.push('99999-19-39T29:69:69Z', '+275760-09-13T00:00:00.001Z', '0000-00-00', '9999-12-31T23:59:59.999Z', '0001-01-01T00:00:00.000Z');
    for (const branch of stringBranches) {
      // 4 UTF-8 bytes each: longer ones would only meet the body limit
      if (typeof branch.maxLength === 'number' && branch.maxLength > 0 && branch.maxLength <= 3000 && !branch.pattern && !branch.format) values.push('\u{1F600}'.repeat(branch.maxLength));
    }
  }
  if (types.has('integer')) values.push(2 ** 31, 2 ** 53 + 2, -1, OVERFLOWING_NUMBER);
  else if (types.has('number')) values.push(1e308, -1, OVERFLOWING_NUMBER);
  for (const branch of branches.filter((branch) => typesOf(branch)?.some((type) => type === 'number' || type === 'integer'))) {
    // an exclusive bound itself is refused; the nearest double inside it is not
    const integer = typesOf(branch)?.includes('integer') && !typesOf(branch)?.includes('number');
    const inside = (bound: number, direction: 1 | -1) =>
      integer ? Math.floor(bound) + (direction === 1 ? 1 : Number.isInteger(bound) ? -1 : 0) : bound === 0 ? direction * Number.MIN_VALUE : bound + direction * Math.abs(bound) * Number.EPSILON;
    if (typeof branch.maximum === 'number') values.push(branch.exclusiveMaximum === true ? inside(branch.maximum, -1) : branch.maximum);
    if (typeof branch.minimum === 'number') values.push(branch.exclusiveMinimum === true ? inside(branch.minimum, 1) : branch.minimum);
    if (typeof branch.exclusiveMaximum === 'number') values.push(inside(branch.exclusiveMaximum, -1));
    if (typeof branch.exclusiveMinimum === 'number') values.push(inside(branch.exclusiveMinimum, 1));
  }
  // inside a value, only an object that takes keys of its own gets them: a closed one refuses them by its schema alone
  const open = depth === 0 || !declared || branches.some((branch) => typesOf(branch)?.includes('object') && mapSlotsOf(branch).length > 0);
  if (types.has('object') && depth < 2 && open) values.push({ [NUL]: NUL }, deeplyNested(60), deeplyNested(2000));
  if (types.has('array') && depth < 2) values.push(Array.from({ length: 1000 }, () => 1));
  return values;
}

/** One extreme value put into a top-level property: `path` names the leaf that holds it, `value` is the whole property. */
export interface ExtremeCase {
  path: string;
  leaf: unknown;
  value: unknown;
}

const EXTREME_KEYS = [NUL, LONE_SURROGATE, 'k'.repeat(1000)];

/** How deep (in object keys; array items add none) extreme values are put into a property. */
const MAX_NESTING = 3;

function extremeCasesAt(schema: Schema, name: string, path: string, known: unknown, depth: number): ExtremeCase[] {
  const cases: ExtremeCase[] = leafExtremesFor(schema, name, depth).map((leaf) => ({ path, leaf, value: leaf }));
  if (depth >= MAX_NESTING) return cases;
  for (const branch of branchesOf(schema)) {
    const types = typesOf(branch);
    if (types?.includes('object')) {
      const base = isObject(known) ? known : validInstanceOf({ ...branch, type: 'object' });
      if (!isObject(base)) continue;
      const into = (key: string, property: Schema) => {
        for (const inner of extremeCasesAt(property, key, `${path}.${key}`, base[key], depth + 1)) cases.push({ ...inner, value: { ...base, [key]: inner.value } });
      };
      for (const [key, property] of Object.entries<Schema>(branch.properties ?? {})) if (isObject(property)) into(key, property);
      for (const slot of mapSlotsOf(branch)) {
        // the entry the valid value already has, and one beside it (a second step, a second key)
        const present = Object.keys(base).find((key) => slotTakes(branch, slot, key));
        const fresh = freshKeyFor(branch, slot, base);
        for (const key of [present, fresh]) if (key !== undefined) into(key, slot.value);
        // keys no column or JSONB object can hold, or longer than any key should be, each beside a valid entry
        const entry = validInstanceOf(slot.value);
        if (entry === undefined) continue;
        for (const key of EXTREME_KEYS) {
          if (!(key in base)) cases.push({ path: `${path}[${JSON.stringify(key).slice(0, 12)}]`, leaf: key, value: { ...base, [key]: entry } });
        }
      }
    }
    if (types?.includes('array') && isObject(branch.items)) {
      const base = Array.isArray(known) && known.length > 0 ? known : validInstanceOf({ ...branch, type: 'array' });
      if (!Array.isArray(base)) continue;
      for (const inner of extremeCasesAt(branch.items, name, `${path}[0]`, base[0], depth)) cases.push({ ...inner, value: [inner.value, ...base.slice(1)] });
    }
  }
  return cases;
}

/**
 * Extreme values for one top-level property, each alone in an otherwise valid value: the
 * leaf extremes of the property itself, then, for every nested path down to MAX_NESTING
 * keys (declared properties, and keys of Record-like maps, both in the entry the valid
 * value has and in a second entry beside it), the valid value with that one leaf
 * replaced. `known` is the property's value in the operation's valid body, used as the
 * valid value where it has one (it holds ids of the world that no schema can invent).
 */
export function extremeCasesFor(schema: Schema, name: string, known?: unknown): ExtremeCase[] {
  const seen = new Set<string>();
  return extremeCasesAt(schema, name, name, known, 0).filter((extreme) => {
    const key = `${extreme.path} ${JSON.stringify(extreme.value)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** FNV-1a: a stable number for a string, so samples are the same on every run. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * At most `limit` of `cases`, the same ones on every run, in their order: every path keeps
 * one value before any keeps a second, and so on; which of its values a path keeps first
 * depends on the path, so a cut drops different kinds of value on different paths.
 */
export function sampleCases<T extends { path: string }>(cases: T[], limit: number): T[] {
  if (cases.length <= limit) return cases;
  const byPath = new Map<string, number[]>();
  cases.forEach((extreme, index) => byPath.set(extreme.path, [...(byPath.get(extreme.path) ?? []), index]));
  const queues = [...byPath.entries()].map(([path, indexes]) => {
    const start = stableHash(path) % indexes.length;
    return [...indexes.slice(start), ...indexes.slice(0, start)];
  });
  const chosen = new Set<number>();
  for (let round = 0; chosen.size < limit; round++) {
    for (const queue of queues) if (round < queue.length && chosen.size < limit) chosen.add(queue[round]);
  }
  return cases.filter((_, index) => chosen.has(index));
}

/** For each query parameter, values that are wrong or extreme for any schema it may have. */
export function queryVariants(parameters: { in: string; name: string }[]): string[] {
  const values = ['garbage!!', '%00', 'x'.repeat(3000), '-1', '99999999999999999999'];
  return parameters
    .filter((parameter) => parameter.in === 'query')
    .flatMap(({ name }) => {
      const key = encodeURIComponent(name);
      return [...values.map((value) => `${key}=${value}`), `${key}=a&${key}=b`];
    });
}

export interface SweepRequest {
  path: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  /** which credentials to send; the world's own by default */
  credentials?: 'own' | 'none' | 'bad';
}

/** The headers that authenticate `request`: the surface's own scheme, an API key where only that is taken, or a carrier signature. */
function credentialHeaders(app: TestApp, world: World, operation: Operation, request: SweepRequest): Record<string, string> {
  const kind = request.credentials ?? 'own';
  if (kind === 'none') return {};
  if (operation.twilioSigned) {
    const params = isObject(request.body) ? (request.body as Record<string, string>) : {};
    const authToken = kind === 'own' ? app.ctx.config.twilio?.authToken ?? '' : 'not-the-auth-token';
    return { 'x-twilio-signature': twilioSignature(authToken, app.url + request.path, Object.entries(params)) };
  }
  if (operation.apiKeyOnly) return { authorization: `Bearer ${kind === 'own' ? world.apiKey : world.account.token}` };
  return kind === 'own' ? operation.surface.credentials(world) : operation.surface.badCredentials(world);
}

export function send(app: TestApp, world: World, operation: Operation, request: SweepRequest): Promise<Response> {
  const headers = credentialHeaders(app, world, operation, request);
  if (request.raw !== undefined) headers['content-type'] = request.contentType ?? 'application/json';
  return app.request(operation.method, request.path, { body: request.body, raw: request.raw, headers });
}

/**
 * Fails unless the response is a client error (one of `statuses` when given; with
 * `allowSuccess` a success passes too) in the surface's envelope.
 */
export function assertHandled(operation: Operation, response: Response, what: string, options: { allowSuccess?: boolean; statuses?: number[] } = {}): void {
  const context = `${operation.label} ${what}: ${response.status} ${response.text.slice(0, 300)}`;
  assert.ok(response.status < 500, context);
  if (options.allowSuccess && response.status < 300) return;
  assert.ok(response.status >= 400, `expected a 4xx: ${context}`);
  if (options.statuses) assert.ok(options.statuses.includes(response.status), `expected ${options.statuses.join(' or ')}: ${context}`);
  const problem = operation.surface.envelopeProblem(response.body);
  assert.equal(problem, undefined, `${problem}: ${context}`);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The answer with the given ids (whole words only, so integer ids stay exact) replaced, so answers for two ids compare. */
export function normalized(response: Response, ids: (string | number)[]): { status: number; body: string } {
  let text = response.text;
  for (const id of ids) text = text.replace(new RegExp(`\\b${escapeRegExp(String(id))}\\b`, 'g'), '<id>');
  return { status: response.status, body: text };
}

/** Every resource of the world as the native API reads it, for before/after comparisons. */
export async function snapshot(app: TestApp, world: World): Promise<Record<string, unknown>> {
  const read = async (path: string) => {
    const res = await app.request('GET', path, { token: world.account.token });
    return { status: res.status, body: res.body };
  };
  return {
    prompt: await read(`/api/prompts/${world.promptId}`),
    pipeline: await read(`/api/pipelines/${world.pipelineId}`),
    configuration: await read(`/api/lead-management/${world.configurationId}`),
    agent: await read(`/api/agents/${world.agentId}`),
    campaign: await read(`/api/campaigns/${world.campaignId}`),
    lead: await read(`/api/leads/${world.leadId}`),
    activities: await read(`/api/leads/${world.leadId}/activities`),
    messages: await read(`/api/leads/${world.leadId}/messages`),
    strategy: await read(`/api/strategies/${world.strategyId}`),
    approvals: await read('/api/approvals?status=pending'),
    application: await read(`/api/applications/${world.applicationId}`),
  };
}

let fingerprintStatement: string | undefined;

/**
 * A digest of every row of every tenant table (those with an organization_id), per table,
 * in one statement: a refused request must leave all of them exactly as they were.
 */
export async function databaseFingerprint(app: TestApp): Promise<Record<string, string>> {
  if (!fingerprintStatement) {
    const tables = await app.db.query<{ table_name: string }>(
      `SELECT DISTINCT c.table_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
        WHERE c.column_name = 'organization_id' AND c.table_schema = current_schema() ORDER BY c.table_name`,
    );
    fingerprintStatement = tables
      .map(({ table_name: name }) => `SELECT '${name}' AS name, md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) AS digest FROM "${name}" r`)
      .join(' UNION ALL ');
  }
  const rows = await app.db.query<{ name: string; digest: string }>(fingerprintStatement);
  return Object.fromEntries(rows.map((row) => [row.name, row.digest]));
}

/** Sends a request and, when it is refused, checks that no tenant row changed. */
export async function sendAndCheckNoWrite(app: TestApp, world: World, operation: Operation, request: SweepRequest): Promise<Response> {
  const before = await databaseFingerprint(app);
  const response = await send(app, world, operation, request);
  if (response.status >= 400) {
    const after = await databaseFingerprint(app);
    const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
    assert.deepEqual(changed, [], `${operation.label} ${request.path.slice(0, 80)} answered ${response.status} ${response.text.slice(0, 200)} but wrote to ${changed.join(', ')}`);
  }
  return response;
}

/** Hex ids of the world, which must never appear in another organization's answers. */
export function hexIdsOf(world: World): string[] {
  return [world.promptId, world.pipelineId, world.configurationId, world.agentId, world.campaignId, world.leadId, world.strategyId, world.approvalId, world.applicationId];
}

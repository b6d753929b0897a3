import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { after, describe, test } from 'node:test';
import { startFakeOpenAI } from './support/fake-openai.ts';
import { startApp } from './support/harness.ts';
import {
  assertHandled,
  buildWorld,
  extremeCasesFor,
  jsonOf,
  OVERFLOWING_NUMBER,
  idOf,
  malformedIdsFor,
  normalized,
  objectSchemaOf,
  operationsOf,
  ownPath,
  queryVariants,
  send,
  sampleCases,
  sendAndCheckNoWrite,
  unknownIdFor,
  validBody,
  validInstanceOf,
  wrongTypedBody,
  type Operation,
} from './support/sweep.ts';

// Every operation in /openapi.json, on every surface, fed bad input: malformed JSON, wrong
// types, unknown fields, an oversize body, bad and foreign path ids, no credentials. Each
// must answer a 4xx in its surface's envelope, never a 5xx. Cases are generated from the
// document, so a new route is swept as soon as it is registered.

const BODY_LIMIT = 16 * 1024;
// Twilio is configured (never called) so its callbacks can be signed and reach their
// handlers; the AI vendor is a local fake so AI routes run to the end.
const twilio = { accountSid: 'ACsweep', authToken: 'sweep-auth-token', from: '+14155550000', baseUrl: 'http://127.0.0.1:9' };
const ai = await startFakeOpenAI();
const app = await startApp({ bodyLimitBytes: BODY_LIMIT, twilio, openai: { baseUrl: ai.baseUrl, apiKey: 'sweep-key', model: 'fake-model', timeoutMs: 2000 } });
after(async () => {
  await app.close();
  await ai.close();
});
const world = await buildWorld(app, 'Acme');
// its integer ids must be numbers the sweep never makes Acme issue
const other = await buildWorld(app, 'Other', { numberedAfter: 1_000_000 });
const spec = (await app.request('GET', '/openapi.json')).body;
const operations = operationsOf(spec);

/**
 * Request bodies documented to take fields beyond their schema: the lead-management
 * configuration and intake webhook (seeds 000/001: additionalProperties: true), Twilio's
 * form posts (any parameter), and Autocalls' creates (Laravel ignores unknown input; seed
 * 003 refuses unknown keys only on the lead PUT, which checks them by hand).
 */
const OPEN_BODIES = new Set([
  'POST /api/lead-management',
  'PUT /api/lead-management/{id}',
  'POST /api/webhook/outreach',
  'POST /api/webhook/twilio/status',
  'POST /api/webhook/twilio/sms',
  'POST /autocalls/api/user/lead',
  'POST /autocalls/api/user/campaign',
]);
const CHECKED_BY_HAND = new Set(['PUT /autocalls/api/user/leads/{id}']);
/** Bodies the contract makes optional: an empty one is no body, and succeeds (test/optional-bodies.test.ts). */
const OPTIONAL_BODIES = new Set(['PUT /api/lead-management/{id}', 'PUT /autocalls/api/user/leads/{id}', 'POST /api/approvals/{id}/approve']);
/** Routes that take no credential at all. */
const PUBLIC = new Set(['POST /api/auth/register', 'POST /api/auth/login']);
/** Signed carrier callbacks refuse a missing or wrong signature with 403. */
const refusalOf = (operation: Operation) => (operation.twilioSigned ? 403 : operation.surface.refusal);

/** A value as JSON, cut to `max` characters around the middle so neither end is lost. */
function summary(value: unknown, max = 80): string {
  // by code point, so a cut never splits a surrogate pair
  const text = [...(JSON.stringify(value) ?? String(value))];
  return text.length <= max ? text.join('') : `${text.slice(0, max / 2).join('')}…(${text.length} chars)…${text.slice(-max / 2).join('')}`;
}

/** Extreme cases sent per operation at most (a deterministic sample beyond), to bound the sweep's run time. */
const EXTREME_CASES_PER_OPERATION = 120;

/**
 * The extreme cases of an operation's body: for each top-level property, its extreme
 * values and its valid value (from validBody, else built from the schema) with one nested
 * leaf made extreme.
 */
function extremeCasesOf(operation: Operation): { name: string; path: string; leaf: unknown; value: unknown }[] {
  const known = (validBody(world, operation) ?? {}) as Record<string, unknown>;
  const properties = Object.entries<Record<string, any>>(objectSchemaOf(operation.bodySchema!).properties ?? {});
  const cases = properties.flatMap(([name, property]) => extremeCasesFor(property, name, known[name]).map((extreme) => ({ name, ...extreme })));
  return sampleCases(cases, EXTREME_CASES_PER_OPERATION);
}

const takesBody = (operation: Operation) => ['POST', 'PUT', 'PATCH'].includes(operation.method);

test('the sweep reaches every surface', () => {
  const surfaces = new Set(operations.map((operation) => operation.surface.name));
  assert.deepEqual([...surfaces].sort(), ['apten', 'autocalls', 'convocore', 'native']);
  assert.ok(operations.length >= 60, `only ${operations.length} operations`);
});

test('every JSON request body refuses unknown fields unless documented open', () => {
  const open = operations
    .filter((operation) => operation.bodySchema && operation.bodySchema.additionalProperties !== false && operation.bodySchema.anyOf === undefined)
    .map((operation) => operation.label)
    .filter((label) => !OPEN_BODIES.has(label) && !CHECKED_BY_HAND.has(label));
  assert.deepEqual(open, []);
});

test('the extreme-value sweep can build a valid instance of every documented request body', () => {
  // the document's own schemas, checked as the app checks bodies; a body that cannot be built is named here rather than skipped silently
  const ajv = new Ajv({ allErrors: true, strict: false });
  (addFormats as unknown as (ajv: Ajv) => void)(ajv);
  const problems = operations
    .filter((operation) => operation.bodySchema)
    .flatMap((operation) => {
      const instance = validInstanceOf(operation.bodySchema);
      if (instance === undefined) return [`${operation.label}: none built`];
      return ajv.validate(operation.bodySchema!, instance) ? [] : [`${operation.label}: ${JSON.stringify(instance)} ${ajv.errorsText()}`];
    });
  assert.deepEqual(problems, []);
});

const VALIDATION = [400, 422]; // Autocalls answers field errors as Laravel's 422

for (const operation of operations) {
  describe(operation.label, () => {
    const path = ownPath(world, operation);
    const sendRaw = (raw: string, contentType?: string) => sendAndCheckNoWrite(app, world, operation, { path, raw, contentType });
    // routes without a JSON body schema may refuse the content type first
    const jsonStatus = (status: number) => (operation.bodySchema ? [status] : undefined);

    if (takesBody(operation)) {
      test('malformed JSON', async () => {
        assertHandled(operation, await sendRaw('{"broken": '), 'malformed JSON', { statuses: jsonStatus(400) });
      });

      // a route that takes no body reads an empty one as none (test/optional-bodies.test.ts)
      if (operation.bodySchema) {
        test('an empty JSON body', async () => {
          const response = await sendRaw('');
          if (OPTIONAL_BODIES.has(operation.label)) assert.equal(response.status, 200, `${operation.label}: ${response.text.slice(0, 300)}`);
          else assertHandled(operation, response, 'empty JSON body', { statuses: [400] });
        });
      }

      test('a prototype-poisoning body', async () => {
        assertHandled(operation, await sendRaw('{"__proto__": {"isAdmin": true}}'), '__proto__ body', { statuses: jsonStatus(400) });
      });

      test('oversize body', async () => {
        const response = await sendRaw(JSON.stringify({ padding: 'x'.repeat(BODY_LIMIT + 1024) }));
        assertHandled(operation, response, 'oversize body', { statuses: jsonStatus(413) });
      });
    }

    if (operation.bodySchema) {
      test('a content type other than JSON', async () => {
        assertHandled(operation, await sendRaw('name=x', 'application/xml'), 'XML content type', { statuses: [415] });
      });

      test('a body that is not an object', async () => {
        assertHandled(operation, await sendAndCheckNoWrite(app, world, operation, { path, body: [1, 2] }), 'array body', { statuses: VALIDATION });
      });

      const wrong = wrongTypedBody(operation.bodySchema);
      if (wrong) {
        test('every property of the wrong type', async () => {
          assertHandled(operation, await sendAndCheckNoWrite(app, world, operation, { path, body: wrong }), `body ${JSON.stringify(wrong)}`, { statuses: VALIDATION });
        });
      }

      test('an unknown field', async () => {
        const body = { ...(validBody(world, operation) as object), unknownFieldForSweep: 'x' };
        const response = await sendAndCheckNoWrite(app, world, operation, { path, body });
        const open = OPEN_BODIES.has(operation.label);
        assertHandled(operation, response, 'unknown field', { allowSuccess: open, statuses: open ? undefined : VALIDATION });
      });
    }

    if (operation.bodySchema) {
      test('extreme values of the right type, one leaf at a time inside a valid body', async () => {
        const cases = extremeCasesOf(operation);
        const failures: string[] = [];
        for (const { name, path: leafPath, leaf, value } of cases) {
          // the rest of the body stays the operation's valid body, so only the extreme value can be refused
          const body = { ...(validBody(world, operation) as object), [name]: value };
          const what = `${leafPath} = ${summary(leaf)} in ${name}: ${summary(value, 300)}`;
          try {
            const response = await sendAndCheckNoWrite(app, world, operation, { path, raw: jsonOf(body), contentType: 'application/json' });
            // JSON has no Infinity: a number that overflows to it is refused, not stored
            const overflow = leaf === OVERFLOWING_NUMBER;
            assertHandled(operation, response, what, { allowSuccess: !overflow, statuses: overflow ? VALIDATION : undefined });
          } catch (error) {
            // the write check names the path only: say which value it was
            const message = (error as Error).message.split('\n')[0];
            failures.push(message.includes(what) ? message : `${what}: ${message}`);
          }
        }
        // every case runs, so one run names every failing leaf of the operation
        if (failures.length > 0) assert.fail(`${failures.length} of ${cases.length} extreme values failed:\n${failures.join('\n')}`);
      });
    }

    const queryParameters = spec.paths[operation.path][operation.method.toLowerCase()].parameters ?? [];
    const queries = queryVariants(queryParameters);
    if (queries.length > 0) {
      test('wrong and extreme query values', async () => {
        for (const query of queries) {
          const response = await sendAndCheckNoWrite(app, world, operation, { path: `${path}?${query}`, body: validBody(world, operation) });
          assertHandled(operation, response, `?${query.slice(0, 60)}`, { allowSuccess: true });
        }
      });
    }

    for (const param of operation.pathParams) {
      test(`{${param}}: malformed, unknown and another organization's id`, async () => {
        const body = validBody(world, operation);
        for (const { id, statuses } of malformedIdsFor(operation, param)) {
          const malformed = await sendAndCheckNoWrite(app, world, operation, { path: ownPath(world, operation, { [param]: id }), body });
          assertHandled(operation, malformed, `malformed id ${id.slice(0, 20)}`, { statuses });
        }
        const unknownId = unknownIdFor(operation, param);
        const unknown = await sendAndCheckNoWrite(app, world, operation, { path: ownPath(world, operation, { [param]: unknownId }), body });
        assertHandled(operation, unknown, 'unknown id', { statuses: [404] });
        const foreignId = idOf(other, operation, param);
        const foreign = await sendAndCheckNoWrite(app, world, operation, { path: ownPath(world, operation, { [param]: foreignId }), body });
        assert.deepEqual(normalized(foreign, [foreignId]), normalized(unknown, [unknownId]), "another organization's id answers like an unknown one");
      });
    }

    const needsCredentials = !PUBLIC.has(operation.label);
    for (const credentials of ['none', 'bad'] as const) {
      test(`${credentials === 'none' ? 'no' : 'a refused'} credential`, async () => {
        const response = await sendAndCheckNoWrite(app, world, operation, { path, body: validBody(world, operation), credentials });
        assertHandled(operation, response, `${credentials} credentials`, { statuses: needsCredentials ? [refusalOf(operation)] : undefined });
      });
    }
  });
}

describe('methods and routes that do not exist', () => {
  const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  test('a method a documented path does not take answers 404 in its surface\'s envelope', async () => {
    for (const [path, methods] of Object.entries<Record<string, unknown>>(spec.paths)) {
      const operation = operations.find((op) => op.path === path);
      if (!operation) continue;
      const missing = METHODS.find((method) => !(method.toLowerCase() in methods));
      if (!missing) continue;
      // the surface's own credentials: a path's special scheme (a carrier signature) belongs to its documented method
      const plain = { ...operation, method: missing, twilioSigned: false, apiKeyOnly: false };
      const response = await send(app, world, plain, { path: ownPath(world, operation) });
      assertHandled(operation, response, `${missing} ${path}`, { statuses: [404] });
    }
  });

  test('an unknown path under each surface answers 404 in that surface\'s envelope', async () => {
    for (const surface of new Set(operations.map((op) => op.surface))) {
      const operation = operations.find((op) => op.surface === surface)!;
      const response = await send(app, world, operation, { path: `${surface.prefix}no/such/route` });
      assertHandled(operation, response, 'unknown route', { statuses: [404] });
    }
  });
});

describe('concurrent identical writes', () => {
  // Unique rules that can race are database constraints: the losers must get a 4xx, not a
  // constraint violation surfacing as a 500. On PGlite the requests queue on one
  // connection; on PostgreSQL they really race.
  const writes = operations.filter((op) => op.bodySchema && op.method !== 'DELETE' && !op.twilioSigned);
  for (const operation of writes) {
    test(operation.label, async () => {
      const body = validBody(world, operation);
      const path = ownPath(world, operation);
      const responses = await Promise.all(Array.from({ length: 6 }, () => send(app, world, operation, { path, body })));
      for (const response of responses) assertHandled(operation, response, `concurrent ${JSON.stringify(body)}`, { allowSuccess: true });
    });
  }
});

test('every surface writing one lead at once: no deadlock or race surfaces as a 5xx', async () => {
  const key = { authorization: `Bearer ${world.apiKey}` };
  const writes = () => [
    app.request('PATCH', `/api/leads/${world.leadId}`, { token: world.account.token, body: { lastName: 'Byron', additionalInfo: { round: 1 } } }),
    app.request('POST', `/api/leads/${world.leadId}/activities`, { token: world.account.token, body: { type: 'Call', responded: true } }),
    app.request('PATCH', `/api/leads/${world.leadId}/activities/${world.activityId}`, { token: world.account.token, body: { completed: true } }),
    app.request('POST', `/api/leads/${world.leadId}/messages`, { token: world.account.token, body: { content: 'Hi' } }),
    app.request('PATCH', `/convocore/v3/leads/${world.leadId}`, {
      headers: key,
      body: { agentId: world.agentId, lead: { metaData: { stage: 'demo_req' }, crmActivities: [{ type: 'Meeting', completed: true }] } },
    }),
    app.request('PATCH', `/apten/v1/leads/${world.leadId}`, { headers: { 'x-api-key': world.apiKey }, body: { additionalInfo: { apten: true } } }),
    app.request('PUT', `/autocalls/api/user/leads/${world.leadSeq}`, { headers: key, body: { variables: { autocalls: true } } }),
    app.request('POST', `/apten/v1/leads/${world.leadId}/turnOn`, { headers: { 'x-api-key': world.apiKey } }),
  ];
  for (let round = 0; round < 3; round++) {
    for (const response of await Promise.all(writes())) assert.ok(response.status < 500, `${response.status} ${response.text}`);
  }
});

test('odd Authorization and If-Match headers are refused in the envelope', async () => {
  const lead = `/api/leads/${world.leadId}`;
  for (const authorization of ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${'x'.repeat(8000)}`, 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
    const response = await app.request('GET', lead, { headers: { authorization } });
    assert.equal(response.status, 401, `${authorization.slice(0, 30)}: ${response.status} ${response.text}`);
    assert.equal(response.body.success, false);
  }
  for (const ifMatch of ['garbage', '"abc"', 'W/"1"', '"99999999999999999999"', '"-1"', '*', '"1", "2"']) {
    const response = await app.request('PATCH', lead, { token: world.account.token, body: { firstName: 'Ada' }, headers: { 'if-match': ifMatch } });
    assert.ok(response.status < 500, `If-Match ${ifMatch}: ${response.status} ${response.text}`);
    if (response.status >= 400) assert.equal(response.body.success, false, response.text);
  }
});

test('a body nested thousands of levels deep is refused and leaves the database serving everyone', async () => {
  let deep: unknown = 'bottom';
  for (let level = 0; level < 3000; level++) deep = [deep];
  const response = await app.request('PATCH', `/api/leads/${world.leadId}`, { token: world.account.token, body: { additionalInfo: { deep } } });
  assert.equal(response.status, 400, response.text);
  assert.match(response.body.error, /nested deeper than/);
  assert.equal((await app.request('GET', `/api/leads/${other.leadId}`, { token: other.account.token })).status, 200);
});

describe('bodies that are not JSON', () => {
  const operation = (label: string) => {
    const found = operations.find((op) => op.label === label);
    assert.ok(found, `${label} is not in /openapi.json`);
    return found;
  };

  /** A form cut off before its closing boundary, and one whose content type names no boundary. */
  async function assertBrokenMultipartRefused(target: Operation, path: string, field: string) {
    const truncated = `--x\r\nContent-Disposition: form-data; name="${field}"\r\n\r\nno end`;
    for (const contentType of ['multipart/form-data; boundary=x', 'multipart/form-data']) {
      const response = await sendAndCheckNoWrite(app, world, target, { path, raw: truncated, contentType });
      assertHandled(target, response, `broken multipart (${contentType})`, { statuses: [400, 406, 415] });
    }
  }

  test('CSV import: empty, ragged, unterminated, NUL-laden and binary files never fail the server', async () => {
    const csvImport = operation('POST /api/leads/import');
    const path = `/api/leads/import?configurationId=${world.configurationId}`;
    const files = ['', '\n\n', 'firstName,phone\n"unterminated,+14155550101\n', 'firstName,phone\nNul\u0000Name,+14155550102\n', 'a,b,c\n1\n1,2,3,4,5\n', '\u00ff\u00fe\u0000\u0001binary'];
    for (const raw of files) {
      const response = await send(app, world, csvImport, { path, raw, contentType: 'text/csv' });
      assertHandled(csvImport, response, `CSV ${JSON.stringify(raw).slice(0, 40)}`, { allowSuccess: true });
    }
    await assertBrokenMultipartRefused(csvImport, path, 'file');
    const good = await send(app, world, csvImport, { path, raw: 'firstName,phone\nCarla,+14155550103\n', contentType: 'text/csv' });
    assert.equal(good.status, 200, `a well-formed file still imports: ${good.text}`);
  });

  test('inbound email: empty, garbage, NUL-laden and truncated messages never fail the server', async () => {
    const inbound = operation('POST /api/inbound/email');
    const path = `/api/inbound/email?configurationId=${world.configurationId}`;
    const messages = ['', 'garbage', 'From: \u0000\r\n\r\n\u0000', 'From: a@example.com\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nno end', 'Subject: =?utf-8?B?####?=\r\n\r\nhi'];
    for (const raw of messages) {
      const response = await send(app, world, inbound, { path, raw, contentType: 'message/rfc822' });
      assertHandled(inbound, response, `email ${JSON.stringify(raw).slice(0, 40)}`, { allowSuccess: true });
    }
    await assertBrokenMultipartRefused(inbound, path, 'email');
    const good = await send(app, world, inbound, { path, raw: 'From: Dora <dora@example.com>\r\nSubject: Hi\r\n\r\nCall me at +14155550104\r\n', contentType: 'message/rfc822' });
    assert.equal(good.status, 200, `a well-formed message is still received: ${good.text}`);
  });
});

describe('never a partial write', () => {
  const nativeLead = async () => (await app.request('GET', `/api/leads/${world.leadId}`, { token: world.account.token })).body;

  /** Sends a request that must be refused, then checks the lead reads exactly as before. */
  async function refusedWithoutEffect(method: string, path: string, body: unknown, headers: Record<string, string>, read: () => Promise<unknown>) {
    const before = await read();
    const response = await app.request(method, path, { body, headers });
    assert.ok(response.status >= 400 && response.status < 500, `${method} ${path} ${JSON.stringify(body)}: ${response.status} ${response.text}`);
    assert.deepEqual(await read(), before, `${method} ${path} ${JSON.stringify(body)} changed the resource`);
  }

  const nativeHeaders = { authorization: `Bearer ${world.account.token}` };
  const keyHeaders = { authorization: `Bearer ${world.apiKey}` };

  test('lead PATCH: a valid field beside an invalid one changes nothing', async () => {
    const path = `/api/leads/${world.leadId}`;
    const invalidPartners: Record<string, unknown>[] = [
      { hotScore: 'hot' },
      { timezone: 'Mars/Olympus_Mons' },
      { stageId: '0123456789abcdef01234567' },
      { agentId: other.agentId },
      { followUpConfig: { '1': { hours: 3, channel: 'call' } } },
      { version: 999 },
    ];
    for (const invalid of invalidPartners) {
      await refusedWithoutEffect('PATCH', path, { firstName: 'Changed', additionalInfo: { plan: 'enterprise' }, ...invalid }, nativeHeaders, nativeLead);
    }
  });

  test('lead-management PUT: a valid field beside an invalid one changes nothing', async () => {
    const path = `/api/lead-management/${world.configurationId}`;
    const read = async () => (await app.request('GET', path, { token: world.account.token })).body;
    for (const invalid of [{ costPerLead: 'cheap' }, { defaultProcess: other.promptId }, { pipelineId: other.pipelineId }, { status: 'sideways' }]) {
      await refusedWithoutEffect('PUT', path, { description: 'Changed', isAutopilot: true, ...invalid }, nativeHeaders, read);
    }
  });

  test('Autocalls PUT: valid variables beside an invalid status change nothing', async () => {
    const path = `/autocalls/api/user/leads/${world.leadSeq}`;
    await refusedWithoutEffect('PUT', path, { variables: { plan: 'enterprise' }, status: 'bogus' }, keyHeaders, nativeLead);
    await refusedWithoutEffect('PUT', path, { variables: { plan: 'enterprise' }, phone_number: 'not a phone' }, keyHeaders, nativeLead);
    await refusedWithoutEffect('PUT', path, { variables: { plan: 'enterprise' }, campaign_id: 987654321 }, keyHeaders, nativeLead);
  });

  test('Convocore PATCH: a valid name beside an unknown nested key changes nothing', async () => {
    const path = `/convocore/v3/leads/${world.leadId}`;
    const activities = async () => ({
      lead: await nativeLead(),
      activities: (await app.request('GET', `/api/leads/${world.leadId}/activities`, { token: world.account.token })).body,
    });
    await refusedWithoutEffect('PATCH', path, { agentId: world.agentId, lead: { name: 'Changed Name', metaData: { company: 'X', shoeSize: 42 } } }, keyHeaders, activities);
    await refusedWithoutEffect('PATCH', path, { agentId: world.agentId, lead: { name: 'Changed Name', favouriteColour: 'blue' } }, keyHeaders, activities);
    await refusedWithoutEffect(
      'PATCH',
      path,
      { agentId: world.agentId, lead: { name: 'Changed Name', crmActivities: [{ type: 'Note', note: 'new' }, { type: 'Dance' }] } },
      keyHeaders,
      activities,
    );
  });
});

describe('a value failing a union is named once, by what it could have been', () => {
  const noUnionNoise = (text: string) => assert.doesNotMatch(text, /anyOf|must match a schema|equal to constant/, text);

  test('a wrong channel lists the channels', async () => {
    const res = await app.request('PATCH', `/apten/v1/leads/${world.leadId}`, {
      headers: { 'x-api-key': world.apiKey },
      body: { followUpConfig: { '1': { hours: 2, channel: 'sms' } } },
    });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.body, { message: 'followUpConfig.1.channel must be one of: text, call, email' });
  });

  test('a nullable field of the wrong type says which types it takes', async () => {
    const res = await app.request('PATCH', `/convocore/v3/leads/${world.leadId}`, {
      headers: { authorization: `Bearer ${world.apiKey}` },
      body: { agentId: world.agentId, lead: { name: 5 } },
    });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /lead\.name must be string or null/);
    noUnionNoise(res.text);
  });

  test('a value of the right kind that fails inside a union gets that branch’s own issue', async () => {
    const res = await app.request('PATCH', `/api/leads/${world.leadId}`, {
      token: world.account.token,
      body: { followUpConfig: { '1': { hours: 2, channel: 'text', colour: 'red' } } },
    });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.body.details, [{ field: 'followUpConfig.1.colour', message: 'followUpConfig.1.colour is not an allowed field' }]);
    noUnionNoise(res.text);
  });
});

test('a small body that fails a thousand times is answered with the first issues and a count of the rest', async () => {
  const res = await app.request('POST', '/autocalls/api/user/campaign', {
    headers: { authorization: `Bearer ${world.apiKey}` },
    body: { name: 'Every day', allowed_days: Array.from({ length: 1000 }, (_, i) => `day-${i}`) },
  });
  assert.equal(res.status, 422, res.text);
  const fields = Object.keys(res.body.errors);
  assert.equal(fields.length, 50);
  // each item's union folded on its own, naming that item
  assert.deepEqual(res.body.errors['allowed_days.0'], ['allowed_days.0 must be one of: monday, tuesday, wednesday, thursday, friday, saturday, sunday']);
  assert.ok(fields.every((field, i) => field === `allowed_days.${i}`), fields.join());
  assert.ok(res.text.length < 20_000, `${res.text.length} characters`);
});

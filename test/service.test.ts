import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerOrganization, startApp, type TestApp } from './support/harness.ts';

let app: TestApp;
before(async () => {
  app = await startApp({ bodyLimitBytes: 4096 });
});
after(() => app.close());

describe('service surface', () => {
  test('healthz and readyz', async () => {
    assert.deepEqual((await app.request('GET', '/healthz')).body, { status: 'ok' });
    const ready = await app.request('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  test('once shutdown begins, /readyz answers 503 (the database still answers) while /healthz stays ok', async () => {
    const stopping = await startApp();
    try {
      assert.equal((await stopping.request('GET', '/readyz')).status, 200);
      stopping.markShuttingDown();
      const ready = await stopping.request('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, { status: 'shutting down', database: stopping.db.kind });
      assert.equal((await stopping.request('GET', '/healthz')).status, 200);
    } finally {
      await stopping.close();
    }
  });

  test('openapi.json documents the routes and /docs serves a page', async () => {
    const spec = await app.request('GET', '/openapi.json');
    assert.equal(spec.status, 200);
    assert.match(spec.body.openapi, /^3\./);
    assert.ok(spec.body.paths['/api/auth/login']);
    assert.ok(spec.body.paths['/api/prompts/{id}']);
    const docs = await app.request('GET', '/docs');
    assert.equal(docs.status, 200);
    assert.match(docs.text, /<html/i);
  });

  test('metrics are exposed in Prometheus format, with the duration of requests to every surface', async () => {
    const account = await registerOrganization(app);
    assert.equal((await app.request('GET', '/api/leads', { token: account.token })).status, 200);
    assert.equal((await app.request('GET', '/apten/v1/leads/lookup?phone=1')).status, 403);
    const res = await app.request('GET', '/metrics');
    assert.equal(res.status, 200);
    const counted = (method: string, route: string, status: number) =>
      new RegExp(`openlead_http_request_duration_seconds_count\\{method="${method}",route="${route}",status="${status}"\\} [1-9]`).test(res.text);
    assert.ok(counted('POST', '/api/auth/register', 201), res.text.slice(0, 2000));
    assert.ok(counted('GET', '/api/leads', 200));
    assert.ok(counted('GET', '/apten/v1/leads/lookup', 403));
  });

  test('unknown routes answer 404 in the envelope', async () => {
    const res = await app.request('GET', '/nowhere');
    assert.equal(res.status, 404);
    assert.equal(res.body.success, false);
    assert.match(res.body.error, /not found/);
  });

  test('malformed JSON answers 400 in the envelope, without a stack trace', async () => {
    const account = await registerOrganization(app);
    const res = await app.request('POST', '/api/prompts', {
      token: account.token,
      raw: '{"name": "x",',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.success, false);
    assert.equal(res.body.error, 'Request body is not valid JSON');
    assert.doesNotMatch(res.text, /at .*\.ts/);
  });

  test('an oversize body answers 413 in the envelope', async () => {
    const account = await registerOrganization(app);
    const res = await app.request('POST', '/api/prompts', { token: account.token, body: { name: 'x', content: 'y'.repeat(10_000) } });
    assert.equal(res.status, 413);
    assert.deepEqual(res.body, { success: false, error: 'Request body is too large' });
  });

  test('a non-JSON content type answers 415 in the envelope', async () => {
    const account = await registerOrganization(app);
    const res = await app.request('POST', '/api/prompts', { token: account.token, raw: 'name=x', headers: { 'content-type': 'text/csv' } });
    assert.equal(res.status, 415);
    assert.equal(res.body.success, false);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createConfiguration } from './support/configurations.ts';
import { addUser, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

const NOT_FOUND = { success: false, error: 'Prompt not found' };

function create(account: Account, body: unknown) {
  return app.request('POST', '/api/prompts', { token: account.token, body });
}

describe('prompts (AI processes)', () => {
  test('create answers 201 with the prompt; description defaults to null and content to empty', async () => {
    const admin = await registerOrganization(app);
    const res = await create(admin, { name: 'Warm-up', content: 'Be warm.', description: 'First touch' });
    assert.equal(res.status, 201);
    assert.equal(res.body.message, 'Prompt created');
    const data = res.body.data;
    assert.deepEqual(Object.keys(data).sort(), ['_id', 'content', 'createdAt', 'description', 'name', 'organizationId', 'updatedAt', 'userId']);
    assert.match(data._id, /^[0-9a-f]{24}$/);
    assert.equal(data.organizationId, admin.organizationId);
    assert.equal(data.userId, admin.userId);
    assert.equal(data.content, 'Be warm.');
    assert.equal(data.createdAt, app.clock.now().toISOString());
    const bare = await create(admin, { name: 'Bare' });
    assert.equal(bare.body.data.content, '');
    assert.equal(bare.body.data.description, null);
  });

  test('bad bodies answer 400 naming the field', async () => {
    const admin = await registerOrganization(app);
    const cases: [RegExp, unknown][] = [
      [/^name /, {}],
      [/^name /, { name: '' }],
      [/^content /, { name: 'X', content: 5 }],
      [/^description /, { name: 'X', description: false }],
      [/^temperature /, { name: 'X', temperature: 1 }],
    ];
    for (const [error, body] of cases) {
      const res = await create(admin, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.success, false);
      assert.match(res.body.error, error);
    }
    assert.deepEqual((await app.request('GET', '/api/prompts', { token: admin.token })).body.data, []);
  });

  test('list and get show the organization\'s prompts to all its users, and no one else\'s', async () => {
    const admin = await registerOrganization(app);
    const rep = await addUser(app, admin);
    const other = await registerOrganization(app, 'Other');
    const first = (await create(admin, { name: 'One' })).body.data;
    app.clock.advance(1_000);
    const second = (await create(rep, { name: 'Two' })).body.data;
    const list = await app.request('GET', '/api/prompts', { token: rep.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data, [first, second]);
    assert.deepEqual((await app.request('GET', `/api/prompts/${first._id}`, { token: rep.token })).body.data, first);
    assert.deepEqual((await app.request('GET', '/api/prompts', { token: other.token })).body.data, []);
  });

  test('update changes only the fields given and bumps updatedAt', async () => {
    const admin = await registerOrganization(app);
    const prompt = (await create(admin, { name: 'Old', content: 'Keep me', description: 'Desc' })).body.data;
    app.clock.advance(30_000);
    const res = await app.request('PUT', `/api/prompts/${prompt._id}`, { token: admin.token, body: { name: 'New', description: null } });
    assert.equal(res.status, 200);
    assert.equal(res.body.message, 'Prompt updated');
    assert.deepEqual(res.body.data, { ...prompt, name: 'New', description: null, updatedAt: app.clock.now().toISOString() });
    const empty = await app.request('PUT', `/api/prompts/${prompt._id}`, { token: admin.token, body: {} });
    assert.equal(empty.status, 400);
  });

  test('delete removes an unused prompt', async () => {
    const admin = await registerOrganization(app);
    const prompt = (await create(admin, { name: 'Temp' })).body.data;
    const res = await app.request('DELETE', `/api/prompts/${prompt._id}`, { token: admin.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, message: 'Prompt deleted', data: { _id: prompt._id } });
    assert.deepEqual((await app.request('GET', `/api/prompts/${prompt._id}`, { token: admin.token })).body, NOT_FOUND);
  });

  test('a prompt in use by a configuration cannot be deleted: 400 naming the configuration', async () => {
    const admin = await registerOrganization(app);
    const prompt = (await create(admin, { name: 'Busy' })).body.data;
    const config = await createConfiguration(app, admin, prompt._id, { configurationName: 'Facebook Lead Ad Funnel' });
    const res = await app.request('DELETE', `/api/prompts/${prompt._id}`, { token: admin.token });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      success: false,
      error: 'Prompt is in use by lead management configuration "Facebook Lead Ad Funnel" and cannot be deleted',
    });
    assert.equal((await app.request('GET', `/api/prompts/${prompt._id}`, { token: admin.token })).status, 200);
    // once the configuration is gone, so may the prompt be
    await app.request('DELETE', `/api/lead-management/${config._id}`, { token: admin.token });
    assert.equal((await app.request('DELETE', `/api/prompts/${prompt._id}`, { token: admin.token })).status, 200);
  });

  test('a prompt an agent uses cannot be deleted: 400, and it stays', async () => {
    const admin = await registerOrganization(app);
    const prompt = (await create(admin, { name: 'Agent brain' })).body.data;
    const agent = await app.request('POST', '/api/agents', { token: admin.token, body: { name: 'Ava', processId: prompt._id } });
    assert.equal(agent.status, 201);
    const res = await app.request('DELETE', `/api/prompts/${prompt._id}`, { token: admin.token });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { success: false, error: 'Prompt is in use by leads or agents and cannot be deleted' });
    assert.equal((await app.request('GET', `/api/prompts/${prompt._id}`, { token: admin.token })).status, 200);
  });

  test('another organization\'s prompt answers 404 like a missing or malformed id, and is left alone', async () => {
    const admin = await registerOrganization(app);
    const other = await registerOrganization(app, 'Other');
    const theirs = (await create(other, { name: 'Theirs', content: 'Secret' })).body.data;
    for (const id of [theirs._id, '0'.repeat(24), 'not-an-id']) {
      for (const res of [
        await app.request('GET', `/api/prompts/${id}`, { token: admin.token }),
        await app.request('PUT', `/api/prompts/${id}`, { token: admin.token, body: { name: 'Mine' } }),
        await app.request('DELETE', `/api/prompts/${id}`, { token: admin.token }),
      ]) {
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, NOT_FOUND);
      }
    }
    assert.deepEqual((await app.request('GET', `/api/prompts/${theirs._id}`, { token: other.token })).body.data, theirs);
  });

  test('no token answers 401', async () => {
    assert.equal((await app.request('GET', '/api/prompts')).status, 401);
    assert.equal((await app.request('POST', '/api/prompts', { body: { name: 'X' } })).status, 401);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';

// Seed 003 (Autocalls "Update Lead") walked line by line, plus the lead and campaign routes
// an Autocalls client uses around it.

let app: TestApp;
let acme: Account;
let key: string;
let colleagueKey: string;
before(async () => {
  app = await startApp();
  acme = await registerOrganization(app, 'Acme');
  key = await apiKeyFor(app, acme);
  colleagueKey = await apiKeyFor(app, await addUser(app, acme));
});
after(() => app.close());

const call = (method: string, path: string, body?: unknown, token = key) => app.request(method, `/autocalls/api${path}`, { token, body });
const newCampaign = async (token = key, body: Record<string, unknown> = {}) => (await call('POST', '/user/campaign', { name: 'Campaign', ...body }, token)).body.data;
let phoneCounter = 1000;
const nextPhone = () => `+1212555${String(phoneCounter++).padStart(4, '0')}`;
const newLead = async (campaignId: number, token = key, extra: Record<string, unknown> = {}) => {
  const res = await call('POST', '/user/lead', { phone_number: nextPhone(), campaign_id: campaignId, ...extra }, token);
  assert.equal(res.status, 201, res.text);
  return res.body.data;
};
/** Acme's lead with this integer id, as stored. */
const readLead = async (seq: number) => {
  const rows = await app.db.query<Record<string, any>>(
    'SELECT l.*, c.seq AS campaign_seq FROM leads l LEFT JOIN campaigns c ON c.id = l.campaign_id WHERE l.organization_id = $1 AND l.seq = $2',
    [acme.organizationId, seq],
  );
  return rows[0];
};

describe('Autocalls authentication', () => {
  test('Authorization: Bearer <API key>; missing or wrong → 401 {message}', async () => {
    for (const token of [undefined, 'olk_wrong']) {
      const res = await app.request('GET', '/autocalls/api/user/leads', { token });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { message: 'Unauthenticated.' });
    }
  });
});

describe('POST /user/campaign', () => {
  test('documented defaults: draft, max_retries 3, retry_interval 60', async () => {
    const res = await call('POST', '/user/campaign', { name: 'Defaults' });
    assert.equal(res.status, 201);
    assert.equal(res.body.message, 'Campaign created successfully');
    const campaign = res.body.data;
    assert.ok(Number.isInteger(campaign.id));
    assert.equal(campaign.status, 'draft');
    assert.equal(campaign.max_retries, 3);
    assert.equal(campaign.retry_interval, 60);
    assert.deepEqual(campaign.allowed_days, ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
  });

  test('ranges: max_retries 1–5, retry_interval 10–4320; violations are 422 naming the field', async () => {
    const res = await call('POST', '/user/campaign', { name: 'Ranges', max_retries: 5, retry_interval: 4320, allowed_days: ['saturday'], allowed_hours_start_time: '07:00', allowed_hours_end_time: '10:00', timezone: 'Europe/Berlin' });
    assert.equal(res.status, 201);
    assert.deepEqual([res.body.data.max_retries, res.body.data.retry_interval, res.body.data.allowed_days, res.body.data.allowed_hours_start_time], [5, 4320, ['saturday'], '07:00']);
    for (const [field, value] of [['max_retries', 0], ['max_retries', 6], ['retry_interval', 9], ['retry_interval', 4321]] as const) {
      const bad = await call('POST', '/user/campaign', { name: 'Bad', [field]: value });
      assert.equal(bad.status, 422, `${field}=${value}`);
      assert.equal(bad.body.message, 'Validation failed');
      assert.ok(bad.body.errors[field], JSON.stringify(bad.body));
    }
    const zone = await call('POST', '/user/campaign', { name: 'Bad', timezone: 'Mars/Base' });
    assert.equal(zone.status, 422);
    assert.ok(zone.body.errors.timezone);
    const assistant = await call('POST', '/user/campaign', { name: 'Bad', assistant_id: '0123456789abcdef01234567' });
    assert.equal(assistant.status, 422);
    assert.ok(assistant.body.errors.assistant_id);
    const missing = await call('POST', '/user/campaign', {});
    assert.equal(missing.status, 422);
    assert.ok(missing.body.errors.name);
  });
});

describe('POST /user/lead', () => {
  test('phone_number and campaign_id are required; the lead starts created, phone in E.164', async () => {
    const campaign = await newCampaign();
    const missing = await call('POST', '/user/lead', {});
    assert.equal(missing.status, 422);
    assert.deepEqual(Object.keys(missing.body.errors).sort(), ['campaign_id', 'phone_number']);
    const res = await call('POST', '/user/lead', { phone_number: '(212) 555-0100', campaign_id: campaign.id, variables: { name: 'Ann' } });
    assert.equal(res.status, 201);
    assert.equal(res.body.message, 'Lead created successfully');
    assert.equal(res.body.data.status, 'created');
    assert.equal(res.body.data.phone_number, '+12125550100');
    assert.equal(res.body.data.campaign_id, campaign.id);
    assert.deepEqual(res.body.data.variables, { name: 'Ann' });
    assert.ok(Number.isInteger(res.body.data.id));
  });

  test('a duplicate phone in one campaign is refused unless allow_dupplicate is true; another campaign is fine', async () => {
    const campaign = await newCampaign();
    const phone = nextPhone();
    assert.equal((await call('POST', '/user/lead', { phone_number: phone, campaign_id: campaign.id })).status, 201);
    const dup = await call('POST', '/user/lead', { phone_number: phone, campaign_id: campaign.id });
    assert.equal(dup.status, 422);
    assert.ok(dup.body.errors.phone_number);
    const allowed = await call('POST', '/user/lead', { phone_number: phone, campaign_id: campaign.id, allow_dupplicate: true });
    assert.equal(allowed.status, 201);
    const elsewhere = await call('POST', '/user/lead', { phone_number: phone, campaign_id: (await newCampaign()).id });
    assert.equal(elsewhere.status, 201);
  });

  // another organization's numbers: test/numbering.test.ts
  test('bad phone → 400 Invalid phone number; unknown campaign → 422; colleague campaign → 404', async () => {
    const campaign = await newCampaign();
    const phone = await call('POST', '/user/lead', { phone_number: 'call me', campaign_id: campaign.id });
    assert.equal(phone.status, 400);
    assert.deepEqual(phone.body, { message: 'Invalid phone number' });
    const unknown = await call('POST', '/user/lead', { phone_number: nextPhone(), campaign_id: 99999999 });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body, { message: 'Validation failed', errors: { campaign_id: ['The selected campaign does not exist'] } });
    const colleagues = await newCampaign(colleagueKey);
    const res = await call('POST', '/user/lead', { phone_number: nextPhone(), campaign_id: colleagues.id });
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { message: 'Campaign not found' });
  });
});

describe('PUT /user/leads/{id} (seed 003)', () => {
  test('the documented example: campaign_id, phone_number (E.164), variables merged → {"message": "Lead updated successfully"}', async () => {
    const first = await newCampaign();
    const second = await newCampaign();
    const lead = await newLead(first.id, key, { variables: { source: 'web', name: 'Old' } });
    const res = await call('PUT', `/user/leads/${lead.id}`, { campaign_id: second.id, phone_number: '+1 (646) 555-0199', variables: { name: 'John Doe', company: 'Acme Corp' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: 'Lead updated successfully' });
    const row = await readLead(lead.id);
    assert.equal(Number(row.campaign_seq), second.id);
    assert.equal(row.phone, '+16465550199');
    // merged, not replaced
    assert.deepEqual(row.additional_info, { source: 'web', name: 'John Doe', company: 'Acme Corp' });
  });

  test('only the fields provided are updated', async () => {
    const campaign = await newCampaign();
    const lead = await newLead(campaign.id, key, { variables: { a: 1 } });
    assert.equal((await call('PUT', `/user/leads/${lead.id}`, { status: 'completed' })).status, 200);
    const row = await readLead(lead.id);
    assert.equal(row.status, 'completed');
    assert.equal(row.phone, lead.phone_number);
    assert.equal(Number(row.campaign_seq), campaign.id);
    assert.deepEqual(row.additional_info, { a: 1 });
    for (const status of ['created', 'reached-max-retries']) {
      assert.equal((await call('PUT', `/user/leads/${lead.id}`, { status })).status, 200);
      assert.equal((await readLead(lead.id)).status, status);
    }
  });

  test('Invalid fields: every unknown key is listed, nothing is written', async () => {
    const lead = await newLead((await newCampaign()).id);
    const res = await call('PUT', `/user/leads/${lead.id}`, { invalid_field: 1, status: 'completed', another_invalid_field: 2 });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { message: 'Invalid fields: invalid_field, another_invalid_field' });
    assert.equal((await readLead(lead.id)).status, 'created');
  });

  test('Invalid fields wins: a body with unknown keys is a 400 listing them even when other fields would fail validation', async () => {
    const lead = await newLead((await newCampaign()).id, key, { variables: { a: 1 } });
    const res = await call('PUT', `/user/leads/${lead.id}`, { campaign_id: 'x', invalid_field: 1, phone_number: 42, status: 'in-progress', variables: 'x' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { message: 'Invalid fields: invalid_field' });
    const row = await readLead(lead.id);
    assert.equal(row.status, 'created');
    assert.equal(row.phone, lead.phone_number);
    assert.deepEqual(row.additional_info, { a: 1 });
  });

  test('campaign_id must be an integer, phone_number a string: 422 naming the field, nothing written', async () => {
    const campaign = await newCampaign();
    const target = await newCampaign();
    const lead = await newLead(campaign.id);
    for (const campaign_id of [String(target.id), target.id + 0.5, true, [target.id]]) {
      const res = await call('PUT', `/user/leads/${lead.id}`, { campaign_id });
      assert.equal(res.status, 422, JSON.stringify(campaign_id));
      assert.deepEqual(res.body, { message: 'Validation failed', errors: { campaign_id: ['The campaign id field must be an integer.'] } });
    }
    for (const phone_number of [16465550123, ['+16465550123'], { number: '+16465550123' }]) {
      const res = await call('PUT', `/user/leads/${lead.id}`, { phone_number });
      assert.equal(res.status, 422, JSON.stringify(phone_number));
      assert.deepEqual(res.body, { message: 'Validation failed', errors: { phone_number: ['The phone number field must be a string.'] } });
    }
    const row = await readLead(lead.id);
    assert.equal(Number(row.campaign_seq), campaign.id);
    assert.equal(row.phone, lead.phone_number);
  });

  test('Validation failed: status, variables and campaign_id collected into one 422, exact messages', async () => {
    const lead = await newLead((await newCampaign()).id);
    const res = await call('PUT', `/user/leads/${lead.id}`, { campaign_id: 987654321, status: 'in-progress', variables: 'x' });
    assert.equal(res.status, 422);
    assert.deepEqual(res.body, {
      message: 'Validation failed',
      errors: {
        campaign_id: ['The selected campaign does not exist'],
        status: ['This status is assigned automatically and cannot be set manually'],
        variables: ['Variables must be an array'],
      },
    });
    for (const status of ['scheduled', 'blacklisted', 'whatever', 5]) {
      const one = await call('PUT', `/user/leads/${lead.id}`, { status });
      assert.equal(one.status, 422);
      assert.deepEqual(one.body.errors, { status: ['This status is assigned automatically and cannot be set manually'] });
    }
    for (const variables of [[1, 2], null, 7]) {
      const one = await call('PUT', `/user/leads/${lead.id}`, { variables });
      assert.equal(one.status, 422);
      assert.deepEqual(one.body.errors, { variables: ['Variables must be an array'] });
    }
    assert.equal((await readLead(lead.id)).status, 'created');
  });

  test("an unknown campaign → 422 does not exist; a colleague's campaign → 404 Campaign not found", async () => {
    const lead = await newLead((await newCampaign()).id);
    const unknown = await call('PUT', `/user/leads/${lead.id}`, { campaign_id: 99999999 });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.errors, { campaign_id: ['The selected campaign does not exist'] });
    const colleague = await call('PUT', `/user/leads/${lead.id}`, { campaign_id: (await newCampaign(colleagueKey)).id });
    assert.equal(colleague.status, 404);
    assert.deepEqual(colleague.body, { message: 'Campaign not found' });
  });

  test('Invalid phone number → 400', async () => {
    const lead = await newLead((await newCampaign()).id);
    for (const phone_number of ['not a phone', '12']) {
      const res = await call('PUT', `/user/leads/${lead.id}`, { phone_number });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { message: 'Invalid phone number' });
    }
  });

  // another organization's numbers: test/numbering.test.ts
  test('Lead not found: missing, malformed, deleted or another user\'s lead', async () => {
    const campaign = await newCampaign();
    const mine = await newLead(campaign.id);
    const colleagues = await newLead((await newCampaign(colleagueKey)).id, colleagueKey);
    const deleted = await newLead(campaign.id);
    assert.deepEqual((await call('DELETE', `/user/leads/${deleted.id}`)).body, { message: 'Lead deleted successfully' });
    for (const id of [colleagues.id, deleted.id, 99999999, 'abc', '1.5']) {
      const res = await call('PUT', `/user/leads/${id}`, { status: 'completed' });
      assert.equal(res.status, 404, String(id));
      assert.deepEqual(res.body, { message: 'Lead not found' });
    }
    assert.equal((await call('DELETE', `/user/leads/${colleagues.id}`)).status, 404);
    assert.equal((await call('PUT', `/user/leads/${mine.id}`, { status: 'completed' })).status, 200);
  });

  test('moving a lead into a campaign that already has its number is refused', async () => {
    const a = await newCampaign();
    const b = await newCampaign();
    const inA = await newLead(a.id);
    await call('POST', '/user/lead', { phone_number: inA.phone_number, campaign_id: b.id });
    const res = await call('PUT', `/user/leads/${inA.id}`, { campaign_id: b.id });
    assert.equal(res.status, 422);
    assert.ok(res.body.errors.phone_number);
  });

  test('malformed bodies answer in the Autocalls envelope, never 500', async () => {
    const lead = await newLead((await newCampaign()).id);
    const broken = await app.request('PUT', `/autocalls/api/user/leads/${lead.id}`, { token: key, raw: '{"status":', headers: { 'content-type': 'application/json' } });
    assert.equal(broken.status, 400);
    assert.deepEqual(Object.keys(broken.body), ['message']);
    const array = await call('PUT', `/user/leads/${lead.id}`, [1, 2]);
    assert.equal(array.status, 422);
    assert.equal(array.body.message, 'Validation failed');
    const unknownRoute = await call('GET', '/user/nothing');
    assert.equal(unknownRoute.status, 404);
    assert.deepEqual(Object.keys(unknownRoute.body), ['message']);
  });
});

describe('GET /user/leads', () => {
  test('Laravel pagination: per_page default 15, 1–100; filters status, campaign_id, partial phone_number; only the caller\'s leads', async () => {
    const fresh = await registerOrganization(app, 'Listing');
    const listKey = await apiKeyFor(app, fresh);
    const campaign = await newCampaign(listKey);
    const other = await newCampaign(listKey);
    for (let i = 0; i < 17; i += 1) await newLead(campaign.id, listKey);
    const special = await newLead(other.id, listKey);
    await call('PUT', `/user/leads/${special.id}`, { status: 'completed' }, listKey);

    const first = await call('GET', '/user/leads', undefined, listKey);
    assert.equal(first.status, 200);
    assert.equal(first.body.current_page, 1);
    assert.equal(first.body.per_page, 15);
    assert.equal(first.body.total, 18);
    assert.equal(first.body.last_page, 2);
    assert.equal(first.body.data.length, 15);
    assert.equal(first.body.from, 1);
    assert.equal(first.body.to, 15);
    assert.equal(first.body.prev_page_url, null);
    assert.match(first.body.next_page_url, /page=2/);
    assert.deepEqual(first.body.links.map((l: { label: string }) => l.label), ['&laquo; Previous', '1', '2', 'Next &raquo;']);
    const second = await call('GET', '/user/leads?page=2', undefined, listKey);
    assert.equal(second.body.data.length, 3);
    assert.equal(second.body.to, 18);

    const byStatus = await call('GET', '/user/leads?status=completed', undefined, listKey);
    assert.deepEqual(byStatus.body.data.map((l: { id: number }) => l.id), [special.id]);
    const byCampaign = await call('GET', `/user/leads?campaign_id=${other.id}&per_page=100`, undefined, listKey);
    assert.equal(byCampaign.body.total, 1);
    const byPhone = await call('GET', `/user/leads?phone_number=${special.phone_number.slice(-4)}`, undefined, listKey);
    assert.ok(byPhone.body.data.some((l: { id: number }) => l.id === special.id));
    for (const per_page of [0, 101]) assert.equal((await call('GET', `/user/leads?per_page=${per_page}`, undefined, listKey)).status, 422);
    const mine = await call('GET', '/user/leads', undefined, key);
    assert.ok(!mine.body.data.some((l: { id: number }) => l.id === special.id));
    const past = await call('GET', '/user/leads?page=9', undefined, listKey);
    assert.equal(past.body.total, 18);
    assert.deepEqual(past.body.data, []);
  });
});

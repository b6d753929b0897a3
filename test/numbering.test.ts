import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { insertNumbered } from '../src/db/bulk.ts';
import type { Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { apiKeyFor, freshDatabase, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createConfiguration } from './support/intake.ts';

// Lead and campaign numbers (`seq`, `numericId`: the integer ids Autocalls clients hold) are
// each organization's own 1, 2, 3, …: a global counter let a tenant read from the gaps in
// its numbers how many leads and campaigns the others were creating.

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

interface Organization extends Account {
  apiKey: string;
  configurationId: string;
}

async function organization(name: string): Promise<Organization> {
  const account = await registerOrganization(app, name);
  const configuration = await createConfiguration(app, account);
  return { ...account, apiKey: await apiKeyFor(app, account), configurationId: configuration._id };
}

let phoneCounter = 1000;
const nextPhone = () => `+1212555${String(phoneCounter++).padStart(4, '0')}`;

const expectCreated = <T>(response: { status: number; text: string; body: T }): T => {
  assert.ok(response.status === 200 || response.status === 201, `${response.status} ${response.text}`);
  return response.body;
};
const autocalls = (org: Organization, method: string, path: string, body?: unknown) =>
  app.request(method, `/autocalls/api${path}`, { token: org.apiKey, body });
const importCsv = (org: Organization, csv: string) =>
  app.request('POST', `/api/leads/import?configurationId=${org.configurationId}`, { token: org.token, raw: csv, headers: { 'content-type': 'text/csv' } });

/** Creates a lead through each way in, answering its id: native, Autocalls (in campaign 1), the intake webhook. */
const newLead = {
  native: async (org: Organization) => expectCreated(await app.request('POST', '/api/leads', { token: org.token, body: { firstName: 'Native', phone: nextPhone() } })).data._id,
  autocalls: async (org: Organization) => {
    const lead = expectCreated(await autocalls(org, 'POST', '/user/lead', { phone_number: nextPhone(), campaign_id: 1 })).data;
    return (await leadsByNumber(org)).get(lead.id)!._id;
  },
  webhook: async (org: Organization) =>
    expectCreated(
      await app.request('POST', '/api/webhook/outreach', { token: org.apiKey, body: { configurationId: org.configurationId, firstName: 'Hooked', phoneNumber: nextPhone() } }),
    ).data.contactId,
};
const newCampaign = {
  native: async (org: Organization) => expectCreated(await app.request('POST', '/api/campaigns', { token: org.token, body: { name: 'Native' } })).data._id,
  autocalls: async (org: Organization) => {
    const campaign = expectCreated(await autocalls(org, 'POST', '/user/campaign', { name: 'Autocalls' })).data;
    return (await campaignNumbers(org)).get(campaign.id)!;
  },
};

/** The organization's leads by number, as the native API shows them. */
async function leadsByNumber(org: Organization): Promise<Map<number, { _id: string; seq: number }>> {
  const response = await app.request('GET', '/api/leads?limit=200', { token: org.token });
  assert.equal(response.status, 200, response.text);
  return new Map(response.body.data.leads.map((lead: { _id: string; seq: number }) => [lead.seq, lead]));
}

/** The organization's campaign ids by number. */
async function campaignNumbers(org: Organization): Promise<Map<number, string>> {
  const response = await app.request('GET', '/api/campaigns', { token: org.token });
  assert.equal(response.status, 200, response.text);
  return new Map(response.body.data.map((campaign: { _id: string; numericId: number }) => [campaign.numericId, campaign._id]));
}

/** The numbers of these leads, in this order. */
async function leadNumbersOf(org: Organization, ids: string[]): Promise<number[]> {
  const numberOf = new Map([...(await leadsByNumber(org)).values()].map((lead) => [lead._id, lead.seq]));
  return ids.map((id) => numberOf.get(id)!);
}

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('lead and campaign numbers are per organization', () => {
  test('two organizations creating interleaved, through every way in, each number theirs 1, 2, 3, … in creation order', async () => {
    const alpha = await organization('Alpha');
    const beta = await organization('Beta');
    const created = new Map([alpha, beta].map((org) => [org, { leads: [] as string[], campaigns: [] as string[] }]));
    for (let round = 0; round < 3; round += 1) {
      for (const org of [alpha, beta]) {
        const mine = created.get(org)!;
        for (const way of [newCampaign.autocalls, newCampaign.native]) mine.campaigns.push(await way(org));
        for (const way of [newLead.native, newLead.autocalls, newLead.webhook]) mine.leads.push(await way(org));
      }
    }
    for (const org of [alpha, beta]) {
      const mine = created.get(org)!;
      assert.deepEqual(await leadNumbersOf(org, mine.leads), oneTo(9), `${org.email}'s leads`);
      const numberOf = new Map([...(await campaignNumbers(org))].map(([number, id]) => [id, number]));
      assert.deepEqual(
        mine.campaigns.map((id) => numberOf.get(id)),
        oneTo(6),
        `${org.email}'s campaigns`,
      );
    }
  });

  test("an Autocalls integer id names the caller's own lead or campaign of that number, never another organization's", async () => {
    const alpha = await organization('Alpha');
    const beta = await organization('Beta');
    for (let n = 0; n < 2; n += 1) await newCampaign.autocalls(alpha);
    const alphaLeads: Array<{ id: number; campaign_id: number }> = [];
    for (let n = 0; n < 3; n += 1) alphaLeads.push(expectCreated(await autocalls(alpha, 'POST', '/user/lead', { phone_number: nextPhone(), campaign_id: 2 })).data);
    assert.deepEqual(
      alphaLeads.map((lead) => [lead.id, lead.campaign_id]),
      [[1, 2], [2, 2], [3, 2]],
    );
    const betaCampaign = await newCampaign.autocalls(beta);

    // Beta's campaign 1 and lead 1 are Beta's own
    const betaLead = expectCreated(await autocalls(beta, 'POST', '/user/lead', { phone_number: nextPhone(), campaign_id: 1, variables: { owner: 'beta' } })).data;
    assert.deepEqual([betaLead.id, betaLead.campaign_id], [1, 1]);
    assert.equal((await leadsByNumber(beta)).size, 1);
    const stored = await app.request('GET', `/api/leads/${(await leadsByNumber(beta)).get(1)!._id}`, { token: beta.token });
    assert.equal(stored.body.data.campaignId, betaCampaign);
    assert.equal((await autocalls(beta, 'PUT', '/user/leads/1', { variables: { touched: 'by beta' } })).status, 200);
    const betaList = (await autocalls(beta, 'GET', '/user/leads?campaign_id=1')).body;
    assert.deepEqual(
      betaList.data.map((lead: { id: number; variables: unknown }) => [lead.id, lead.variables]),
      [[1, { owner: 'beta', touched: 'by beta' }]],
    );

    // numbers only Alpha has are unknown to Beta
    assert.deepEqual((await autocalls(beta, 'POST', '/user/lead', { phone_number: nextPhone(), campaign_id: 2 })).body, {
      message: 'Validation failed',
      errors: { campaign_id: ['The selected campaign does not exist'] },
    });
    assert.equal((await autocalls(beta, 'PUT', '/user/leads/1', { campaign_id: 2 })).status, 422);
    for (const number of [2, 3]) {
      assert.deepEqual((await autocalls(beta, 'PUT', `/user/leads/${number}`, { status: 'completed' })).body, { message: 'Lead not found' });
      assert.equal((await autocalls(beta, 'DELETE', `/user/leads/${number}`)).status, 404);
    }
    assert.equal((await autocalls(beta, 'GET', '/user/leads?campaign_id=2')).body.total, 0);

    // and Alpha's leads are as they were
    const alphaList = (await autocalls(alpha, 'GET', '/user/leads')).body;
    assert.deepEqual(
      alphaList.data.map((lead: { id: number; campaign_id: number; status: string; variables: unknown }) => [lead.id, lead.campaign_id, lead.status, lead.variables]),
      [
        [1, 2, 'created', {}],
        [2, 2, 'created', {}],
        [3, 2, 'created', {}],
      ],
    );
    assert.equal((await autocalls(alpha, 'GET', '/user/leads?campaign_id=1')).body.total, 0);
  });

  test('concurrent creates get distinct consecutive numbers, single and bulk alike, while another organization creates too', async () => {
    const busy = await organization('Busy');
    const neighbour = await organization('Neighbour');
    const both = [busy, neighbour];
    const sorted = (numbers: number[]) => numbers.sort((a, b) => a - b);

    const leads = await Promise.all(
      Array.from({ length: 40 }, (_, i) => app.request('POST', '/api/leads', { token: both[i % 2].token, body: { firstName: `Rush ${i}`, phone: nextPhone() } })),
    );
    for (const [k, org] of both.entries()) {
      const numbers = leads.filter((_, i) => i % 2 === k).map((response) => expectCreated(response).data.seq);
      assert.deepEqual(sorted(numbers), oneTo(20), `${org.email}'s leads`);
    }
    const campaigns = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 4 < 2
          ? app.request('POST', '/api/campaigns', { token: both[i % 2].token, body: { name: `Rush ${i}` } })
          : autocalls(both[i % 2], 'POST', '/user/campaign', { name: `Rush ${i}` }),
      ),
    );
    for (const [k, org] of both.entries()) {
      const created = campaigns.filter((_, i) => i % 2 === k).map((response) => expectCreated<any>(response).data);
      assert.deepEqual(sorted(created.map((campaign) => campaign.numericId ?? campaign.id)), oneTo(20), `${org.email}'s campaigns`);
    }

    // an import takes its range at once, in between single creates
    const csv = (first: string) => ['firstName,phone', ...Array.from({ length: 5 }, (_, i) => `${first} ${i},${nextPhone()}`)].join('\n');
    const imported = (org: Organization, name: string) =>
      importCsv(org, csv(name)).then((response) => assert.equal(expectCreated<any>(response).data.created, 5));
    await Promise.all(
      both.flatMap((org) => [
        ...Array.from({ length: 6 }, () => newLead.native(org)),
        ...Array.from({ length: 4 }, () => newLead.webhook(org)),
        imported(org, 'Batch'),
        imported(org, 'Other batch'),
      ]),
    );
    for (const org of both) assert.deepEqual(sorted([...(await leadsByNumber(org)).keys()]), oneTo(40), `${org.email}'s leads`);
  });

  test('a CSV import numbers its new leads in file order after the last, and rows that make no new lead take no number', async () => {
    const org = await organization('Importer');
    const neighbour = await organization('Neighbour');
    const first = await newLead.native(org);
    await newLead.native(neighbour);
    const existingPhone = nextPhone();
    const second = expectCreated(await app.request('POST', '/api/leads', { token: org.token, body: { firstName: 'Known', phone: existingPhone } })).data._id;
    const phones = [nextPhone(), nextPhone(), nextPhone()];
    const [report] = await Promise.all([
      importCsv(org, ['firstName,phone', `Ann,${phones[0]}`, `Known again,${existingPhone}`, 'Bad,not a phone', `Bea,${phones[1]}`, `Cy,${phones[2]}`].join('\n')),
      importCsv(neighbour, ['firstName,phone', `Dee,${nextPhone()}`, `Eve,${nextPhone()}`].join('\n')),
    ]);
    const counts = expectCreated<any>(report).data;
    assert.deepEqual([counts.created, counts.updated, counts.failed], [3, 1, 1]);
    const after = await newLead.native(org);

    const leads = [...(await leadsByNumber(org)).values()].sort((a, b) => a.seq - b.seq);
    const byPhone = new Map(
      (await app.db.query<{ id: string; phone: string }>('SELECT id, phone FROM leads WHERE organization_id = $1', [org.organizationId])).map((row) => [row.phone, row.id]),
    );
    assert.deepEqual(
      leads.map((lead) => lead._id),
      [first, second, ...phones.map((phone) => byPhone.get(phone)), after],
    );
    assert.deepEqual(
      leads.map((lead) => lead.seq),
      oneTo(6),
    );
  });
});

describe('migration 055', () => {
  const migrationsDir = fileURLToPath(new URL('../src/db/migrations/', import.meta.url));

  /** The schema as it was before 055, recorded as migrated, so migrate() applies 055 alone. */
  async function migratedUpTo054(db: Database): Promise<void> {
    await db.exec('CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const file of (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql') && f < '055').sort()) {
      await db.exec(await readFile(migrationsDir + file, 'utf8'));
      await db.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
    }
  }

  test('keeps the numbers already given and continues each organization after its highest', async () => {
    const { db, drop } = await freshDatabase(migratedUpTo054);
    try {
      await db.exec(`
        INSERT INTO organizations (id, name) VALUES ('org-a', 'A'), ('org-b', 'B'), ('org-c', 'C');
        INSERT INTO users (id, organization_id, email, password_hash, access_role) VALUES
          ('user-a', 'org-a', 'a@example.com', 'x', 'ADMIN'), ('user-b', 'org-b', 'b@example.com', 'x', 'ADMIN'),
          ('user-c', 'org-c', 'c@example.com', 'x', 'ADMIN');
        INSERT INTO leads (id, organization_id) VALUES ('lead-a1', 'org-a'), ('lead-b1', 'org-b'), ('lead-a2', 'org-a');
        INSERT INTO campaigns (id, organization_id, user_id, name) VALUES ('campaign-b1', 'org-b', 'user-b', 'B1'), ('campaign-a1', 'org-a', 'user-a', 'A1'),
          ('campaign-b2', 'org-b', 'user-b', 'B2');`);
      assert.equal((await migrate(db))[0], '055_seq_per_organization.sql');

      const numbers = async (table: 'leads' | 'campaigns') =>
        Object.fromEntries((await db.query<{ id: string; seq: number }>(`SELECT id, seq FROM ${table} ORDER BY id`)).map((row) => [row.id, Number(row.seq)]));
      assert.deepEqual(await numbers('leads'), { 'lead-a1': 1, 'lead-a2': 3, 'lead-b1': 2 });
      assert.deepEqual(await numbers('campaigns'), { 'campaign-a1': 2, 'campaign-b1': 1, 'campaign-b2': 3 });

      for (const [organization, suffix] of [['a', 'a3'], ['b', 'b3'], ['c', 'c1']]) {
        await insertNumbered(db, 'leads', `org-${organization}`, ['id'], [{ id: `lead-${suffix}` }]);
        await insertNumbered(db, 'campaigns', `org-${organization}`, ['id', 'user_id', 'name'], [{ id: `campaign-${suffix}`, user_id: `user-${organization}`, name: suffix }]);
      }
      assert.deepEqual(await numbers('leads'), { 'lead-a1': 1, 'lead-a2': 3, 'lead-a3': 4, 'lead-b1': 2, 'lead-b3': 3, 'lead-c1': 1 });
      assert.deepEqual(await numbers('campaigns'), { 'campaign-a1': 2, 'campaign-a3': 3, 'campaign-b1': 1, 'campaign-b2': 3, 'campaign-b3': 4, 'campaign-c1': 1 });
    } finally {
      await drop();
    }
  });
});

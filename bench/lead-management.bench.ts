/**
 * GET and PUT /api/lead-management/{id} on PostgreSQL, next to pgbench running the
 * equivalent single-row SELECT and UPDATE on the same table of the same schema.
 */
import { printComparison, runAutocannon, runPgbench, startBenchApp } from './support.ts';

export default async function leadManagementBench(): Promise<void> {
  const app = await startBenchApp();
  try {
    const admin = await app.register();
    const prompt = await app.call('POST', '/api/prompts', { token: admin.token, body: { name: 'Bench process', content: 'Be brief.' } });
    const created = await app.call('POST', '/api/lead-management', {
      token: admin.token,
      body: { configurationName: 'Bench funnel', initialStage: 'New Lead', defaultProcess: prompt.data._id, source: 'Bench' },
    });
    const id: string = created.data._id;
    const route = `/api/lead-management/${id}`;
    const variables = { org: admin.organizationId, id };

    const getApp = await runAutocannon({ url: app.url, method: 'GET', path: route, token: admin.token });
    const getBaseline = await runPgbench({
      app,
      variables,
      script: 'SELECT * FROM lead_management_configs WHERE organization_id = :org AND id = :id;\n',
    });
    const putApp = await runAutocannon({ url: app.url, method: 'PUT', path: route, token: admin.token, body: { costPerLead: 12.5, isAutopilot: true } });
    const putBaseline = await runPgbench({
      app,
      variables,
      script:
        'UPDATE lead_management_configs SET cost_per_lead = 12.5, is_autopilot = true, updated_at = now()\n' +
        ' WHERE organization_id = :org AND id = :id RETURNING *;\n',
    });

    printComparison('lead-management: OpenLead HTTP vs pgbench on the same row', 'pgbench', [
      { operation: 'GET /api/lead-management/{id}', app: getApp, baseline: getBaseline },
      { operation: 'PUT /api/lead-management/{id}', app: putApp, baseline: putBaseline },
    ]);
  } finally {
    await app.close();
  }
}

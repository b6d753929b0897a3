import type { Account, TestApp } from './harness.ts';

/** A process (prompt) and a lead-management configuration routing into the default pipeline. */
export async function createConfiguration(app: TestApp, account: Account, overrides: Record<string, unknown> = {}): Promise<any> {
  const prompt = await app.request('POST', '/api/prompts', {
    token: account.token,
    body: { name: 'Process', content: 'You qualify leads for a solar installer.' },
  });
  if (prompt.status !== 201) throw new Error(`prompt: ${prompt.status} ${prompt.text}`);
  const response = await app.request('POST', '/api/lead-management', {
    token: account.token,
    body: {
      configurationName: `Config ${Math.random().toString(36).slice(2)}`,
      source: 'Facebook Lead Ad',
      initialStage: 'New Lead',
      defaultProcess: prompt.body.data._id,
      costPerLead: 12.5,
      ...overrides,
    },
  });
  if (response.status !== 201) throw new Error(`configuration: ${response.status} ${response.text}`);
  return response.body.data;
}

export async function leadRow(app: TestApp, leadId: string): Promise<any> {
  const [row] = await app.db.query<any>(
    `SELECT l.*, s.name AS stage_name FROM leads l LEFT JOIN pipeline_stages s ON s.id = l.stage_id WHERE l.id = $1`,
    [leadId],
  );
  return row;
}

export function messagesOf(app: TestApp, leadId: string): Promise<any[]> {
  return app.db.query<any>(`SELECT * FROM messages WHERE lead_id = $1 ORDER BY created_at, id`, [leadId]);
}

export function approvalsOf(app: TestApp, leadId: string): Promise<any[]> {
  return app.db.query<any>(`SELECT * FROM approvals WHERE lead_id = $1 ORDER BY created_at, id`, [leadId]);
}

export function timelineOf(app: TestApp, leadId: string): Promise<any[]> {
  return app.db.query<any>(`SELECT * FROM lead_activities WHERE lead_id = $1 ORDER BY created_at, id`, [leadId]);
}

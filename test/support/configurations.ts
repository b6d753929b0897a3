import type { Account, Response, TestApp } from './harness.ts';

/** Creates a prompt (AI process) in the account's organization and returns its id. */
export async function createPrompt(app: TestApp, account: Account, name = 'Warm-up'): Promise<string> {
  const res = await app.request('POST', '/api/prompts', { token: account.token, body: { name, content: 'Be helpful.' } });
  if (res.status !== 201) throw new Error(`create prompt failed: ${res.status} ${res.text}`);
  return res.body.data._id;
}

/** Creates a pipeline and returns its DTO. */
export async function createPipeline(
  app: TestApp,
  account: Account,
  body: { name: string; type: 'Contact' | 'Application'; isDefault?: boolean; stages?: { name: string; color?: string }[] },
): Promise<{ _id: string; stages: { _id: string; name: string }[] }> {
  const res = await app.request('POST', '/api/pipelines', { token: account.token, body });
  if (res.status !== 201) throw new Error(`create pipeline failed: ${res.status} ${res.text}`);
  return res.body.data;
}

/** POST /api/lead-management with the three required fields filled in unless overridden. */
export function postConfiguration(
  app: TestApp,
  account: Account,
  defaultProcess: string,
  fields: Record<string, unknown> = {},
): Promise<Response> {
  return app.request('POST', '/api/lead-management', {
    token: account.token,
    body: { configurationName: `Config ${Math.random().toString(36).slice(2, 10)}`, initialStage: 'New Lead', defaultProcess, ...fields },
  });
}

/** Creates a configuration and returns its DTO. */
export async function createConfiguration(
  app: TestApp,
  account: Account,
  defaultProcess: string,
  fields: Record<string, unknown> = {},
): Promise<Record<string, any>> {
  const res = await postConfiguration(app, account, defaultProcess, fields);
  if (res.status !== 201) throw new Error(`create configuration failed: ${res.status} ${res.text}`);
  return res.body.data;
}

import assert from 'node:assert/strict';
import type { Account, TestApp } from './harness.ts';

let phoneCounter = 3000;

/** A fresh New York number per lead, so leads never collide on dedupe. */
export const nextPhone = () => `+1212555${String(phoneCounter++).padStart(4, '0')}`;

export async function createLead(app: TestApp, account: Account, body: Record<string, unknown> = {}): Promise<{ _id: string; phone: string }> {
  const res = await app.request('POST', '/api/leads', { token: account.token, body: { phone: nextPhone(), firstName: 'Ada', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

/** Puts a lead's cadence at `step`, due at `at` (what a PATCH or intake would have done). */
export async function scheduleLead(app: TestApp, leadId: string, step: number | null, at: Date | string | null): Promise<void> {
  await app.db.query(`UPDATE leads SET follow_up_step = $2, next_follow_up_at = $3 WHERE id = $1`, [leadId, step, at]);
}

export async function leadRow(app: TestApp, leadId: string) {
  const [row] = await app.db.query<Record<string, any>>(
    `SELECT follow_up_step, next_follow_up_at, follow_up_deferred_until, has_replied, opted_out, status FROM leads WHERE id = $1`,
    [leadId],
  );
  return row;
}

export async function messagesOf(app: TestApp, account: Account, leadId: string): Promise<any[]> {
  const res = await app.request('GET', `/api/leads/${leadId}/messages`, { token: account.token });
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

export async function setOrganization(app: TestApp, account: Account, settings: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(settings);
  await app.db.query(
    `UPDATE organizations SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`,
    [account.organizationId, ...columns.map((c) => settings[c])],
  );
}

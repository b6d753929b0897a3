import type { Queryable } from '../../db/database.ts';
import type { ChatMessage } from './prompt.ts';

export type TraceOutcome = 'ok' | 'fallback' | 'error';

export interface TraceRow {
  id: string;
  organization_id: string;
  lead_id: string | null;
  purpose: string;
  model: string | null;
  outcome: TraceOutcome;
  error: string | null;
  latency_ms: number;
  attempts: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  request: ChatMessage[];
  response: string | null;
  created_at: Date;
}

export interface NewTrace {
  id: string;
  organizationId: string;
  leadId: string | null;
  purpose: string;
  model: string | null;
  outcome: TraceOutcome;
  error: string | null;
  latencyMs: number;
  attempts: number;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  request: ChatMessage[];
  response: string | null;
  now: Date;
}

export async function insertTrace(db: Queryable, trace: NewTrace): Promise<void> {
  await db.query(
    `INSERT INTO ai_traces (id, organization_id, lead_id, purpose, model, outcome, error, latency_ms, attempts,
                            prompt_tokens, completion_tokens, total_tokens, request, response, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [
      trace.id,
      trace.organizationId,
      trace.leadId,
      trace.purpose,
      trace.model,
      trace.outcome,
      trace.error,
      trace.latencyMs,
      trace.attempts,
      trace.usage?.prompt_tokens ?? null,
      trace.usage?.completion_tokens ?? null,
      trace.usage?.total_tokens ?? null,
      JSON.stringify(trace.request),
      trace.response,
      trace.now,
    ],
  );
}

/** The lead's traces, newest first; undefined when the lead is not in the organization. */
export async function listLeadTraces(db: Queryable, organizationId: string, leadId: string): Promise<TraceRow[] | undefined> {
  const rows = await db.query<{ lead_exists: boolean; trace: TraceRow | null }>(
    `SELECT true AS lead_exists, to_jsonb(t) AS trace
       FROM leads l LEFT JOIN ai_traces t ON t.organization_id = l.organization_id AND t.lead_id = l.id
      WHERE l.organization_id = $1 AND l.id = $2 AND l.deleted_at IS NULL
      ORDER BY t.created_at DESC, t.id DESC
      LIMIT 200`,
    [organizationId, leadId],
  );
  if (rows.length === 0) return undefined;
  return rows.flatMap((row) => (row.trace ? [row.trace] : []));
}

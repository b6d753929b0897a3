import type { AppContext } from '../../context.ts';
import { AppError, notFound } from '../../http/errors.ts';
import { isId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { getPrompt } from '../prompts/service.ts';
import { tryProcess } from './composer.ts';
import type { ConversationTurn, LeadFacts } from './prompt.ts';
import { listLeadTraces, type TraceRow } from './store.ts';

export function toTraceDto(row: TraceRow) {
  return {
    _id: row.id,
    leadId: row.lead_id,
    purpose: row.purpose,
    model: row.model,
    outcome: row.outcome,
    error: row.error,
    latencyMs: row.latency_ms,
    attempts: row.attempts,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    totalTokens: row.total_tokens,
    response: row.response,
    createdAt: row.created_at,
  };
}

export async function leadTraces(ctx: AppContext, principal: Principal, leadId: string): Promise<TraceRow[]> {
  const traces = isId(leadId) ? await listLeadTraces(ctx.db, principal.organizationId, leadId) : undefined;
  if (!traces) throw notFound('Lead not found');
  return traces;
}

/** Runs a process against a message the user types, exactly as a reply to a lead would be written. */
export async function playground(
  ctx: AppContext,
  principal: Principal,
  input: { promptId: string; message: string; conversation?: ConversationTurn[]; lead?: LeadFacts },
) {
  const prompt = await getPrompt(ctx, principal, input.promptId);
  const result = await tryProcess(ctx, {
    organizationId: principal.organizationId,
    instructions: prompt.content,
    lead: input.lead ?? {},
    conversation: input.conversation ?? [],
    task: { kind: 'reply', message: input.message },
  });
  if (result.reply === undefined) {
    throw new AppError(502, 'INTERNAL_SERVER_ERROR', `The AI model did not answer: ${result.error}`, [], { traceId: result.traceId });
  }
  return {
    reply: result.reply,
    traceId: result.traceId,
    usage: result.usage
      ? {
          promptTokens: result.usage.prompt_tokens ?? null,
          completionTokens: result.usage.completion_tokens ?? null,
          totalTokens: result.usage.total_tokens ?? null,
        }
      : null,
  };
}

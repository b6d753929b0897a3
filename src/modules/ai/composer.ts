import OpenAI, { APIConnectionError, APIError } from 'openai';
import type { Config } from '../../config.ts';
import type { AppContext } from '../../context.ts';
import { newId } from '../../lib/ids.ts';
import { buildChatMessages, type ChatMessage, type ComposeTask, type ConversationTurn, type LeadFacts } from './prompt.ts';
import { insertTrace, type TraceOutcome } from './store.ts';

/** Attempts per composition: one call and one retry for timeouts, 429s and 5xx answers. */
const MAX_ATTEMPTS = 2;
const RETRY_DELAY_MS = 250;

export interface ComposeInput {
  organizationId: string;
  leadId: string | null;
  /** the process (prompt) content that drives the AI */
  instructions: string;
  lead: LeadFacts;
  conversation: ConversationTurn[];
  task: ComposeTask;
  /** what to send when the model is unavailable or fails: the message is never lost */
  fallback: string;
}

export interface Composition {
  content: string;
  source: 'ai' | 'fallback';
  traceId: string;
}

interface ModelAnswer {
  content: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

export class ModelError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

const clients = new WeakMap<NonNullable<Config['openai']>, OpenAI>();

function clientFor(openai: NonNullable<Config['openai']>): OpenAI {
  let client = clients.get(openai);
  if (!client) {
    // Retries are ours (counted and traced), so the SDK's are off. An endpoint without a key
    // gets no Authorization header: the SDK insists on a key, so it holds one it never sends.
    client = new OpenAI({
      apiKey: openai.apiKey ?? 'unused',
      defaultHeaders: openai.apiKey ? undefined : { Authorization: null },
      baseURL: openai.baseUrl,
      timeout: openai.timeoutMs,
      maxRetries: 0,
    });
    clients.set(openai, client);
  }
  return client;
}

function retryable(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true; // includes timeouts
  return error instanceof APIError && (error.status === 429 || (error.status ?? 0) >= 500);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** One chat completion with a timeout and a limited retry; throws ModelError when it gives up. */
async function callModel(ctx: AppContext, messages: ChatMessage[]): Promise<{ answer: ModelAnswer; attempts: number }> {
  const openai = ctx.config.openai;
  if (!openai) throw new ModelError('AI is not configured (neither OPENAI_API_KEY nor OPENAI_BASE_URL is set)', 0);
  const client = clientFor(openai);
  for (let attempt = 1; ; attempt++) {
    try {
      const completion = await client.chat.completions.create({ model: openai.model, messages });
      const content = completion.choices[0]?.message?.content?.trim();
      if (!content) throw new ModelError('the model answered with an empty message', attempt);
      return { answer: { content, usage: completion.usage ?? undefined }, attempts: attempt };
    } catch (error) {
      if (error instanceof ModelError) throw error;
      if (attempt >= MAX_ATTEMPTS || !retryable(error)) throw new ModelError(describeError(error), attempt);
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
    }
  }
}

/**
 * Calls the model and records the trace, whatever happens. Resolves to the model's answer or
 * to a ModelError; never throws for a model failure.
 */
async function tracedCall(
  ctx: AppContext,
  trace: { organizationId: string; leadId: string | null; purpose: string; failureOutcome: TraceOutcome },
  messages: ChatMessage[],
): Promise<{ traceId: string; answer?: ModelAnswer; error?: ModelError }> {
  const started = performance.now();
  let answer: ModelAnswer | undefined;
  let failure: ModelError | undefined;
  let attempts = 0;
  try {
    ({ answer, attempts } = await callModel(ctx, messages));
  } catch (error) {
    failure = error instanceof ModelError ? error : new ModelError(describeError(error), attempts);
    attempts = failure.attempts;
  }
  const traceId = newId(ctx.clock.now());
  await insertTrace(ctx.db, {
    id: traceId,
    organizationId: trace.organizationId,
    leadId: trace.leadId,
    purpose: trace.purpose,
    model: ctx.config.openai?.model ?? null,
    outcome: answer ? 'ok' : trace.failureOutcome,
    error: failure?.message ?? null,
    latencyMs: Math.round(performance.now() - started),
    attempts,
    usage: answer?.usage,
    request: messages,
    response: answer?.content ?? null,
    now: ctx.clock.now(),
  });
  if (failure) ctx.log.warn({ err: failure.message, leadId: trace.leadId, purpose: trace.purpose }, 'AI composer fell back');
  return { traceId, answer, error: failure };
}

/**
 * The AI composer: writes a first touch, a follow-up or a reply for a lead from its process.
 * When the model fails, times out or is not configured, the caller's fallback template is
 * used, so a message is never lost. Call it outside transactions: it waits on the network.
 */
export async function composeMessage(ctx: AppContext, input: ComposeInput): Promise<Composition> {
  const messages = buildChatMessages(input);
  const result = await tracedCall(
    ctx,
    { organizationId: input.organizationId, leadId: input.leadId, purpose: input.task.kind, failureOutcome: 'fallback' },
    messages,
  );
  return result.answer
    ? { content: result.answer.content, source: 'ai', traceId: result.traceId }
    : { content: input.fallback, source: 'fallback', traceId: result.traceId };
}

/** Like composeMessage without a fallback: the playground shows the model's failure as it is. */
export async function tryProcess(
  ctx: AppContext,
  input: Omit<ComposeInput, 'fallback' | 'leadId'>,
): Promise<{ traceId: string; reply?: string; error?: string; usage?: ModelAnswer['usage'] }> {
  const messages = buildChatMessages(input);
  const result = await tracedCall(
    ctx,
    { organizationId: input.organizationId, leadId: null, purpose: 'playground', failureOutcome: 'error' },
    messages,
  );
  return { traceId: result.traceId, reply: result.answer?.content, error: result.error?.message, usage: result.answer?.usage };
}

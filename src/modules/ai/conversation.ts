import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';
import { sendOrHold } from '../approvals/service.ts';
import { templateComposer, type FollowUpComposer } from '../followups/compose.ts';
import { getActiveConfiguration } from '../lead-management/service.ts';
import { findLead, type LeadRow } from '../leads/store.ts';
import { listLeadMessages } from '../messages/store.ts';
import { findPrompt } from '../prompts/store.ts';
import { composeMessage } from './composer.ts';
import type { ConversationTurn, LeadFacts } from './prompt.ts';

/** How many of the latest messages the model sees. */
export const CONVERSATION_WINDOW = 20;

/** The lead's messages so far, oldest first, as the model sees them. */
export async function conversationOf(ctx: AppContext, organizationId: string, leadId: string): Promise<ConversationTurn[]> {
  const messages = await listLeadMessages(ctx.db, organizationId, leadId);
  return messages.slice(-CONVERSATION_WINDOW).map((m) => ({ from: m.direction === 'inbound' ? 'lead' : 'agent', content: m.content }));
}

export function leadFacts(lead: LeadRow): LeadFacts {
  return {
    firstName: lead.first_name,
    lastName: lead.last_name,
    name: lead.name,
    email: lead.email,
    phone: lead.phone,
    source: lead.source,
    customFields: lead.additional_info,
  };
}

async function processInstructions(ctx: AppContext, lead: LeadRow): Promise<string> {
  const process = lead.process_id ? await findPrompt(ctx.db, lead.organization_id, lead.process_id) : undefined;
  return process?.content ?? '';
}

/**
 * The AI composer for the follow-up engine's seam (`runDispatcherOnce(ctx, {composer})`): a
 * step with its own template keeps it; otherwise the model writes the touch from the lead's
 * process, the conversation and the step's strategy, and the template is the fallback.
 */
export function aiFollowUpComposer(ctx: AppContext): FollowUpComposer {
  return async (input) => {
    const template = await templateComposer(input);
    if (input.touch.template) return template;
    const lead = await findLead(ctx.db, input.lead.organization_id, input.lead.id);
    if (!lead) return template;
    const composition = await composeMessage(ctx, {
      organizationId: lead.organization_id,
      leadId: lead.id,
      instructions: await processInstructions(ctx, lead),
      lead: leadFacts(lead),
      conversation: await conversationOf(ctx, lead.organization_id, lead.id),
      task: { kind: 'follow_up', step: input.step, strategy: input.strategy?.instructions, channel: input.touch.channel },
      fallback: template.content,
    });
    return { ...template, content: composition.content };
  };
}

export const REPLY_FALLBACK = 'Thanks for your message! Someone from our team will get back to you shortly.';

/**
 * A lead's reply gets an AI answer: queued for sending when the lead's configuration is on
 * autopilot, else held in the approval queue. Nothing when the AI is off for the lead or it
 * opted out. Call it after the inbound message is stored (outside any transaction: the model
 * is asked first). With `onlyIf`, the answer is written only if that check, run in the
 * answer's transaction, holds. Answers the queued message's or the approval's id.
 */
export async function answerReply(
  ctx: AppContext,
  organizationId: string,
  leadId: string,
  reply: { content: string; channel: 'text' | 'email' },
  onlyIf?: (tx: Queryable) => Promise<boolean>,
): Promise<{ messageId: string | null; approvalId: string | null } | undefined> {
  const lead = await findLead(ctx.db, organizationId, leadId);
  if (!lead || !lead.is_ai_on || lead.opted_out) return undefined;
  const configuration = lead.configuration_id ? await getActiveConfiguration(ctx, organizationId, lead.configuration_id) : undefined;
  const conversation = await conversationOf(ctx, organizationId, leadId);
  // The stored inbound message is the task itself, not history.
  const last = conversation.at(-1);
  if (last?.from === 'lead' && last.content === reply.content) conversation.pop();
  const composition = await composeMessage(ctx, {
    organizationId,
    leadId,
    instructions: await processInstructions(ctx, lead),
    lead: leadFacts(lead),
    conversation,
    task: { kind: 'reply', message: reply.content, channel: reply.channel },
    fallback: REPLY_FALLBACK,
  });
  const now = ctx.clock.now();
  const [sent] = await ctx.db.transaction(async (tx) => {
    if (onlyIf && !(await onlyIf(tx))) return [];
    return sendOrHold(
      tx,
      [
        {
          organizationId,
          leadId,
          configurationId: configuration?.id ?? null,
          purpose: 'reply',
          channel: reply.channel,
          content: composition.content,
          composedBy: composition.source === 'ai' ? 'ai' : 'template',
          traceId: composition.traceId,
          now,
          idempotencyKey: `reply:${leadId}:${newId(now)}`,
        },
      ],
      configuration?.isAutopilot ?? false,
    );
  });
  return sent;
}

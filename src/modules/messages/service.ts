import type { AppContext } from '../../context.ts';
import { badRequest, invalidField, notFound } from '../../http/errors.ts';
import { isId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { nextOpening } from '../followups/business-hours.ts';
import type { FollowUpChannel } from '../followups/schedule.ts';
import { findLeadTouchContext } from '../followups/store.ts';
import { sendWindowFor } from '../followups/touch.ts';
import { enqueueOutbound } from './outbox.ts';
import { findMessage, listLeadMessages, listMessages, MESSAGE_STATUSES, type MessageRow, type MessageStatus } from './store.ts';

export const LEAD_NOT_FOUND = 'Lead not found';

export function toMessageDto(row: MessageRow) {
  return {
    _id: row.id,
    leadId: row.lead_id,
    direction: row.direction,
    channel: row.channel,
    origin: row.origin,
    status: row.status,
    subject: row.subject,
    content: row.content,
    to: row.to_address,
    from: row.from_address,
    followUpStep: row.follow_up_step,
    strategyId: row.strategy_id,
    voicemailEnabled: row.voicemail_enabled,
    callAttempt: row.call_attempt,
    idempotencyKey: row.idempotency_key,
    provider: row.provider,
    providerMessageId: row.provider_message_id,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdBy: row.created_by,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function leadContext(ctx: AppContext, principal: Principal, leadId: string) {
  const lead = isId(leadId) ? await findLeadTouchContext(ctx.db, principal.organizationId, leadId) : undefined;
  if (!lead) throw notFound(LEAD_NOT_FOUND);
  return lead;
}

export async function messagesOfLead(ctx: AppContext, principal: Principal, leadId: string): Promise<MessageRow[]> {
  await leadContext(ctx, principal, leadId);
  return listLeadMessages(ctx.db, principal.organizationId, leadId);
}

export async function messagesOfOrganization(
  ctx: AppContext,
  principal: Principal,
  query: { status?: string; limit?: number; before?: string },
): Promise<MessageRow[]> {
  if (query.status !== undefined && !MESSAGE_STATUSES.includes(query.status as MessageStatus)) {
    throw invalidField('status', `must be one of: ${MESSAGE_STATUSES.join(', ')}`);
  }
  const cursor = query.before && isId(query.before) ? await findMessage(ctx.db, principal.organizationId, query.before) : undefined;
  if (query.before && !cursor) throw invalidField('before', 'is not a message of this organization');
  return listMessages(ctx.db, principal.organizationId, {
    status: query.status as MessageStatus | undefined,
    limit: query.limit ?? 50,
    before: cursor && { createdAt: cursor.created_at, id: cursor.id },
  });
}

export interface ManualSend {
  content: string;
  channel?: FollowUpChannel;
  subject?: string;
  scheduledTime?: string;
  overrideBusinessHours?: boolean;
  sendWhenOff?: boolean;
}

/**
 * A user's message to a lead (Apten sendMessage semantics): queued for delivery at
 * `scheduledTime` (the time the user chose, in or out of the window), else now moved into
 * the lead's sending window unless `overrideBusinessHours`;
 * refused when the lead's AI is off (unless `sendWhenOff`) and always for an opted-out lead.
 */
export async function sendManualMessage(ctx: AppContext, principal: Principal, leadId: string, input: ManualSend): Promise<MessageRow> {
  const lead = await leadContext(ctx, principal, leadId);
  const channel = input.channel ?? 'text';
  if (lead.opted_out) throw badRequest('The lead has opted out and cannot be contacted');
  if (!lead.is_ai_on && !input.sendWhenOff) throw badRequest("The lead's AI is off; set sendWhenOff to send anyway");
  if (channel === 'email' && !lead.email) throw invalidField('channel', 'email needs a lead with an email address');
  if (channel === 'email' && !lead.org_email_enabled) throw invalidField('channel', 'email is disabled for the organization');
  if (channel !== 'email' && !lead.phone) throw invalidField('channel', `${channel} needs a lead with a phone number`);
  if (input.subject !== undefined && channel !== 'email') throw invalidField('subject', 'is only valid for the email channel');

  const now = ctx.clock.now();
  const requested = input.scheduledTime ? new Date(input.scheduledTime) : now;
  const earliest = requested.getTime() > now.getTime() ? requested : now;
  const sendAt = input.overrideBusinessHours || input.scheduledTime ? earliest : nextOpening(earliest, sendWindowFor(lead));
  const message = await enqueueOutbound(ctx.db, {
    organizationId: principal.organizationId,
    leadId,
    channel,
    content: input.content,
    subject: input.subject ?? null,
    origin: 'manual',
    sendAt,
    now,
    createdBy: principal.userId,
  });
  if (!message) throw notFound(LEAD_NOT_FOUND);
  return message;
}

import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { conflict, notFound } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { nextOpening } from '../followups/business-hours.ts';
import { findLeadTouchContexts, type TouchContextRow } from '../followups/store.ts';
import { sendWindowFor } from '../followups/touch.ts';
import { enqueueOutbound } from '../messages/outbox.ts';
import type { MessageRow } from '../messages/store.ts';
import { decidePending, findApproval, insertApprovals, linkMessage, listApprovals, type ApprovalRow, type ApprovalStatus } from './store.ts';

export const APPROVAL_NOT_FOUND = 'Approval not found';

export interface OutgoingMessage {
  organizationId: string;
  leadId: string;
  configurationId: string | null;
  /** first_touch or reply */
  purpose: string;
  channel: 'text' | 'email';
  content: string;
  composedBy: 'ai' | 'template';
  traceId: string | null;
  now: Date;
  /** one key per intended send, so a retried intake never sends twice */
  idempotencyKey: string;
}

const EMAIL_SUBJECT = 'Thanks for reaching out';

/**
 * Queues each message for delivery at its lead's next sending-window opening (now, inside
 * it): an autopilot message is automatic, and an approved one is sent like a rep's message
 * without `overrideBusinessHours`. Answers, per message, the queued row, or undefined when
 * its lead is gone. The leads' windows are read in one statement.
 */
async function enqueue(tx: Queryable, messages: OutgoingMessage[], createdBy: string | null): Promise<Array<MessageRow | undefined>> {
  const leads = new Map<string, TouchContextRow>((await findLeadTouchContexts(tx, messages)).map((lead) => [lead.id, lead]));
  const queued: Array<MessageRow | undefined> = [];
  for (const message of messages) {
    const lead = leads.get(message.leadId);
    queued.push(
      lead &&
        (await enqueueOutbound(tx, {
          organizationId: message.organizationId,
          leadId: message.leadId,
          channel: message.channel,
          content: message.content,
          subject: message.channel === 'email' ? EMAIL_SUBJECT : null,
          origin: message.purpose === 'reply' ? 'reply_answer' : 'first_message',
          sendAt: nextOpening(message.now, sendWindowFor(lead)),
          now: message.now,
          idempotencyKey: message.idempotencyKey,
          createdBy,
        })),
    );
  }
  return queued;
}

/**
 * Autopilot: each message is queued for delivery. Otherwise they wait in the approval queue.
 * Call it inside the transaction that wrote what caused the messages; answers, per message,
 * the queued message's id or the approval item's id.
 */
export async function sendOrHold(
  tx: Queryable,
  messages: OutgoingMessage[],
  autopilot: boolean,
): Promise<Array<{ messageId: string | null; approvalId: string | null }>> {
  if (autopilot) return (await enqueue(tx, messages, null)).map((queued) => ({ messageId: queued?.id ?? null, approvalId: null }));
  const approvals = messages.map((m) => ({
    id: newId(m.now),
    organization_id: m.organizationId,
    lead_id: m.leadId,
    configuration_id: m.configurationId,
    purpose: m.purpose,
    channel: m.channel,
    content: m.content,
    composed_by: m.composedBy,
    trace_id: m.traceId,
    created_at: m.now,
  }));
  await insertApprovals(tx, approvals);
  return approvals.map((a) => ({ messageId: null, approvalId: a.id }));
}

export function toApprovalDto(row: ApprovalRow) {
  return {
    _id: row.id,
    leadId: row.lead_id,
    configurationId: row.configuration_id,
    purpose: row.purpose,
    channel: row.channel,
    content: row.content,
    composedBy: row.composed_by,
    traceId: row.trace_id,
    status: row.status,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    messageId: row.message_id,
    createdAt: row.created_at,
  };
}

export const MAX_APPROVAL_PAGE = 200;

export function listApprovalQueue(
  ctx: AppContext,
  principal: Principal,
  query: { status?: ApprovalStatus; leadId?: string; limit?: number },
): Promise<ApprovalRow[]> {
  return listApprovals(ctx.db, principal.organizationId, { status: query.status, leadId: query.leadId, limit: query.limit ?? 50 });
}

/** 404 when missing; 409 naming the current status when already decided. */
async function alreadyDecided(ctx: AppContext, principal: Principal, id: string): Promise<never> {
  const existing = await findApproval(ctx.db, principal.organizationId, id);
  if (!existing) throw notFound(APPROVAL_NOT_FOUND);
  throw conflict(`Approval is already ${existing.status}`, { status: existing.status });
}

/** Approves a pending item and queues its message, exactly once (the conditional UPDATE decides). */
export async function approve(ctx: AppContext, principal: Principal, id: string, edited?: string): Promise<ApprovalRow> {
  if (!isId(id)) throw notFound(APPROVAL_NOT_FOUND);
  const now = ctx.clock.now();
  const approved = await ctx.db.transaction(async (tx) => {
    const row = await decidePending(tx, principal.organizationId, id, { status: 'approved', userId: principal.userId, content: edited, now });
    if (!row) return undefined;
    const [message] = await enqueue(
      tx,
      [
        {
          organizationId: row.organization_id,
          leadId: row.lead_id,
          configurationId: row.configuration_id,
          purpose: row.purpose,
          channel: row.channel,
          content: row.content,
          composedBy: row.composed_by,
          traceId: row.trace_id,
          now,
          idempotencyKey: `approval:${row.id}`,
        },
      ],
      principal.userId,
    );
    // its lead was deleted since the decision's check: nothing is decided
    if (!message) throw notFound(APPROVAL_NOT_FOUND);
    await linkMessage(tx, row.organization_id, row.id, message.id);
    return { ...row, message_id: message.id };
  });
  return approved ?? alreadyDecided(ctx, principal, id);
}

export async function reject(ctx: AppContext, principal: Principal, id: string): Promise<ApprovalRow> {
  if (!isId(id)) throw notFound(APPROVAL_NOT_FOUND);
  const row = await decidePending(ctx.db, principal.organizationId, id, { status: 'rejected', userId: principal.userId, now: ctx.clock.now() });
  return row ?? alreadyDecided(ctx, principal, id);
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';

export interface RepliedLead {
  id: string;
  organization_id: string;
}

/**
 * The outbound email a reply address names. Looked up by id alone: the reply arrives
 * unauthenticated, and the address's tag (checked before) is what proves it names this message.
 */
export function findOutboundEmail(db: Queryable, messageId: string): Promise<{ organization_id: string; lead_id: string } | undefined> {
  return maybeOne(db, `SELECT organization_id, lead_id FROM messages WHERE id = $1 AND direction = 'outbound' AND channel = 'email'`, [messageId]);
}

/** A reply stops the lead's cadence and marks it replied (and opted out for an opt-out keyword). */
export function markLeadReplied(tx: Queryable, lead: RepliedLead, optOut: boolean, now: Date): Promise<RepliedLead | undefined> {
  return maybeOne<RepliedLead>(
    tx,
    `UPDATE leads SET has_replied = true, opted_out = opted_out OR $3, follow_up_step = -1, next_follow_up_at = NULL,
            follow_up_deferred_until = NULL, last_activity_date = $4, version = version + 1, updated_at = $4
      WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
      RETURNING id, organization_id`,
    [lead.organization_id, lead.id, optOut, now],
  );
}

export interface InboundMessage {
  id: string;
  lead: RepliedLead;
  channel: 'text' | 'email';
  subject: string | null;
  content: string;
  from: string;
  to: string;
  /** the provider's id of the incoming message: a redelivery carries the same one */
  provider: string;
  providerMessageId: string;
  now: Date;
}

/** Stores the reply on its lead; false when this provider message was already stored (a redelivery). */
export async function insertInboundMessage(tx: Queryable, message: InboundMessage): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO messages (id, organization_id, lead_id, direction, channel, origin, status, subject, content, from_address, to_address,
                           idempotency_key, provider, provider_message_id, created_at, updated_at)
     VALUES ($1, $2, $3, 'inbound', $4, 'reply', 'received', $5, $6, $7, $8, $9 || ':' || $10 || ':' || $3, $9, $10, $11, $11)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id`,
    [message.id, message.lead.organization_id, message.lead.id, message.channel, message.subject, message.content, message.from, message.to,
      message.provider, message.providerMessageId, message.now],
  );
  return inserted.length > 0;
}

/**
 * The lead answered: its pending automatic touches (follow-ups, call retries) will not go
 * out; after an opt-out nothing pending will, manual messages included.
 */
export async function cancelPendingTouches(tx: Queryable, lead: RepliedLead, optOut: boolean, now: Date): Promise<void> {
  await tx.query(
    `UPDATE messages SET status = 'canceled', next_attempt_at = NULL, last_error = $4, updated_at = $5
      WHERE organization_id = $1 AND lead_id = $2 AND direction = 'outbound'
        AND status IN ('queued', 'failed', 'awaiting_approval')
        AND ($3 OR origin IN ('follow_up', 'call_retry'))`,
    [lead.organization_id, lead.id, optOut, optOut ? 'the lead opted out' : 'the lead replied', now],
  );
}

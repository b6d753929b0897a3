import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import { FOLLOW_UP_TOUCH, PENDING_OUTBOUND } from '../messages/store.ts';

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
  /** to be answered: the end of the first answer attempt's lease */
  answerLease: Date | null;
}

/**
 * Stores the reply on its lead; false when this provider message was already stored (a
 * redelivery) or the lead is deleted.
 */
export async function insertInboundMessage(tx: Queryable, message: InboundMessage): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO messages (id, organization_id, lead_id, direction, channel, origin, status, subject, content, from_address, to_address,
                           idempotency_key, provider, provider_message_id, answer_due_at, answer_attempts, created_at, updated_at)
     SELECT $1, organization_id, id, 'inbound', $4, 'reply', 'received', $5, $6, $7, $8, $9 || ':' || $10 || ':' || $3, $9, $10,
            $12, CASE WHEN $12::timestamptz IS NULL THEN 0 ELSE 1 END, $11, $11
       FROM leads WHERE organization_id = $2 AND id = $3 AND deleted_at IS NULL
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id`,
    [message.id, message.lead.organization_id, message.lead.id, message.channel, message.subject, message.content, message.from, message.to,
      message.provider, message.providerMessageId, message.now, message.answerLease],
  );
  return inserted.length > 0;
}

/** A reply to answer, under the lease of one answer attempt. */
export interface PendingAnswer {
  id: string;
  organization_id: string;
  lead_id: string;
  channel: 'text' | 'email';
  content: string;
  answer_due_at: Date;
}

/**
 * Claims up to `limit` replies whose answer is overdue (its attempt's lease ended unanswered:
 * the process died, or the attempt failed) for another attempt under a new lease, across
 * organizations, in one statement. A reply that has had `maxAttempts` is given up instead
 * (its pending answer cleared) and not answered.
 */
export function claimOverdueAnswers(db: Queryable, now: Date, lease: Date, limit: number, maxAttempts: number): Promise<PendingAnswer[]> {
  return db.query<PendingAnswer>(
    `WITH due AS (
       SELECT id FROM messages WHERE answer_due_at <= $1 ORDER BY answer_due_at LIMIT $3 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE messages m SET answer_due_at = CASE WHEN m.answer_attempts >= $4 THEN NULL ELSE $2::timestamptz END,
                             answer_attempts = LEAST(m.answer_attempts + 1, $4)
         FROM due WHERE m.id = due.id
       RETURNING m.id, m.organization_id, m.lead_id, m.channel, m.content, m.answer_due_at
     )
     SELECT * FROM claimed WHERE answer_due_at IS NOT NULL`,
    [now, lease, limit, maxAttempts],
  );
}

/**
 * Ends the pending answer of a reply if the attempt holding `lease` still owns it; false when
 * another attempt took it over (or it was answered). Called in the transaction that writes
 * the answer, so a reply is answered once.
 */
export async function settleAnswer(tx: Queryable, reply: Pick<PendingAnswer, 'id' | 'organization_id'>, lease: Date): Promise<boolean> {
  const settled = await tx.query(
    `UPDATE messages SET answer_due_at = NULL WHERE organization_id = $1 AND id = $2 AND answer_due_at = $3 RETURNING id`,
    [reply.organization_id, reply.id, lease],
  );
  return settled.length > 0;
}

/**
 * The lead answered: its pending automatic touches (follow-ups, call retries) will not go
 * out; after an opt-out nothing pending will, manual messages included.
 */
export async function cancelPendingTouches(tx: Queryable, lead: RepliedLead, optOut: boolean, now: Date): Promise<void> {
  await tx.query(
    `UPDATE messages m SET status = 'canceled', next_attempt_at = NULL, last_error = $4, updated_at = $5
      WHERE m.organization_id = $1 AND m.lead_id = $2
        AND ${PENDING_OUTBOUND} AND ($3 OR ${FOLLOW_UP_TOUCH})`,
    [lead.organization_id, lead.id, optOut, optOut ? 'the lead opted out' : 'the lead replied', now],
  );
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import type { FollowUpChannel } from '../followups/schedule.ts';

export type MessageStatus =
  | 'awaiting_approval'
  | 'queued'
  | 'sending'
  | 'failed'
  | 'dead'
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'no_answer'
  | 'skipped'
  | 'canceled'
  | 'received';

export const MESSAGE_STATUSES: MessageStatus[] = [
  'awaiting_approval', 'queued', 'sending', 'failed', 'dead', 'sent', 'delivered', 'undelivered', 'no_answer', 'skipped', 'canceled', 'received',
];

export type MessageOrigin = 'follow_up' | 'manual' | 'first_message' | 'call_retry' | 'reply' | 'reply_answer';

/** SQL condition on messages `m`: an outbound message not sent yet, which can still be canceled. */
export const PENDING_OUTBOUND = `m.direction = 'outbound' AND m.status IN ('queued', 'failed', 'awaiting_approval')`;
/** SQL condition on messages `m`: a touch of the lead's follow-ups (a step, a call retry), which a reply or a stop of the follow-ups cancels. */
export const FOLLOW_UP_TOUCH = `m.origin IN ('follow_up', 'call_retry')`;

export interface MessageRow {
  id: string;
  organization_id: string;
  lead_id: string;
  direction: 'outbound' | 'inbound';
  channel: FollowUpChannel;
  origin: MessageOrigin;
  status: MessageStatus;
  subject: string | null;
  content: string;
  to_address: string | null;
  from_address: string | null;
  follow_up_step: number | null;
  strategy_id: string | null;
  voicemail_enabled: boolean;
  call_attempt: number;
  idempotency_key: string;
  provider: string | null;
  provider_message_id: string | null;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  created_by: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  /** a carrier's final status that arrived before the send was recorded */
  early_carrier_status: MessageStatus | null;
  /** an inbound reply still to be answered: when the current answer attempt's lease ends */
  answer_due_at: Date | null;
  answer_attempts: number;
  created_at: Date;
  updated_at: Date;
}

export function listLeadMessages(db: Queryable, organizationId: string, leadId: string): Promise<MessageRow[]> {
  return db.query<MessageRow>(
    `SELECT * FROM messages WHERE organization_id = $1 AND lead_id = $2 ORDER BY created_at, id`,
    [organizationId, leadId],
  );
}

/**
 * Newest first, keyset-paged on (created_at, id). Read per status from the status index and
 * merged (all statuses when none is asked for), so neither form scans and sorts the
 * organization's messages, and no index is kept for the unfiltered listing alone.
 */
export function listMessages(
  db: Queryable,
  organizationId: string,
  filter: { status?: MessageStatus; before?: { createdAt: Date; id: string }; limit: number },
): Promise<MessageRow[]> {
  return db.query<MessageRow>(
    `SELECT m.* FROM unnest($2::text[]) AS s(status)
       CROSS JOIN LATERAL (
         SELECT * FROM messages
          WHERE organization_id = $1 AND status = s.status
            AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
          ORDER BY created_at DESC, id DESC LIMIT $5
       ) m
      ORDER BY m.created_at DESC, m.id DESC LIMIT $5`,
    [organizationId, filter.status ? [filter.status] : MESSAGE_STATUSES, filter.before?.createdAt ?? null, filter.before?.id ?? null, filter.limit],
  );
}

export function findMessage(db: Queryable, organizationId: string, id: string): Promise<MessageRow | undefined> {
  return maybeOne<MessageRow>(db, `SELECT * FROM messages WHERE organization_id = $1 AND id = $2`, [organizationId, id]);
}

export function findMessageByIdempotencyKey(db: Queryable, organizationId: string, key: string): Promise<MessageRow | undefined> {
  return maybeOne<MessageRow>(db, `SELECT * FROM messages WHERE organization_id = $1 AND idempotency_key = $2`, [organizationId, key]);
}

/** One outbound message for a lead, `queued` for delivery from `sendAt`. */
export interface LeadMessage {
  id: string;
  organizationId: string;
  leadId: string;
  channel: FollowUpChannel;
  content: string;
  subject?: string | null;
  origin: Exclude<MessageOrigin, 'reply'>;
  /** earliest delivery time, already moved into business hours by the caller when that applies */
  sendAt: Date;
  now: Date;
  idempotencyKey: string;
  followUpStep?: number | null;
  strategyId?: string | null;
  voicemailEnabled?: boolean;
  callAttempt?: number;
  createdBy?: string | null;
}

const LEAD_ADDRESS = `CASE WHEN $4 = 'email' THEN l.email ELSE l.phone END`;
const SENDER_NUMBER = `CASE WHEN $4 = 'email' THEN NULL ELSE o.sms_from END`;

/**
 * Writes the message addressed to the live lead's phone (text, call) or email, from the
 * organization's own sender number if it has one (text, call). Undefined when the lead
 * does not exist or the idempotency key was already used.
 */
export function insertMessageForLead(tx: Queryable, message: LeadMessage): Promise<MessageRow | undefined> {
  return maybeOne<MessageRow>(
    tx,
    `INSERT INTO messages (id, organization_id, lead_id, direction, channel, origin, status, subject, content, to_address, from_address,
                           follow_up_step, strategy_id, voicemail_enabled, call_attempt, idempotency_key, next_attempt_at,
                           created_by, created_at, updated_at)
     SELECT $1, l.organization_id, l.id, 'outbound', $4, $5, 'queued', $6, $7, ${LEAD_ADDRESS}, ${SENDER_NUMBER},
            $8, $9, $10, $11, $12, $13, $14, $15, $15
       FROM leads l JOIN organizations o ON o.id = l.organization_id
      WHERE l.organization_id = $2 AND l.id = $3 AND l.deleted_at IS NULL
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING *`,
    [
      message.id, message.organizationId, message.leadId, message.channel, message.origin, message.subject ?? null, message.content,
      message.followUpStep ?? null, message.strategyId ?? null, message.voicemailEnabled ?? false, message.callAttempt ?? 1,
      message.idempotencyKey, message.sendAt, message.createdBy ?? null, message.now,
    ],
  );
}

/** A follow-up touch as the dispatcher writes it (many per statement). */
export interface OutboundRow {
  id: string;
  organizationId: string;
  leadId: string;
  channel: FollowUpChannel;
  /** `sending`: claimed by the writer for delivery in its own process (see `insertOutboundBatch`) */
  status: 'queued' | 'sending' | 'skipped';
  lastError: string | null;
  subject: string | null;
  content: string;
  toAddress: string | null;
  /** the organization's own sender number (texts and calls), null for the shared one */
  fromAddress: string | null;
  followUpStep: number;
  strategyId: string | null;
  voicemailEnabled: boolean;
  idempotencyKey: string;
}

/**
 * Writes many follow-up touches in one statement. A key already written is skipped, so a
 * touch can never produce a second message; answers the ids written. A `sending` row is
 * written already claimed, as `claimOutbox` would leave it: its first attempt under a lease
 * until `leaseUntil`, so the writer delivers it without a claim statement and, if the writer
 * dies first, a delivery loop takes it over when the lease ends.
 */
export async function insertOutboundBatch(tx: Queryable, rows: OutboundRow[], now: Date, leaseUntil: Date | null = null): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  if (leaseUntil === null && rows.some((row) => row.status === 'sending')) throw new Error('a claimed (sending) touch needs a lease');
  const column = <K extends keyof OutboundRow>(key: K) => rows.map((row) => row[key]);
  const written = await tx.query<{ id: string }>(
    { name: 'messages.insertOutbound', text: `INSERT INTO messages (id, organization_id, lead_id, direction, origin, channel, status, last_error, subject, content, to_address,
                           from_address, follow_up_step, strategy_id, voicemail_enabled, idempotency_key, attempts, next_attempt_at, created_at, updated_at)
     SELECT id, organization_id, lead_id, 'outbound', 'follow_up', channel, status, last_error, subject, content, to_address,
            from_address, follow_up_step, strategy_id, voicemail_enabled, idempotency_key,
            CASE WHEN status = 'sending' THEN 1 ELSE 0 END,
            CASE status WHEN 'queued' THEN $14::timestamptz WHEN 'sending' THEN $15::timestamptz END, $14, $14
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::int[], $11::text[], $12::boolean[], $13::text[], $16::text[])
            AS r(id, organization_id, lead_id, channel, status, last_error, subject, content, to_address,
                 follow_up_step, strategy_id, voicemail_enabled, idempotency_key, from_address)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id` },
    [
      column('id'), column('organizationId'), column('leadId'), column('channel'), column('status'), column('lastError'),
      column('subject'), column('content'), column('toAddress'), column('followUpStep'), column('strategyId'),
      column('voicemailEnabled'), column('idempotencyKey'), now, leaseUntil, column('fromAddress'),
    ],
  );
  return new Set(written.map((row) => row.id));
}

export interface ClaimedMessage extends MessageRow {
  /** why the message must not go out any more (it is canceled instead), or null */
  held_back: string | null;
}

/**
 * Claims up to `limit` due outbox rows — queued, failed and due again, or `sending` under an
 * expired lease (its claimer died) — by marking them `sending` until `leaseUntil` and
 * counting the attempt, in one statement that commits on its own: no lock outlives it, so
 * providers are called outside any transaction. The row's `attempts` after the claim is the
 * lease's token for `recordDeliveryOutcomes`. `held_back` says why a row must not go out:
 * its lead opted out or was deleted, or — for a message no person asked for (a follow-up,
 * a call retry, an autopilot message) — its lead's AI was turned off. A row whose lease expired after its last allowed attempt (its worker
 * died on it every time) is marked dead instead of claimed, so it cannot loop forever.
 */
export function claimOutbox(db: Queryable, now: Date, leaseUntil: Date, limit: number, maxAttempts: number): Promise<ClaimedMessage[]> {
  // claim in due order from the outbox index first, and only then look at the leads: joining
  // before the LIMIT would visit every due row on each batch
  return db.query<ClaimedMessage>(
    `WITH due AS (
       SELECT id FROM messages
        WHERE status IN ('queued', 'failed', 'sending') AND next_attempt_at <= $1
        ORDER BY next_attempt_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE messages m SET
              status = CASE WHEN m.status = 'sending' AND m.attempts >= $4::int THEN 'dead' ELSE 'sending' END,
              next_attempt_at = CASE WHEN m.status = 'sending' AND m.attempts >= $4 THEN NULL ELSE $2::timestamptz END,
              last_error = CASE WHEN m.status = 'sending' AND m.attempts >= $4
                                THEN 'delivery never completed: every attempt''s lease expired' ELSE m.last_error END,
              attempts = CASE WHEN m.status = 'sending' AND m.attempts >= $4 THEN m.attempts ELSE m.attempts + 1 END,
              updated_at = $1
         FROM due WHERE m.id = due.id
       RETURNING m.*
     )
     SELECT c.*, CASE WHEN l.opted_out OR l.deleted_at IS NOT NULL THEN 'the lead opted out or was deleted before delivery'
                      WHEN NOT l.is_ai_on AND c.created_by IS NULL THEN 'the lead''s AI was turned off before delivery' END AS held_back
       FROM claimed c JOIN leads l ON l.organization_id = c.organization_id AND l.id = c.lead_id
      WHERE c.status = 'sending'`,
    [now, leaseUntil, limit, maxAttempts],
  );
}

export interface DeliveryOutcome {
  id: string;
  /** the row's attempts as claimed: the outcome is recorded only while that claim holds it */
  claimedAttempts: number;
  status: MessageStatus;
  provider: string | null;
  providerMessageId: string | null;
  /** whether the claim reached the provider (a canceled or skipped row does not count as an attempt) */
  attempted: boolean;
  nextAttemptAt: Date | null;
  lastError: string | null;
}

/**
 * Records a batch of delivery outcomes in one statement, each only if its claim still holds
 * the row (still `sending` with the claimed attempts; a claim whose lease expired and was
 * taken over records nothing). Answers the id and status recorded of each row written.
 */
export async function recordDeliveryOutcomes(tx: Queryable, outcomes: DeliveryOutcome[], now: Date): Promise<Pick<MessageRow, 'id' | 'status'>[]> {
  if (outcomes.length === 0) return [];
  const column = <K extends keyof DeliveryOutcome>(key: K) => outcomes.map((o) => o[key]);
  return tx.query<Pick<MessageRow, 'id' | 'status'>>(
    { name: 'messages.recordOutcomes', text: `UPDATE messages m SET
            -- a carrier status that arrived before this record of the send is the newer news
            status = CASE WHEN o.status = 'sent' THEN COALESCE(m.early_carrier_status, 'sent') ELSE o.status END,
            early_carrier_status = NULL,
            provider = COALESCE(o.provider, m.provider),
            provider_message_id = COALESCE(o.provider_message_id, m.provider_message_id),
            attempts = m.attempts - CASE WHEN o.attempted THEN 0 ELSE 1 END,
            next_attempt_at = o.next_attempt_at,
            last_error = o.last_error,
            sent_at = CASE WHEN o.status IN ('sent', 'delivered') THEN $9 ELSE m.sent_at END,
            delivered_at = CASE WHEN o.status = 'delivered' OR (o.status = 'sent' AND m.early_carrier_status = 'delivered') THEN $9
                                ELSE m.delivered_at END,
            updated_at = $9
       FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::timestamptz[], $8::text[])
            AS o(id, claimed_attempts, status, provider, provider_message_id, attempted, next_attempt_at, last_error)
      WHERE m.id = o.id AND m.status = 'sending' AND m.attempts = o.claimed_attempts
      RETURNING m.id, m.status` },
    [
      column('id'), column('claimedAttempts'), column('status'), column('provider'), column('providerMessageId'), column('attempted'),
      column('nextAttemptAt'), column('lastError'), now,
    ],
  );
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import type { MessageRow, MessageStatus } from '../messages/store.ts';

/**
 * Applies a carrier status to the message the provider id names. Only a sent message moves
 * (sent → delivered, undelivered, no_answer), so a late or repeated callback never rewinds it.
 */
export function applyCarrierStatus(tx: Queryable, providerMessageId: string, status: MessageStatus, now: Date): Promise<MessageRow | undefined> {
  return maybeOne<MessageRow>(
    tx,
    `UPDATE messages SET status = $2, delivered_at = CASE WHEN $2 = 'delivered' THEN $3 ELSE delivered_at END, updated_at = $3
      WHERE provider_message_id = $1 AND direction = 'outbound' AND status = 'sent' AND $2 <> 'sent'
      RETURNING *`,
    [providerMessageId, status, now],
  );
}

export interface CampaignRetryContext {
  lead_reachable: boolean;
  max_retries: number;
  retry_interval_minutes: number;
  timezone: string;
  allowed_hours_start: string;
  allowed_hours_end: string;
  allowed_days: number[];
}

/** The campaign of a message's lead, locked with the lead so concurrent callbacks queue. */
export function campaignOfMessageLead(tx: Queryable, message: MessageRow): Promise<CampaignRetryContext | undefined> {
  return maybeOne<CampaignRetryContext>(
    tx,
    `SELECT (NOT l.opted_out AND l.deleted_at IS NULL AND NOT l.has_replied) AS lead_reachable,
            c.max_retries, c.retry_interval_minutes, c.timezone,
            c.allowed_hours_start::text AS allowed_hours_start, c.allowed_hours_end::text AS allowed_hours_end, c.allowed_days
       FROM leads l JOIN campaigns c ON c.organization_id = l.organization_id AND c.id = l.campaign_id
      WHERE l.organization_id = $1 AND l.id = $2
      FOR UPDATE OF l`,
    [message.organization_id, message.lead_id],
  );
}

export async function markReachedMaxRetries(tx: Queryable, organizationId: string, leadId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE leads SET status = 'reached-max-retries', version = version + 1, updated_at = $3 WHERE organization_id = $1 AND id = $2`,
    [organizationId, leadId, now],
  );
}

export interface RepliedLead {
  id: string;
  organization_id: string;
  /** false when this inbound message was already recorded (the carrier retried its webhook) */
  recorded: boolean;
}

/**
 * A reply from `phone` belongs to ONE lead: the live lead with that phone most recently sent
 * an outbound message there, else (nothing ever sent) the most recently updated live lead
 * with that phone. Leads of other organizations sharing the number are never touched.
 * That lead stops its cadence and is marked replied, and opted out too for an opt-out
 * keyword. Pending automatic touches are canceled — every pending outbound message on
 * opt-out. Answers the lead, or undefined when no live lead has that phone.
 */
export async function recordReply(
  tx: Queryable,
  reply: { phone: string; to: string; body: string; providerMessageId: string; optOut: boolean; now: Date; newId: () => string },
): Promise<RepliedLead | undefined> {
  const lead = await maybeOne<Omit<RepliedLead, 'recorded'>>(
    tx,
    `WITH last_sent AS (
       SELECT l.organization_id, l.id
         FROM messages m JOIN leads l ON l.organization_id = m.organization_id AND l.id = m.lead_id
        WHERE m.to_address = $1 AND m.direction = 'outbound' AND m.sent_at IS NOT NULL
          AND l.phone = $1 AND l.deleted_at IS NULL
        ORDER BY m.sent_at DESC, m.id DESC LIMIT 1
     ), last_updated AS (
       SELECT organization_id, id FROM leads
        WHERE phone = $1 AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM last_sent)
        ORDER BY updated_at DESC, id DESC LIMIT 1
     ), target AS (
       SELECT * FROM last_sent UNION ALL SELECT * FROM last_updated
     )
     UPDATE leads l SET has_replied = true, opted_out = opted_out OR $2, follow_up_step = -1, next_follow_up_at = NULL,
            follow_up_deferred_until = NULL, last_activity_date = $3, version = version + 1, updated_at = $3
       FROM target t
      WHERE l.organization_id = t.organization_id AND l.id = t.id
      RETURNING l.id, l.organization_id`,
    [reply.phone, reply.optOut, reply.now],
  );
  if (!lead) return undefined;
  const inserted = await tx.query(
    `INSERT INTO messages (id, organization_id, lead_id, direction, channel, origin, status, content, from_address, to_address,
                           idempotency_key, provider, provider_message_id, created_at, updated_at)
     VALUES ($1, $2, $3, 'inbound', 'text', 'reply', 'received', $4, $5, $6, 'twilio:' || $7 || ':' || $3, 'twilio', $7, $8, $8)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id`,
    [reply.newId(), lead.organization_id, lead.id, reply.body, reply.phone, reply.to, reply.providerMessageId, reply.now],
  );
  await tx.query(
    `UPDATE messages SET status = 'canceled', next_attempt_at = NULL, last_error = $4, updated_at = $5
      WHERE organization_id = $1 AND lead_id = $2 AND direction = 'outbound'
        AND status IN ('queued', 'failed', 'awaiting_approval')
        AND ($3 OR origin IN ('follow_up', 'call_retry'))`,
    [lead.organization_id, lead.id, reply.optOut, reply.optOut ? 'the lead opted out' : 'the lead replied', reply.now],
  );
  return { ...lead, recorded: inserted.length > 0 };
}

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
}

/**
 * A reply from `phone`: every lead with that number (in whichever organization holds it)
 * stops its cadence and is marked replied, and opted out too for an opt-out keyword. Pending
 * automatic touches are canceled — every pending outbound message on opt-out.
 */
export async function recordReply(
  tx: Queryable,
  reply: { phone: string; to: string; body: string; providerMessageId: string; optOut: boolean; now: Date; newId: () => string },
): Promise<RepliedLead[]> {
  const leads = await tx.query<RepliedLead>(
    `UPDATE leads SET has_replied = true, opted_out = opted_out OR $2, follow_up_step = -1, next_follow_up_at = NULL,
            follow_up_deferred_until = NULL, last_activity_date = $3, version = version + 1, updated_at = $3
      WHERE phone = $1 AND deleted_at IS NULL
      RETURNING id, organization_id`,
    [reply.phone, reply.optOut, reply.now],
  );
  if (leads.length === 0) return leads;
  await tx.query(
    `INSERT INTO messages (id, organization_id, lead_id, direction, channel, origin, status, content, from_address, to_address,
                           idempotency_key, provider, provider_message_id, created_at, updated_at)
     SELECT r.id, r.organization_id, r.lead_id, 'inbound', 'text', 'reply', 'received', $4, $5, $6,
            'twilio:' || $7 || ':' || r.lead_id, 'twilio', $7, $8, $8
       FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, organization_id, lead_id)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [leads.map(() => reply.newId()), leads.map((l) => l.organization_id), leads.map((l) => l.id), reply.body, reply.phone, reply.to, reply.providerMessageId, reply.now],
  );
  await tx.query(
    `UPDATE messages m SET status = 'canceled', next_attempt_at = NULL, last_error = $4, updated_at = $5
       FROM unnest($1::text[], $2::text[]) AS l(organization_id, id)
      WHERE m.organization_id = l.organization_id AND m.lead_id = l.id AND m.direction = 'outbound'
        AND m.status IN ('queued', 'failed', 'awaiting_approval')
        AND ($3 OR m.origin IN ('follow_up', 'call_retry'))`,
    [leads.map((l) => l.organization_id), leads.map((l) => l.id), reply.optOut, reply.optOut ? 'the lead opted out' : 'the lead replied', reply.now],
  );
  return leads;
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import { STOPPED } from '../followups/schedule.ts';
import type { MessageRow, MessageStatus } from '../messages/store.ts';
import type { RepliedLead } from '../replies/store.ts';

/**
 * Applies a carrier status to the message the callback names (by our id when its URL carries
 * it, else by the provider's). Only a sent message moves (sent → delivered, undelivered,
 * no_answer), so a late or repeated callback never rewinds it.
 */
export function applyCarrierStatus(
  tx: Queryable,
  callback: { providerMessageId: string; messageId?: string },
  status: MessageStatus,
  now: Date,
): Promise<MessageRow | undefined> {
  const target = callback.messageId === undefined ? 'provider_message_id = $1' : 'id = $4 AND provider_message_id = $1';
  return maybeOne<MessageRow>(
    tx,
    `UPDATE messages SET status = $2, delivered_at = CASE WHEN $2 = 'delivered' THEN $3 ELSE delivered_at END, updated_at = $3
      WHERE ${target} AND direction = 'outbound' AND status = 'sent' AND $2 <> 'sent'
      RETURNING *`,
    callback.messageId === undefined ? [callback.providerMessageId, status, now] : [callback.providerMessageId, status, now, callback.messageId],
  );
}

/**
 * A final status for a message whose send is not recorded yet (still `sending`): kept on the
 * row, and applied when the worker records the send. False when there is no such message.
 */
export async function holdEarlyCarrierStatus(tx: Queryable, messageId: string, status: MessageStatus, now: Date): Promise<boolean> {
  const held = await tx.query(
    `UPDATE messages SET early_carrier_status = $2, updated_at = $3
      WHERE id = $1 AND direction = 'outbound' AND status = 'sending' RETURNING id`,
    [messageId, status, now],
  );
  return held.length > 0;
}

export interface CampaignRetryContext {
  /** the lead may still be called automatically: contactable, its follow-ups not stopped (a reply stops them), its AI on */
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
    `SELECT (NOT l.opted_out AND l.deleted_at IS NULL AND l.follow_up_step IS DISTINCT FROM ${STOPPED} AND l.is_ai_on) AS lead_reachable,
            c.max_retries, c.retry_interval_minutes, c.timezone,
            c.allowed_hours_start::text AS allowed_hours_start, c.allowed_hours_end::text AS allowed_hours_end, c.allowed_days
       FROM leads l JOIN campaigns c ON c.organization_id = l.organization_id AND c.id = l.campaign_id
      WHERE l.organization_id = $1 AND l.id = $2
      FOR UPDATE OF l`,
    [message.organization_id, message.lead_id],
  );
}

/**
 * A reply from `phone` to the number `to` belongs to ONE lead, of the organizations that send
 * from `to`: the organization whose own number it is, else (the shared TWILIO_FROM) those
 * without a number of their own. Of their live leads with that phone, it is the one most
 * recently sent an outbound message there, else (nothing ever sent) the one most recently
 * updated. Leads of other organizations with the same phone are never touched.
 */
export function findReplyTarget(tx: Queryable, phone: string, to: string): Promise<RepliedLead | undefined> {
  return maybeOne<RepliedLead>(
    tx,
    `WITH sender AS (
       -- $2 when it is an organization's own number, else NULL: the organizations sharing one
       SELECT (SELECT sms_from FROM organizations WHERE sms_from = $2) AS number
     ), last_sent AS (
       SELECT l.organization_id, l.id
         FROM messages m JOIN leads l ON l.organization_id = m.organization_id AND l.id = m.lead_id
         JOIN organizations o ON o.id = l.organization_id
        WHERE m.to_address = $1 AND m.direction = 'outbound' AND m.sent_at IS NOT NULL
          AND l.phone = $1 AND l.deleted_at IS NULL
          AND o.sms_from IS NOT DISTINCT FROM (SELECT number FROM sender)
        ORDER BY m.sent_at DESC, m.id DESC LIMIT 1
     ), last_updated AS (
       SELECT l.organization_id, l.id FROM leads l JOIN organizations o ON o.id = l.organization_id
        WHERE l.phone = $1 AND l.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM last_sent)
          AND o.sms_from IS NOT DISTINCT FROM (SELECT number FROM sender)
        ORDER BY l.updated_at DESC, l.id DESC LIMIT 1
     )
     SELECT * FROM last_sent UNION ALL SELECT * FROM last_updated`,
    [phone, to],
  );
}

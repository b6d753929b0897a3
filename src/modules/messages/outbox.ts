/**
 * The outbox: every outbound message is a row of `messages`, written in the same transaction
 * as the state change that caused it, and delivered later by the worker (src/worker/).
 *
 * Stable interface for other modules: `enqueueOutbound(tx, input)` writes one outbound
 * message for a lead of the organization, addressed to the lead's phone (text, call) or
 * email, from the organization's own sender number if it has one (text, call), `queued` for delivery from `sendAt`. Answers the existing row when the idempotency
 * key was already used, undefined when the lead does not exist.
 */
import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';
import type { FollowUpChannel } from '../followups/schedule.ts';
import type { MessageOrigin, MessageRow } from './store.ts';

export interface OutboundInput {
  organizationId: string;
  leadId: string;
  channel: FollowUpChannel;
  content: string;
  subject?: string | null;
  origin: Exclude<MessageOrigin, 'reply'>;
  /** earliest delivery time, already moved into business hours by the caller when that applies */
  sendAt: Date;
  now: Date;
  /** one key per intended send (default: the new message's id) */
  idempotencyKey?: string;
  followUpStep?: number | null;
  strategyId?: string | null;
  voicemailEnabled?: boolean;
  callAttempt?: number;
  createdBy?: string | null;
}

const LEAD_ADDRESS = `CASE WHEN $4 = 'email' THEN l.email ELSE l.phone END`;
const SENDER_NUMBER = `CASE WHEN $4 = 'email' THEN NULL ELSE o.sms_from END`;

export async function enqueueOutbound(tx: Queryable, input: OutboundInput): Promise<MessageRow | undefined> {
  const id = newId(input.now);
  const key = input.idempotencyKey ?? id;
  const inserted = await maybeOne<MessageRow>(
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
      id, input.organizationId, input.leadId, input.channel, input.origin, input.subject ?? null, input.content,
      input.followUpStep ?? null, input.strategyId ?? null, input.voicemailEnabled ?? false, input.callAttempt ?? 1, key, input.sendAt,
      input.createdBy ?? null, input.now,
    ],
  );
  if (inserted) return inserted;
  return maybeOne<MessageRow>(tx, `SELECT * FROM messages WHERE organization_id = $1 AND idempotency_key = $2`, [input.organizationId, key]);
}

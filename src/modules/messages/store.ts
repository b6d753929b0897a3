import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';
import type { FollowUpChannel } from '../followups/schedule.ts';

export type MessageStatus =
  | 'awaiting_approval'
  | 'queued'
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
  'awaiting_approval', 'queued', 'failed', 'dead', 'sent', 'delivered', 'undelivered', 'no_answer', 'skipped', 'canceled', 'received',
];

export type MessageOrigin = 'follow_up' | 'manual' | 'first_message' | 'call_retry' | 'reply';

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
  created_at: Date;
  updated_at: Date;
}

export function listLeadMessages(db: Queryable, organizationId: string, leadId: string): Promise<MessageRow[]> {
  return db.query<MessageRow>(
    `SELECT * FROM messages WHERE organization_id = $1 AND lead_id = $2 ORDER BY created_at, id`,
    [organizationId, leadId],
  );
}

/** Newest first, keyset-paged on (created_at, id). */
export function listMessages(
  db: Queryable,
  organizationId: string,
  filter: { status?: MessageStatus; before?: { createdAt: Date; id: string }; limit: number },
): Promise<MessageRow[]> {
  return db.query<MessageRow>(
    `SELECT * FROM messages
      WHERE organization_id = $1
        AND ($2::text IS NULL OR status = $2)
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
      ORDER BY created_at DESC, id DESC LIMIT $5`,
    [organizationId, filter.status ?? null, filter.before?.createdAt ?? null, filter.before?.id ?? null, filter.limit],
  );
}

export function findMessage(db: Queryable, organizationId: string, id: string): Promise<MessageRow | undefined> {
  return maybeOne<MessageRow>(db, `SELECT * FROM messages WHERE organization_id = $1 AND id = $2`, [organizationId, id]);
}

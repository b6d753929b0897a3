import { insertRecords } from '../../db/bulk.ts';
import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected';

export interface ApprovalRow {
  id: string;
  organization_id: string;
  lead_id: string;
  configuration_id: string | null;
  purpose: string;
  channel: 'text' | 'email';
  content: string;
  composed_by: 'ai' | 'template';
  trace_id: string | null;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_at: Date | null;
  message_id: string | null;
  created_at: Date;
}

/** A new item is pending and undecided: the decision columns start empty. */
export type NewApproval = Omit<ApprovalRow, 'status' | 'decided_by' | 'decided_at' | 'message_id'>;

export async function insertApprovals(db: Queryable, approvals: NewApproval[]): Promise<void> {
  await insertRecords(
    db,
    'approvals',
    { id: 'text', organization_id: 'text', lead_id: 'text', configuration_id: 'text', purpose: 'text', channel: 'text', content: 'text', composed_by: 'text', trace_id: 'text', created_at: 'timestamptz' },
    approvals,
  );
}

/** An approval is seen and decided only while its lead lives: a deleted lead's are gone with it. */
const OF_LIVE_LEAD = `EXISTS (SELECT 1 FROM leads l WHERE l.organization_id = approvals.organization_id AND l.id = approvals.lead_id AND l.deleted_at IS NULL)`;

export function findApproval(db: Queryable, organizationId: string, id: string): Promise<ApprovalRow | undefined> {
  return maybeOne<ApprovalRow>(db, `SELECT * FROM approvals WHERE organization_id = $1 AND id = $2 AND ${OF_LIVE_LEAD}`, [organizationId, id]);
}

/** Oldest first (the queue's order), keyset-paged on (created_at, id). */
export function listApprovals(
  db: Queryable,
  organizationId: string,
  filter: { status?: ApprovalStatus; leadId?: string; after?: { createdAt: Date; id: string }; limit: number },
): Promise<ApprovalRow[]> {
  return db.query<ApprovalRow>(
    `SELECT * FROM approvals
      WHERE organization_id = $1
        AND ($2::text IS NULL OR status = $2)
        AND ($3::text IS NULL OR lead_id = $3)
        AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5))
        AND ${OF_LIVE_LEAD}
      ORDER BY created_at, id
      LIMIT $6`,
    [organizationId, filter.status ?? null, filter.leadId ?? null, filter.after?.createdAt ?? null, filter.after?.id ?? '', filter.limit],
  );
}

/**
 * The one statement that decides a pending item: only a pending row changes, so of two
 * concurrent approvals (or an approval racing a rejection) exactly one wins.
 */
export function decidePending(
  db: Queryable,
  organizationId: string,
  id: string,
  decision: { status: 'approved' | 'rejected'; userId: string; content?: string; now: Date },
): Promise<ApprovalRow | undefined> {
  return maybeOne<ApprovalRow>(
    db,
    `UPDATE approvals SET status = $3, decided_by = $4, decided_at = $5, content = COALESCE($6, content)
      WHERE organization_id = $1 AND id = $2 AND status = 'pending' AND ${OF_LIVE_LEAD} RETURNING *`,
    [organizationId, id, decision.status, decision.userId, decision.now, decision.content ?? null],
  );
}

export async function linkMessage(db: Queryable, organizationId: string, id: string, messageId: string): Promise<void> {
  await db.query(`UPDATE approvals SET message_id = $3 WHERE organization_id = $1 AND id = $2`, [organizationId, id, messageId]);
}

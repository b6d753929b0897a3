import type { Queryable } from '../../db/database.ts';
import type { LeadRow } from '../../modules/leads/store.ts';

export interface OwnedLeadFilters {
  status?: string;
  campaignSeq?: number;
  phoneContains?: string;
}

export type LeadWithCampaignNumber = LeadRow & { campaign_seq: string | number | null; total: string | number };

/**
 * One numbered page of the caller's live leads, oldest first, each with its campaign's
 * integer id and the filtered total (Laravel paginators report it).
 */
export function listOwnedLeadPage(
  db: Queryable,
  organizationId: string,
  ownerId: string,
  filters: OwnedLeadFilters,
  page: number,
  perPage: number,
): Promise<LeadWithCampaignNumber[]> {
  return db.query<LeadWithCampaignNumber>(
    `SELECT l.*, NULL::text AS stage_name, c.seq AS campaign_seq, count(*) OVER () AS total
       FROM leads l LEFT JOIN campaigns c ON c.organization_id = l.organization_id AND c.id = l.campaign_id
      WHERE l.organization_id = $1 AND l.owner_id = $2 AND l.deleted_at IS NULL
        AND ($3::text IS NULL OR l.status = $3)
        AND ($4::bigint IS NULL OR c.seq = $4)
        AND ($5::text IS NULL OR l.phone LIKE $5)
      ORDER BY l.seq
      LIMIT $6 OFFSET $7`,
    [
      organizationId,
      ownerId,
      filters.status ?? null,
      filters.campaignSeq ?? null,
      filters.phoneContains === undefined ? null : `%${filters.phoneContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      perPage,
      (page - 1) * perPage,
    ],
  );
}

/** The total alone, for a page past the end (it has no rows to carry the window count). */
export async function countOwnedLeads(db: Queryable, organizationId: string, ownerId: string, filters: OwnedLeadFilters): Promise<number> {
  const rows = await listOwnedLeadPage(db, organizationId, ownerId, filters, 1, 1);
  return rows.length === 0 ? 0 : Number(rows[0].total);
}

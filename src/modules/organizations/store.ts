import type { Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';

export interface OrganizationRow {
  id: string;
  name: string;
  timezone: string;
  default_country: string;
  send_window_start: string;
  send_window_end: string;
  send_days: number[];
  long_term_interval_hours: number;
  email_enabled: boolean;
  default_follow_up_config: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
}

export function insertOrganization(db: Queryable, org: { id: string; name: string; defaultCountry: string }): Promise<OrganizationRow> {
  return one<OrganizationRow>(db, `INSERT INTO organizations (id, name, default_country) VALUES ($1, $2, $3) RETURNING *`, [
    org.id,
    org.name,
    org.defaultCountry,
  ]);
}

export function findOrganization(db: Queryable, id: string): Promise<OrganizationRow | undefined> {
  return maybeOne<OrganizationRow>(db, `SELECT * FROM organizations WHERE id = $1`, [id]);
}

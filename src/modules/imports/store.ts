import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';

/**
 * The operator's `openlead import` names a configuration by id alone: the one lookup here not
 * scoped by an organization, because the configuration is what tells us the organization.
 */
export async function organizationOfConfiguration(db: Queryable, configurationId: string): Promise<string | undefined> {
  const row = await maybeOne<{ organization_id: string }>(db, `SELECT organization_id FROM lead_management_configs WHERE id = $1`, [
    configurationId,
  ]);
  return row?.organization_id;
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';

export interface PromptRow {
  id: string;
  organization_id: string;
  user_id: string;
  name: string;
  content: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

export function insertPrompt(
  db: Queryable,
  prompt: { id: string; organizationId: string; userId: string; name: string; content: string; description: string | null; now: Date },
): Promise<PromptRow> {
  return one<PromptRow>(
    db,
    `INSERT INTO prompts (id, organization_id, user_id, name, content, description, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *`,
    [prompt.id, prompt.organizationId, prompt.userId, prompt.name, prompt.content, prompt.description, prompt.now],
  );
}

export function findPrompt(db: Queryable, organizationId: string, id: string): Promise<PromptRow | undefined> {
  return maybeOne<PromptRow>(db, `SELECT * FROM prompts WHERE organization_id = $1 AND id = $2`, [organizationId, id]);
}

export function listPrompts(db: Queryable, organizationId: string): Promise<PromptRow[]> {
  return db.query<PromptRow>(`SELECT * FROM prompts WHERE organization_id = $1 ORDER BY created_at, id`, [organizationId]);
}

/** Changes only the fields given (undefined leaves a column as it is). */
export function updatePrompt(
  db: Queryable,
  organizationId: string,
  id: string,
  changes: { name?: string; content?: string; description?: string | null },
  now: Date,
): Promise<PromptRow | undefined> {
  return maybeOne<PromptRow>(
    db,
    `UPDATE prompts SET
       name = CASE WHEN $3::boolean THEN $4 ELSE name END,
       content = CASE WHEN $5::boolean THEN $6 ELSE content END,
       description = CASE WHEN $7::boolean THEN $8 ELSE description END,
       updated_at = $9
     WHERE organization_id = $1 AND id = $2 RETURNING *`,
    [
      organizationId,
      id,
      changes.name !== undefined,
      changes.name ?? null,
      changes.content !== undefined,
      changes.content ?? null,
      changes.description !== undefined,
      changes.description ?? null,
      now,
    ],
  );
}

/**
 * Deletes the prompt unless a lead-management configuration uses it, in one statement: the
 * answer names the first such configuration, or says whether a row was deleted.
 */
export async function deletePromptUnlessUsed(
  db: Queryable,
  organizationId: string,
  id: string,
): Promise<{ deleted: boolean; usedBy?: string }> {
  const row = await one<{ used_by: string | null; deleted: number }>(
    db,
    `WITH used AS (
       SELECT configuration_name FROM lead_management_configs
        WHERE organization_id = $1 AND default_process_id = $2 ORDER BY created_at LIMIT 1
     ), removed AS (
       DELETE FROM prompts WHERE organization_id = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM used) RETURNING id
     )
     SELECT (SELECT configuration_name FROM used) AS used_by, (SELECT count(*) FROM removed)::int AS deleted`,
    [organizationId, id],
  );
  return { deleted: row.deleted > 0, usedBy: row.used_by ?? undefined };
}

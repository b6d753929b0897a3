import type { Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';
import type { StagePlan } from './rules.ts';

export type PipelineType = 'Contact' | 'Application';

export interface StageRow {
  id: string;
  pipeline_id: string;
  name: string;
  color: string | null;
  position: number;
}

export interface PipelineRow {
  id: string;
  organization_id: string;
  name: string;
  type: PipelineType;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
  stages: StageRow[];
}

export interface StageInput {
  name: string;
  color?: string | null;
}

// A pipeline is read with its ordered stages aggregated in the same statement.
const SELECT_PIPELINE = `
  SELECT p.*, COALESCE(
    (SELECT json_agg(json_build_object('id', s.id, 'pipeline_id', s.pipeline_id, 'name', s.name,
                                       'color', s.color, 'position', s.position) ORDER BY s.position)
       FROM pipeline_stages s WHERE s.organization_id = p.organization_id AND s.pipeline_id = p.id), '[]') AS stages
  FROM pipelines p`;

/** `now` (the app clock) stamps the rows and their ids; without it the database's clock does. */
export async function insertPipeline(
  db: Queryable,
  organizationId: string,
  pipeline: { name: string; type: PipelineType; isDefault?: boolean; stages: StageInput[]; now?: Date },
): Promise<PipelineRow> {
  const id = newId(pipeline.now);
  await db.query(
    `INSERT INTO pipelines (id, organization_id, name, type, is_default, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, COALESCE($6, now()), COALESCE($6, now()))`,
    [id, organizationId, pipeline.name, pipeline.type, pipeline.isDefault ?? false, pipeline.now ?? null],
  );
  await insertStages(
    db,
    organizationId,
    id,
    pipeline.stages.map((stage, position) => ({ name: stage.name, color: stage.color ?? null, position })),
    pipeline.now,
  );
  return (await findPipeline(db, organizationId, id))!;
}

/** Answers the new stages' ids, in the order given. */
export async function insertStages(
  db: Queryable,
  organizationId: string,
  pipelineId: string,
  stages: { name: string; color: string | null; position: number }[],
  now?: Date,
): Promise<string[]> {
  if (stages.length === 0) return [];
  const ids = stages.map(() => newId(now));
  await db.query(
    `INSERT INTO pipeline_stages (id, organization_id, pipeline_id, name, color, position)
     SELECT s.id, $1, $2, s.name, s.color, s.position
       FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS s(id, name, color, position)`,
    [
      organizationId,
      pipelineId,
      ids,
      stages.map((s) => s.name),
      stages.map((s) => s.color),
      stages.map((s) => s.position),
    ],
  );
  return ids;
}

export async function findPipeline(db: Queryable, organizationId: string, id: string): Promise<PipelineRow | undefined> {
  const rows = await db.query<PipelineRow>(`${SELECT_PIPELINE} WHERE p.organization_id = $1 AND p.id = $2`, [organizationId, id]);
  return rows[0];
}

export async function findDefaultPipeline(db: Queryable, organizationId: string, type: PipelineType): Promise<PipelineRow | undefined> {
  const rows = await db.query<PipelineRow>(`${SELECT_PIPELINE} WHERE p.organization_id = $1 AND p.type = $2 AND p.is_default`, [
    organizationId,
    type,
  ]);
  return rows[0];
}

export async function findPipelineOfStage(db: Queryable, organizationId: string, stageId: string): Promise<PipelineRow | undefined> {
  const rows = await db.query<PipelineRow>(
    `${SELECT_PIPELINE} WHERE p.organization_id = $1
        AND p.id = (SELECT pipeline_id FROM pipeline_stages WHERE organization_id = $1 AND id = $2)`,
    [organizationId, stageId],
  );
  return rows[0];
}

export function listPipelines(db: Queryable, organizationId: string): Promise<PipelineRow[]> {
  return db.query<PipelineRow>(`${SELECT_PIPELINE} WHERE p.organization_id = $1 ORDER BY p.created_at, p.id`, [organizationId]);
}

/**
 * Takes the pipeline's row lock, so concurrent edits of one pipeline's stages apply one after
 * the other, and reads it (in a second statement, whose snapshot sees what the previous
 * holder committed). NO KEY UPDATE: leads written into the pipeline meanwhile (their foreign
 * key takes KEY SHARE) neither wait for the edit nor deadlock with it.
 */
export async function lockPipeline(db: Queryable, organizationId: string, id: string): Promise<PipelineRow | undefined> {
  const locked = await maybeOne(db, `SELECT id FROM pipelines WHERE organization_id = $1 AND id = $2 FOR NO KEY UPDATE`, [organizationId, id]);
  return locked ? findPipeline(db, organizationId, id) : undefined;
}

/** The id of a stage of the organization's pipeline of a vendor dialect, by name in any case. */
export function findDialectStage(db: Queryable, organizationId: string, dialect: string, name: string): Promise<{ id: string } | undefined> {
  return maybeOne<{ id: string }>(
    db,
    `SELECT s.id FROM pipelines p JOIN pipeline_stages s ON s.organization_id = p.organization_id AND s.pipeline_id = p.id
      WHERE p.organization_id = $1 AND p.dialect = $2 AND lower(s.name) = lower($3) ORDER BY s.position LIMIT 1`,
    [organizationId, dialect, name],
  );
}

/**
 * The id of the organization's pipeline of a vendor dialect (at most one, by a unique index),
 * locked as lockPipeline locks it, inserting it with its stages when there is none;
 * undefined when it was deleted meanwhile.
 */
export async function lockOrInsertDialectPipeline(
  db: Queryable,
  organizationId: string,
  pipeline: { dialect: string; name: string; stages: string[]; now: Date },
): Promise<string | undefined> {
  const created = await maybeOne<{ id: string }>(
    db,
    `INSERT INTO pipelines (id, organization_id, name, type, dialect, created_at, updated_at)
     VALUES ($1, $2, $3, 'Contact', $4, $5, $5)
     ON CONFLICT (organization_id, dialect) WHERE dialect IS NOT NULL DO NOTHING RETURNING id`,
    [newId(pipeline.now), organizationId, pipeline.name, pipeline.dialect, pipeline.now],
  );
  if (created) {
    await insertStages(db, organizationId, created.id, pipeline.stages.map((name, position) => ({ name, color: null, position })), pipeline.now);
    return created.id;
  }
  // it existed, or a concurrent insert won (ours waited for its commit): a new statement sees it
  const locked = await maybeOne<{ id: string }>(
    db,
    `SELECT id FROM pipelines WHERE organization_id = $1 AND dialect = $2 FOR NO KEY UPDATE`,
    [organizationId, pipeline.dialect],
  );
  return locked?.id;
}

/** What still points at some stages: the first configuration (by name), and whether any lead or application does. */
export async function findStageUsage(
  db: Queryable,
  organizationId: string,
  stageIds: string[],
): Promise<{ configurationName: string | null; usedByRecords: boolean }> {
  const row = await one<{ configuration_name: string | null; used_by_records: boolean }>(
    db,
    `SELECT
       (SELECT configuration_name FROM lead_management_configs
         WHERE organization_id = $1
           AND (initial_stage_id = ANY($2) OR pipeline_stage_id = ANY($2) OR application_pipeline_stage_id = ANY($2))
         ORDER BY created_at, id LIMIT 1) AS configuration_name,
       (EXISTS (SELECT 1 FROM leads WHERE organization_id = $1 AND stage_id = ANY($2))
        OR EXISTS (SELECT 1 FROM applications WHERE organization_id = $1 AND stage_id = ANY($2))) AS used_by_records`,
    [organizationId, stageIds],
  );
  return { configurationName: row.configuration_name, usedByRecords: row.used_by_records };
}

/** Applies a stage plan: removes, renames/moves and adds, then stamps the pipeline. */
export async function applyStagePlan(db: Queryable, organizationId: string, pipelineId: string, plan: StagePlan, now: Date): Promise<void> {
  if (plan.removed.length > 0) {
    await db.query(`DELETE FROM pipeline_stages WHERE organization_id = $1 AND pipeline_id = $2 AND id = ANY($3)`, [
      organizationId,
      pipelineId,
      plan.removed,
    ]);
  }
  if (plan.kept.length > 0) {
    await db.query(
      `UPDATE pipeline_stages s SET name = k.name, color = k.color, position = k.position
         FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS k(id, name, color, position)
        WHERE s.organization_id = $1 AND s.pipeline_id = $2 AND s.id = k.id`,
      [
        organizationId,
        pipelineId,
        plan.kept.map((s) => s.id),
        plan.kept.map((s) => s.name),
        plan.kept.map((s) => s.color),
        plan.kept.map((s) => s.position),
      ],
    );
  }
  await insertStages(db, organizationId, pipelineId, plan.added, now);
}

export async function updatePipelineRow(
  db: Queryable,
  organizationId: string,
  id: string,
  changes: { name?: string; makeDefault: boolean },
  now: Date,
): Promise<void> {
  await db.query(
    `UPDATE pipelines SET
       name = COALESCE($3, name),
       is_default = is_default OR $4,
       updated_at = $5
     WHERE organization_id = $1 AND id = $2`,
    [organizationId, id, changes.name ?? null, changes.makeDefault, now],
  );
}

/** Clears the current default of a type (except `keepId`), before another pipeline becomes the default. */
export async function clearDefaultPipeline(db: Queryable, organizationId: string, type: PipelineType, keepId: string | null, now: Date): Promise<void> {
  await db.query(
    `UPDATE pipelines SET is_default = false, updated_at = $4
      WHERE organization_id = $1 AND type = $2 AND is_default AND id IS DISTINCT FROM $3`,
    [organizationId, type, keepId, now],
  );
}

export type PipelineDeletion =
  | { outcome: 'deleted' }
  | { outcome: 'missing' }
  | { outcome: 'default' }
  | { outcome: 'usedByConfiguration'; configurationName: string }
  | { outcome: 'usedByRecords' };

/**
 * Deletes the pipeline (its stages cascade) unless it is a default, or a configuration, a
 * lead or an application uses it or one of its stages, in one statement that also says
 * which refusal applies.
 */
export async function deletePipelineUnlessUsed(db: Queryable, organizationId: string, id: string): Promise<PipelineDeletion> {
  const row = await one<{ found: boolean; is_default: boolean; used_by: string | null; used_by_records: boolean; deleted: boolean }>(
    db,
    `WITH target AS (
       SELECT id, is_default FROM pipelines WHERE organization_id = $1 AND id = $2
     ), stages AS (
       SELECT id FROM pipeline_stages WHERE organization_id = $1 AND pipeline_id = $2
     ), used AS (
       SELECT configuration_name FROM lead_management_configs
        WHERE organization_id = $1
          AND (pipeline_id = $2 OR application_pipeline_id = $2
               OR initial_stage_id IN (SELECT id FROM stages)
               OR pipeline_stage_id IN (SELECT id FROM stages)
               OR application_pipeline_stage_id IN (SELECT id FROM stages))
        ORDER BY created_at, id LIMIT 1
     ), used_by_records AS (
       SELECT EXISTS (SELECT 1 FROM leads WHERE organization_id = $1
                        AND (pipeline_id = $2 OR stage_id IN (SELECT id FROM stages)))
           OR EXISTS (SELECT 1 FROM applications WHERE organization_id = $1
                        AND (pipeline_id = $2 OR stage_id IN (SELECT id FROM stages))) AS used
     ), removed AS (
       DELETE FROM pipelines WHERE organization_id = $1 AND id = $2 AND NOT is_default
          AND NOT EXISTS (SELECT 1 FROM used) AND NOT (SELECT used FROM used_by_records)
       RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM target) AS found,
            COALESCE((SELECT is_default FROM target), false) AS is_default,
            (SELECT configuration_name FROM used) AS used_by,
            (SELECT used FROM used_by_records) AS used_by_records,
            EXISTS (SELECT 1 FROM removed) AS deleted`,
    [organizationId, id],
  );
  if (row.deleted) return { outcome: 'deleted' };
  if (!row.found) return { outcome: 'missing' };
  if (row.is_default) return { outcome: 'default' };
  if (row.used_by !== null) return { outcome: 'usedByConfiguration', configurationName: row.used_by };
  return { outcome: 'usedByRecords' };
}

/** The stages every new organization's default Contact pipeline starts with. */
export const DEFAULT_CONTACT_STAGES: StageInput[] = [
  { name: 'New Lead', color: '#3b82f6' },
  { name: 'Contacted', color: '#8b5cf6' },
  { name: 'Engaged', color: '#f59e0b' },
  { name: 'Qualified', color: '#10b981' },
  { name: 'Won', color: '#22c55e' },
  { name: 'Lost', color: '#ef4444' },
];

/** The stages a new Application pipeline starts with when none are given. */
export const DEFAULT_APPLICATION_STAGES: StageInput[] = [
  { name: 'Submitted', color: '#3b82f6' },
  { name: 'In Review', color: '#f59e0b' },
  { name: 'Approved', color: '#22c55e' },
  { name: 'Declined', color: '#ef4444' },
];

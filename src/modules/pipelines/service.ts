import type { AppContext } from '../../context.ts';
import { isForeignKeyViolation, isUniqueViolation, type Queryable } from '../../db/database.ts';
import { badRequest, conflict, invalidField, notFound } from '../../http/errors.ts';
import { isId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { assertUniqueStageNames, findStage, planStages } from './rules.ts';
import {
  applyStagePlan,
  clearDefaultPipeline,
  DEFAULT_APPLICATION_STAGES,
  DEFAULT_CONTACT_STAGES,
  deletePipelineUnlessUsed,
  findDialectStage,
  findPipeline,
  findStageUsage,
  insertPipeline,
  insertStages,
  lockOrInsertDialectPipeline,
  lockPipeline,
  updatePipelineRow,
  type PipelineRow,
  type PipelineType,
  type StageInput,
} from './store.ts';

export const PIPELINE_NOT_FOUND = 'Pipeline not found';

export function toPipelineDto(row: PipelineRow) {
  return {
    _id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    type: row.type,
    isDefault: row.is_default,
    stages: row.stages.map((stage) => ({ _id: stage.id, name: stage.name, color: stage.color })),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Two requests making different pipelines the default at once: the loser is told to retry. */
function defaultRace(error: unknown): never {
  if (isUniqueViolation(error, 'pipelines_default_key')) throw conflict('Another pipeline became the default at the same time; try again');
  throw error;
}

export async function createPipeline(
  ctx: AppContext,
  principal: Principal,
  input: { name: string; type: PipelineType; isDefault?: boolean; stages?: StageInput[] },
): Promise<PipelineRow> {
  const stages = input.stages ?? (input.type === 'Contact' ? DEFAULT_CONTACT_STAGES : DEFAULT_APPLICATION_STAGES);
  assertUniqueStageNames(stages);
  const now = ctx.clock.now();
  return ctx.db
    .transaction(async (tx) => {
      if (input.isDefault) await clearDefaultPipeline(tx, principal.organizationId, input.type, null, now);
      return insertPipeline(tx, principal.organizationId, {
        name: input.name.trim(),
        type: input.type,
        isDefault: input.isDefault ?? false,
        stages: stages.map((stage) => ({ name: stage.name.trim(), color: stage.color ?? null })),
        now,
      });
    })
    .catch(defaultRace);
}

export async function getPipeline(ctx: AppContext, principal: Principal, id: string): Promise<PipelineRow> {
  const pipeline = isId(id) ? await findPipeline(ctx.db, principal.organizationId, id) : undefined;
  if (!pipeline) throw notFound(PIPELINE_NOT_FOUND);
  return pipeline;
}

function stageInUseError(usage: { configurationName: string | null }): never {
  if (usage.configurationName !== null) {
    throw invalidField('stages', `cannot drop a stage used by lead management configuration "${usage.configurationName}"`);
  }
  throw invalidField('stages', 'cannot drop a stage that leads or applications are in; move them first');
}

export async function changePipeline(
  ctx: AppContext,
  principal: Principal,
  id: string,
  changes: { name?: string; isDefault?: boolean; stages?: { _id?: string; name: string; color?: string | null }[] },
): Promise<PipelineRow> {
  if (!isId(id)) throw notFound(PIPELINE_NOT_FOUND);
  const { organizationId } = principal;
  const now = ctx.clock.now();
  return ctx.db
    .transaction(async (tx) => {
      const pipeline = await lockPipeline(tx, organizationId, id);
      if (!pipeline) throw notFound(PIPELINE_NOT_FOUND);
      if (changes.isDefault === false && pipeline.is_default) {
        throw invalidField('isDefault', 'cannot be cleared; make another pipeline the default instead');
      }
      if (changes.stages) {
        const plan = planStages(pipeline.stages, changes.stages);
        if (plan.removed.length > 0) {
          const usage = await findStageUsage(tx, organizationId, plan.removed);
          if (usage.configurationName !== null || usage.usedByRecords) stageInUseError(usage);
        }
        await applyStagePlan(tx, organizationId, id, plan, now);
      }
      const makeDefault = changes.isDefault === true && !pipeline.is_default;
      if (makeDefault) await clearDefaultPipeline(tx, organizationId, pipeline.type, id, now);
      await updatePipelineRow(tx, organizationId, id, { name: changes.name?.trim(), makeDefault }, now);
      return (await findPipeline(tx, organizationId, id))!;
    })
    .catch((error: unknown) => {
      // a lead or application moved into a dropped stage between the check and the delete
      if (isForeignKeyViolation(error)) stageInUseError({ configurationName: null });
      return defaultRace(error);
    });
}

const pipelineInUseByRecords = () => badRequest('Pipeline is in use by leads or applications and cannot be deleted');

export async function removePipeline(ctx: AppContext, principal: Principal, id: string): Promise<void> {
  if (!isId(id)) throw notFound(PIPELINE_NOT_FOUND);
  const result = await deletePipelineUnlessUsed(ctx.db, principal.organizationId, id).catch((error: unknown) => {
    // a lead or application entered the pipeline between the statement's check and its delete
    if (isForeignKeyViolation(error)) throw pipelineInUseByRecords();
    throw error;
  });
  switch (result.outcome) {
    case 'deleted':
      return;
    case 'missing':
      throw notFound(PIPELINE_NOT_FOUND);
    case 'default':
      throw badRequest('The default pipeline cannot be deleted; make another pipeline the default first');
    case 'usedByConfiguration':
      throw badRequest(`Pipeline is in use by lead management configuration "${result.configurationName}" and cannot be deleted`);
    case 'usedByRecords':
      throw pipelineInUseByRecords();
  }
}

/**
 * The id of the stage named `stage` (any case) of the organization's pipeline of a vendor
 * dialect, which is made with all of `pipeline.stages` on first use; a stage someone removed
 * is added back at the end. It writes in the caller's transaction, so what it makes stays
 * only if the caller's write does: a refused request leaves no pipeline or stage behind.
 * Making takes the pipeline's lock and looks again under it, as every stage edit does, so
 * concurrent first uses make each stage once.
 */
export async function dialectStageId(
  ctx: AppContext,
  tx: Queryable,
  organizationId: string,
  pipeline: { dialect: string; name: string; stages: string[] },
  stage: string,
): Promise<string> {
  const found = await findDialectStage(tx, organizationId, pipeline.dialect, stage);
  if (found) return found.id;
  const now = ctx.clock.now();
  const pipelineId = await lockOrInsertDialectPipeline(tx, organizationId, { ...pipeline, now });
  const locked = pipelineId === undefined ? undefined : await findPipeline(tx, organizationId, pipelineId);
  if (!locked) throw conflict(`The ${pipeline.name} pipeline was deleted at the same time; try again`);
  const existing = findStage(locked.stages, stage);
  if (existing) return existing.id;
  const position = Math.max(-1, ...locked.stages.map((row) => row.position)) + 1;
  const [id] = await insertStages(tx, organizationId, locked.id, [{ name: stage, color: null, position }], now);
  return id;
}

import { invalidField } from '../../http/errors.ts';

export interface ExistingStage {
  id: string;
  name: string;
}

export interface RequestedStage {
  _id?: string;
  name: string;
  color?: string | null;
}

/** What a requested ordered stage list does to a pipeline's stages. */
export interface StagePlan {
  /** stages that stay (possibly renamed, recoloured, moved), with their new position */
  kept: { id: string; name: string; color: string | null; position: number }[];
  /** stages to create, with their position */
  added: { name: string; color: string | null; position: number }[];
  /** ids of stages that are no longer listed */
  removed: string[];
}

/** Stage names are matched case-insensitively (a configuration may name a stage), so they must be unique that way. */
export function assertUniqueStageNames(stages: { name: string }[]): void {
  const seen = new Set<string>();
  stages.forEach((stage, index) => {
    const key = stage.name.trim().toLowerCase();
    if (seen.has(key)) throw invalidField(`stages.${index}.name`, `"${stage.name}" is used by another stage of this pipeline`);
    seen.add(key);
  });
}

/**
 * The requested list is the whole ordered list of stages: an entry with an `_id` keeps that
 * stage (so leads and configurations pointing at it keep working through renames and
 * reordering), an entry without one adds a stage, and an existing stage left out is removed.
 */
export function planStages(existing: ExistingStage[], requested: RequestedStage[]): StagePlan {
  assertUniqueStageNames(requested);
  const existingIds = new Set(existing.map((stage) => stage.id));
  const listed = new Set<string>();
  const plan: StagePlan = { kept: [], added: [], removed: [] };
  requested.forEach((stage, position) => {
    const name = stage.name.trim();
    const color = stage.color ?? null;
    if (stage._id === undefined) {
      plan.added.push({ name, color, position });
      return;
    }
    if (!existingIds.has(stage._id)) throw invalidField(`stages.${position}._id`, 'is not a stage of this pipeline');
    if (listed.has(stage._id)) throw invalidField(`stages.${position}._id`, 'is listed more than once');
    listed.add(stage._id);
    plan.kept.push({ id: stage._id, name, color, position });
  });
  plan.removed = existing.filter((stage) => !listed.has(stage.id)).map((stage) => stage.id);
  return plan;
}

/** A stage chosen by `_id` or by name (case-insensitive), the way configurations refer to stages. */
export function findStage<T extends ExistingStage>(stages: T[], idOrName: string): T | undefined {
  const wanted = idOrName.trim().toLowerCase();
  return stages.find((stage) => stage.id === idOrName) ?? stages.find((stage) => stage.name.toLowerCase() === wanted);
}

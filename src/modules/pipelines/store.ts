import type { Queryable } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';

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
       FROM pipeline_stages s WHERE s.pipeline_id = p.id), '[]') AS stages
  FROM pipelines p`;

export async function insertPipeline(
  db: Queryable,
  organizationId: string,
  pipeline: { name: string; type: PipelineType; isDefault?: boolean; stages: StageInput[] },
): Promise<PipelineRow> {
  const id = newId();
  await db.query(`INSERT INTO pipelines (id, organization_id, name, type, is_default) VALUES ($1, $2, $3, $4, $5)`, [
    id,
    organizationId,
    pipeline.name,
    pipeline.type,
    pipeline.isDefault ?? false,
  ]);
  await insertStages(db, organizationId, id, pipeline.stages);
  return (await findPipeline(db, organizationId, id))!;
}

export async function insertStages(db: Queryable, organizationId: string, pipelineId: string, stages: StageInput[]): Promise<void> {
  if (stages.length === 0) return;
  await db.query(
    `INSERT INTO pipeline_stages (id, organization_id, pipeline_id, name, color, position)
     SELECT s.id, $1, $2, s.name, s.color, s.position
       FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS s(id, name, color, position)`,
    [
      organizationId,
      pipelineId,
      stages.map(() => newId()),
      stages.map((s) => s.name),
      stages.map((s) => s.color ?? null),
      stages.map((_, i) => i),
    ],
  );
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

export function listPipelines(db: Queryable, organizationId: string): Promise<PipelineRow[]> {
  return db.query<PipelineRow>(`${SELECT_PIPELINE} WHERE p.organization_id = $1 ORDER BY p.created_at, p.id`, [organizationId]);
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

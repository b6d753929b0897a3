import type { AppContext } from '../../context.ts';
import { maybeOne } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';
import { insertStages } from '../../modules/pipelines/store.ts';

/**
 * Convocore's `metaData.stage` is one of 13 fixed CRM stages. Each maps onto a real stage of
 * a dedicated "Convocore" pipeline of the organization (created with all 13 on first use),
 * so a stage set through Convocore moves the lead like any stage change: stage history,
 * heat score and metrics see it.
 */
export const CONVOCORE_STAGES = {
  new: 'New',
  engaged: 'Engaged',
  email_sent: 'Email Sent',
  follow_up: 'Follow Up',
  info_req: 'Info Requested',
  demo_req: 'Demo Requested',
  demo_conf: 'Demo Confirmed',
  demo_done: 'Demo Done',
  proposal: 'Proposal',
  negotiation: 'Negotiation',
  trial: 'Trial',
  won: 'Won',
  lost: 'Lost',
} as const;
export type ConvocoreStage = keyof typeof CONVOCORE_STAGES;

const STAGE_OF_NAME = new Map<string, ConvocoreStage>([
  ...Object.entries(CONVOCORE_STAGES).map(([stage, name]) => [name.toLowerCase(), stage as ConvocoreStage] as const),
  // the default pipeline's entry stage
  ['new lead', 'new'],
]);

/** The Convocore stage a lead's stage reads as, by name, whatever pipeline it is in. */
export function convocoreStageOf(stageName: string | null): ConvocoreStage | undefined {
  return stageName === null ? undefined : STAGE_OF_NAME.get(stageName.trim().toLowerCase());
}

const DIALECT = 'convocore';

function findStageId(ctx: AppContext, organizationId: string, name: string) {
  return maybeOne<{ id: string }>(
    ctx.db,
    `SELECT s.id FROM pipelines p JOIN pipeline_stages s ON s.organization_id = p.organization_id AND s.pipeline_id = p.id
      WHERE p.organization_id = $1 AND p.dialect = $2 AND s.name = $3 ORDER BY s.position LIMIT 1`,
    [organizationId, DIALECT, name],
  );
}

/** The id of the real stage behind a Convocore stage, creating the pipeline (or a stage someone removed) when missing. */
export async function stageIdFor(ctx: AppContext, organizationId: string, stage: ConvocoreStage): Promise<string> {
  const name = CONVOCORE_STAGES[stage];
  const found = await findStageId(ctx, organizationId, name);
  if (found) return found.id;
  await ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const created = await maybeOne<{ id: string }>(
      tx,
      `INSERT INTO pipelines (id, organization_id, name, type, dialect, created_at, updated_at)
       VALUES ($1, $2, 'Convocore', 'Contact', $3, $4, $4)
       ON CONFLICT (organization_id, dialect) WHERE dialect IS NOT NULL DO NOTHING RETURNING id`,
      [newId(now), organizationId, DIALECT, now],
    );
    const names = Object.values(CONVOCORE_STAGES);
    if (created) {
      await insertStages(tx, organizationId, created.id, names.map((stageName, position) => ({ name: stageName, color: null, position })), now);
      return;
    }
    await tx.query(
      `INSERT INTO pipeline_stages (id, organization_id, pipeline_id, name, color, position)
       SELECT $1, p.organization_id, p.id, $3::text, NULL,
              COALESCE((SELECT max(position) + 1 FROM pipeline_stages s WHERE s.organization_id = p.organization_id AND s.pipeline_id = p.id), 0)
         FROM pipelines p WHERE p.organization_id = $2 AND p.dialect = $4`,
      [newId(now), organizationId, name, DIALECT],
    );
  });
  return (await findStageId(ctx, organizationId, name))!.id;
}

import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { dialectStageId } from '../../modules/pipelines/service.ts';

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

const PIPELINE = { dialect: 'convocore', name: 'Convocore', stages: Object.values(CONVOCORE_STAGES) };

/**
 * The id of the real stage behind a Convocore stage, making the pipeline (or a stage someone
 * removed) when missing, in the transaction that writes the lead.
 */
export function stageIdFor(ctx: AppContext, tx: Queryable, organizationId: string, stage: ConvocoreStage): Promise<string> {
  return dialectStageId(ctx, tx, organizationId, PIPELINE, CONVOCORE_STAGES[stage]);
}

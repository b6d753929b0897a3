import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { AppError, badRequest, notFound, type FieldIssue } from '../../http/errors.ts';
import type { ActivityRow } from '../../modules/activities/store.ts';
import { toActivityDto } from '../../modules/activities/service.ts';
import type { Principal } from '../../modules/auth/service.ts';
import { heatLabel, HOT_THRESHOLD, scoreWithLabel, WARM_THRESHOLD } from '../../modules/leads/heat.ts';
import { getLead, LEAD_NOT_FOUND, type Lead, type LeadFields } from '../../modules/leads/service.ts';
import { inVendorTerms } from '../shared.ts';
import type { MetaData, UpdateLeadBody } from './schemas.ts';
import { convocoreStageOf, stageIdFor } from './stages.ts';

type LeadInput = Static<typeof UpdateLeadBody>['lead'];

const millis = (date: Date | null) => (date === null ? null : date.getTime());

/** The lead as Convocore shows it; its custom fields, source and stage make up metaData. */
export function toConvocoreLead(lead: Lead, activities: ActivityRow[]) {
  const stage = convocoreStageOf(lead.stageName);
  return {
    id: lead.id,
    agentId: lead.agentId!,
    email: lead.email,
    name: lead.name,
    phone: lead.phone,
    metaData: { ...lead.additionalInfo, ...(lead.source !== null ? { source: lead.source } : {}), ...(stage ? { stage } : {}) },
    convoId: lead.convoId,
    ts: lead.updatedAt.getTime(),
    assignedTo: lead.assignedTo as Record<string, unknown> | null,
    hotScore: lead.hotScore,
    hotLabel: lead.hotLabel,
    lastActivityDate: millis(lead.lastActivityDate),
    crmActivities: activities.map((row) => {
      const { leadId, createdBy, createdAt, updatedAt, ...activity } = toActivityDto(row);
      return { ...activity, date: millis(row.date), dueDate: millis(row.due_date) };
    }),
    createdAt: lead.createdAt.getTime(),
  };
}

/** Convocore only sees leads that belong to an agent. */
export async function agentLead(ctx: AppContext, principal: Principal, id: string): Promise<Lead> {
  const lead = await getLead(ctx, principal, id);
  if (lead.agentId === null) throw notFound(LEAD_NOT_FOUND);
  return lead;
}

/** The agent in the body must be the lead's: Convocore never reassigns a lead. */
export function requireLeadAgent(lead: Lead, agentId: string): void {
  if (lead.agentId !== agentId) {
    const message = "agentId must be the lead's agent; a lead's agent cannot be changed (create a new lead instead)";
    throw badRequest(message, [{ field: 'agentId', message }]);
  }
}

const isDate = (value: string | number | undefined) => value === undefined || !Number.isNaN(new Date(value).getTime());

/**
 * Dates are checked before anything is written, so a create never leaves a lead behind
 * when one of its activities is refused.
 */
export function checkDates(lead: LeadInput): void {
  const issues: FieldIssue[] = [];
  const check = (value: string | number | undefined, field: string) => {
    if (!isDate(value)) issues.push({ field, message: `${field} must be a date` });
  };
  check(lead.lastActivityDate, 'lead.lastActivityDate');
  check(lead.assignedTo?.assignedAt, 'lead.assignedTo.assignedAt');
  lead.crmActivities?.forEach((activity, i) => {
    check(activity.date, `lead.crmActivities.${i}.date`);
    check(activity.dueDate, `lead.crmActivities.${i}.dueDate`);
  });
  if (issues.length > 0) throw badRequest(issues.map((issue) => issue.message).join('; '), issues);
}

/**
 * The score to write for Convocore's hotScore and hotLabel: the label is computed from the
 * score, so a label sent alone moves the score (from `currentScore`) just into its band, and
 * a label that contradicts the score sent beside it is refused.
 */
function hotScoreOf(lead: LeadInput, currentScore: number): number | undefined {
  if (lead.hotLabel === undefined) return lead.hotScore;
  if (lead.hotScore === undefined) return scoreWithLabel(currentScore, lead.hotLabel);
  if (heatLabel(lead.hotScore) !== lead.hotLabel) {
    const message = `lead.hotLabel must agree with lead.hotScore (hot from ${HOT_THRESHOLD}, warm from ${WARM_THRESHOLD}, cold below)`;
    throw badRequest(message, [{ field: 'lead.hotLabel', message }]);
  }
  return lead.hotScore;
}

/**
 * Convocore's lead fields as the leads module's, but for metaData's stage (see stageWithin).
 * `currentScore` is the lead's heat score (0 for a lead being created).
 */
export function toLeadFields(lead: LeadInput, currentScore: number): LeadFields & { additionalInfo?: Record<string, unknown> } {
  const { stage, source, ...custom } = lead.metaData ?? ({} as Static<typeof MetaData>);
  return {
    email: lead.email,
    name: lead.name,
    phone: lead.phone,
    convoId: lead.convoId === undefined ? undefined : String(lead.convoId),
    assignedTo: lead.assignedTo,
    hotScore: hotScoreOf(lead, currentScore),
    lastActivityDate: lead.lastActivityDate,
    source,
    additionalInfo: lead.metaData === undefined ? undefined : custom,
  };
}

/**
 * metaData's stage as the real stage's id, found in the transaction that writes the lead
 * (the stage may have to be made: a refused write makes none); undefined when not given.
 */
export function stageWithin(ctx: AppContext, principal: Principal, lead: LeadInput): ((tx: Queryable) => Promise<string>) | undefined {
  const stage = lead.metaData?.stage;
  return stage === undefined ? undefined : (tx) => stageIdFor(ctx, tx, principal.organizationId, stage);
}

// The leads module names fields by themselves; Convocore's issues name them inside `lead`.
const CONVOCORE_FIELDS: Record<string, string> = Object.fromEntries(
  ['email', 'name', 'phone', 'hotScore', 'lastActivityDate', 'assignedTo', 'assignedTo.userId', 'assignedTo.assignedAt', 'convoId', 'additionalInfo'].map(
    (field) => [field, field === 'additionalInfo' ? 'lead.metaData' : `lead.${field}`],
  ),
);

export function inConvocoreTerms(error: unknown): never {
  throw error instanceof AppError ? inVendorTerms(error, CONVOCORE_FIELDS) : error;
}

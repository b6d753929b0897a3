import type { AppContext } from '../../context.ts';
import { isForeignKeyViolation } from '../../db/database.ts';
import { badRequest, conflict, invalidField, notFound } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import { isTimeZone, toClockTime } from '../agents/schedule-window.ts';
import { findAgent } from '../agents/store.ts';
import type { Principal } from '../auth/service.ts';
import { CAMPAIGN_DEFAULTS, checkStatusChange, type CampaignStatus } from './rules.ts';
import { deleteCampaign, findCampaign, findCampaignBySeq, insertCampaign, updateCampaign, type CampaignFields, type CampaignRow } from './store.ts';

export const CAMPAIGN_NOT_FOUND = 'Campaign not found';

export function toCampaignDto(row: CampaignRow) {
  return {
    _id: row.id,
    numericId: Number(row.seq),
    organizationId: row.organization_id,
    userId: row.user_id,
    name: row.name,
    agentId: row.agent_id,
    timezone: row.timezone,
    allowedHours: { start: toClockTime(row.allowed_hours_start), end: toClockTime(row.allowed_hours_end) },
    allowedDays: row.allowed_days,
    maxRetries: row.max_retries,
    retryIntervalMinutes: row.retry_interval_minutes,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function getCampaign(ctx: AppContext, principal: Principal, id: string): Promise<CampaignRow> {
  const campaign = isId(id) ? await findCampaign(ctx.db, principal.organizationId, id) : undefined;
  if (!campaign) throw notFound(CAMPAIGN_NOT_FOUND);
  return campaign;
}

/** The campaign with this integer id (Autocalls addresses campaigns by it), if any. */
export function campaignByNumber(ctx: AppContext, principal: Principal, numericId: number): Promise<CampaignRow | undefined> {
  if (!Number.isSafeInteger(numericId) || numericId <= 0) return Promise.resolve(undefined);
  return findCampaignBySeq(ctx.db, principal.organizationId, numericId);
}

async function checkFields(ctx: AppContext, principal: Principal, fields: Partial<CampaignFields>): Promise<void> {
  if (fields.name !== undefined && !fields.name.trim()) throw invalidField('name', 'must not be blank');
  if (fields.timezone !== undefined && !isTimeZone(fields.timezone)) {
    throw invalidField('timezone', 'must be a tz database time zone (e.g. America/New_York)');
  }
  if (fields.allowedHours && fields.allowedHours.start >= fields.allowedHours.end) {
    throw invalidField('allowedHours.end', 'must be later than allowedHours.start');
  }
  if (fields.agentId !== undefined && fields.agentId !== null) {
    if (!isId(fields.agentId) || !(await findAgent(ctx.db, principal.organizationId, fields.agentId))) {
      throw invalidField('agentId', 'must be an agent of your organization');
    }
  }
}

/** A new campaign, owned by the caller, starts as a draft with the documented defaults. */
export async function createCampaign(
  ctx: AppContext,
  principal: Principal,
  input: Partial<CampaignFields> & { name: string },
): Promise<CampaignRow> {
  const fields: CampaignFields = {
    name: input.name.trim(),
    agentId: input.agentId ?? null,
    timezone: input.timezone ?? CAMPAIGN_DEFAULTS.timezone,
    allowedHours: input.allowedHours ?? CAMPAIGN_DEFAULTS.allowedHours,
    allowedDays: input.allowedDays ?? [...CAMPAIGN_DEFAULTS.allowedDays],
    maxRetries: input.maxRetries ?? CAMPAIGN_DEFAULTS.maxRetries,
    retryIntervalMinutes: input.retryIntervalMinutes ?? CAMPAIGN_DEFAULTS.retryIntervalMinutes,
  };
  await checkFields(ctx, principal, fields);
  const now = ctx.clock.now();
  return insertCampaign(ctx.db, { ...fields, id: newId(now), organizationId: principal.organizationId, userId: principal.userId, now });
}

export async function changeCampaign(
  ctx: AppContext,
  principal: Principal,
  id: string,
  changes: Partial<CampaignFields> & { status?: CampaignStatus },
): Promise<CampaignRow> {
  const current = await getCampaign(ctx, principal, id);
  await checkFields(ctx, principal, changes);
  if (changes.status !== undefined) checkStatusChange(current.status, changes.status);
  const updated = await updateCampaign(
    ctx.db,
    principal.organizationId,
    current.id,
    { ...changes, name: changes.name?.trim() },
    current.status,
    ctx.clock.now(),
  );
  if (!updated) throw conflict('The campaign changed status meanwhile; read it again and retry');
  return updated;
}

export async function removeCampaign(ctx: AppContext, principal: Principal, id: string): Promise<void> {
  if (!isId(id)) throw notFound(CAMPAIGN_NOT_FOUND);
  try {
    if (!(await deleteCampaign(ctx.db, principal.organizationId, id))) throw notFound(CAMPAIGN_NOT_FOUND);
  } catch (error) {
    if (isForeignKeyViolation(error)) throw badRequest('Campaign has leads and cannot be deleted');
    throw error;
  }
}

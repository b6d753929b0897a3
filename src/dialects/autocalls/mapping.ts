import type { AppContext } from '../../context.ts';
import { AppError, badRequest, notFound, type FieldIssue } from '../../http/errors.ts';
import type { Principal } from '../../modules/auth/service.ts';
import { campaignByNumber, toCampaignDto } from '../../modules/campaigns/service.ts';
import type { CampaignRow } from '../../modules/campaigns/store.ts';
import { CLIENT_STATUSES, findLeadBySeq, LEAD_EXISTS, phoneInE164, type Lead } from '../../modules/leads/service.ts';
import { inVendorTerms, isPlainObject } from '../shared.ts';

/** Laravel's 422: every violation of the request, grouped by field. */
export function validationFailed(issues: FieldIssue[]): AppError {
  return new AppError(422, 'BAD_REQUEST', 'Validation failed', issues);
}

const issue = (field: string, message: string): FieldIssue => ({ field, message });

export const UPDATABLE_FIELDS = ['campaign_id', 'phone_number', 'status', 'variables'] as const;

/** An Autocalls lead: the caller's own, addressed by its integer id. */
export async function ownLead(ctx: AppContext, principal: Principal, id: string): Promise<Lead> {
  const lead = await findLeadBySeq(ctx, principal, /^\d{1,15}$/.test(id) ? Number(id) : 0);
  if (lead.ownerId !== principal.userId) throw notFound('Lead not found');
  return lead;
}

/** Looks the campaign up by integer id; a missing (or another organization's) one is a validation issue. */
async function campaignIssue(ctx: AppContext, principal: Principal, value: unknown, issues: FieldIssue[]): Promise<CampaignRow | undefined> {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    issues.push(issue('campaign_id', 'The campaign id field must be an integer.'));
    return undefined;
  }
  const campaign = await campaignByNumber(ctx, principal, value);
  if (!campaign) issues.push(issue('campaign_id', 'The selected campaign does not exist'));
  return campaign;
}

/** The contract: campaigns belong to a user; another user's campaign answers as not found. */
function requireOwnCampaign(principal: Principal, campaign: CampaignRow | undefined): void {
  if (campaign && campaign.user_id !== principal.userId) throw notFound('Campaign not found');
}

export async function toPhoneNumber(ctx: AppContext, principal: Principal, phone: string): Promise<string> {
  const e164 = await phoneInE164(ctx, principal.organizationId, phone);
  if (!e164) throw badRequest('Invalid phone number');
  return e164;
}

/** A duplicate phone in the campaign is a validation issue of phone_number. */
export function duplicateAsValidation(error: unknown): unknown {
  if (error instanceof AppError && error.status === 409 && error.message === LEAD_EXISTS) {
    return validationFailed([issue('phone_number', 'A lead with this phone number already exists in this campaign')]);
  }
  return error;
}

export interface CheckedUpdate {
  campaign?: CampaignRow;
  phone?: string;
  status?: string;
  variables?: Record<string, unknown>;
}

/**
 * PUT /user/leads/{id}, in the contract's order: unknown keys (400 listing them all), then
 * every field rule at once (422), then the campaign's owner (404), then the phone (400).
 */
export async function checkLeadUpdate(ctx: AppContext, principal: Principal, body: Record<string, unknown>): Promise<CheckedUpdate> {
  const unknown = Object.keys(body).filter((key) => !(UPDATABLE_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw badRequest(`Invalid fields: ${unknown.join(', ')}`);

  const issues: FieldIssue[] = [];
  const checked: CheckedUpdate = {};
  if (body.campaign_id !== undefined) checked.campaign = await campaignIssue(ctx, principal, body.campaign_id, issues);
  if (body.phone_number !== undefined && typeof body.phone_number !== 'string') {
    issues.push(issue('phone_number', 'The phone number field must be a string.'));
  }
  if (body.status !== undefined) {
    if (typeof body.status === 'string' && (CLIENT_STATUSES as readonly string[]).includes(body.status)) checked.status = body.status;
    else issues.push(issue('status', 'This status is assigned automatically and cannot be set manually'));
  }
  if (body.variables !== undefined) {
    if (isPlainObject(body.variables)) checked.variables = body.variables;
    // an empty PHP array encodes as [], and Laravel's "array" rule takes it: nothing to merge
    else if (Array.isArray(body.variables) && body.variables.length === 0) checked.variables = {};
    else issues.push(issue('variables', 'Variables must be an array'));
  }
  if (issues.length > 0) throw validationFailed(issues);
  requireOwnCampaign(principal, checked.campaign);
  if (typeof body.phone_number === 'string') checked.phone = await toPhoneNumber(ctx, principal, body.phone_number);
  return checked;
}

/** POST /user/lead: the campaign must exist (422) and be the caller's (404). */
export async function checkLeadCampaign(ctx: AppContext, principal: Principal, campaignNumber: number): Promise<CampaignRow> {
  const issues: FieldIssue[] = [];
  const campaign = await campaignIssue(ctx, principal, campaignNumber, issues);
  if (!campaign) throw validationFailed(issues);
  requireOwnCampaign(principal, campaign);
  return campaign;
}

export function toAutocallsLead(lead: Lead, campaignNumber: number | string | null) {
  return {
    id: Number(lead.seq),
    campaign_id: campaignNumber === null ? null : Number(campaignNumber),
    phone_number: lead.phone,
    status: lead.status,
    variables: lead.additionalInfo,
    created_at: lead.createdAt.toISOString(),
    updated_at: lead.updatedAt.toISOString(),
  };
}

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
export const dayNumbers = (names: string[]) => names.map((name) => DAYS.indexOf(name) + 1);

export function toAutocallsCampaign(row: CampaignRow) {
  const campaign = toCampaignDto(row);
  return {
    id: campaign.numericId,
    name: campaign.name,
    assistant_id: campaign.agentId,
    status: campaign.status,
    timezone: campaign.timezone,
    allowed_hours_start_time: campaign.allowedHours.start,
    allowed_hours_end_time: campaign.allowedHours.end,
    allowed_days: campaign.allowedDays.map((day) => DAYS[day - 1]),
    max_retries: campaign.maxRetries,
    retry_interval: campaign.retryIntervalMinutes,
    created_at: campaign.createdAt.toISOString(),
  };
}

// Native field names in the campaign rules' messages, as the Autocalls client knows them.
const CAMPAIGN_FIELDS: Record<string, string> = {
  agentId: 'assistant_id',
  'allowedHours.end': 'allowed_hours_end_time',
  allowedDays: 'allowed_days',
  maxRetries: 'max_retries',
  retryIntervalMinutes: 'retry_interval',
};

export const campaignErrorInAutocallsTerms = (error: unknown) => inVendorTerms(error, CAMPAIGN_FIELDS);

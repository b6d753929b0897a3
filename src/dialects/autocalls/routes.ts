import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { bearerToken } from '../../http/auth.ts';
import { unauthorized } from '../../http/errors.ts';
import { useErrorEnvelope, type ErrorRenderer } from '../../http/envelope.ts';
import { optionalJsonBody } from '../../http/optional-body.ts';
import { CAMPAIGN_DEFAULTS } from '../../modules/campaigns/rules.ts';
import { createCampaign } from '../../modules/campaigns/service.ts';
import { campaignDedupeKey, createLead, deleteLead, listOwnedLeads, updateLead, type LeadPatch } from '../../modules/leads/service.ts';
import { isPlainObject, useApiKeyAuth } from '../shared.ts';
import {
  campaignErrorInAutocallsTerms,
  checkLeadCampaign,
  checkLeadUpdate,
  dayNumbers,
  duplicateAsValidation,
  ownLead,
  toAutocallsCampaign,
  toAutocallsLead,
  toPhoneNumber,
  validationFailed,
} from './mapping.ts';
import {
  AutocallsCampaign,
  AutocallsLead,
  CreateCampaignBody,
  CreateLeadBody,
  DataResponse,
  errorResponses,
  LeadIdParams,
  LeadListQuery,
  LeadPage,
  Message,
  tags,
  UpdateLeadBody,
} from './schemas.ts';

/** Autocalls errors: `{message}`, or Laravel's 422 `{message, errors: {field: [..]}}`. */
export const renderAutocallsError: ErrorRenderer = (error) => {
  if (error.status === 422 || (error.status === 400 && error.issues.length > 0)) {
    const errors: Record<string, string[]> = {};
    for (const { field, message } of error.issues) (errors[field] ??= []).push(message);
    return { status: 422, body: { message: 'Validation failed', errors } };
  }
  if (error.status >= 500) return { status: error.status, body: { message: 'Server Error' } };
  return { status: error.status, body: { message: error.message } };
};

const DEFAULT_PER_PAGE = 15;

/** Laravel's length-aware paginator, links included. */
function paginate<T>(request: FastifyRequest, data: T[], page: number, perPage: number, total: number) {
  const path = `${request.protocol}://${request.host}${request.url.split('?')[0]}`;
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const urlOf = (n: number) => {
    const query = new URLSearchParams(request.query as Record<string, string>);
    query.set('page', String(n));
    return `${path}?${query}`;
  };
  const from = data.length > 0 ? (page - 1) * perPage + 1 : null;
  return {
    current_page: page,
    data,
    first_page_url: urlOf(1),
    from,
    last_page: lastPage,
    last_page_url: urlOf(lastPage),
    links: [
      { url: page > 1 ? urlOf(page - 1) : null, label: '&laquo; Previous', active: false },
      ...Array.from({ length: lastPage }, (_, i) => ({ url: urlOf(i + 1), label: String(i + 1), active: i + 1 === page })),
      { url: page < lastPage ? urlOf(page + 1) : null, label: 'Next &raquo;', active: false },
    ],
    next_page_url: page < lastPage ? urlOf(page + 1) : null,
    path,
    per_page: perPage,
    prev_page_url: page > 1 ? urlOf(page - 1) : null,
    to: from === null ? null : from + data.length - 1,
    total,
  };
}

/** The Autocalls lead API under /autocalls/api: bearer API keys, integer ids, Laravel envelopes. */
export function autocallsDialect(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    useErrorEnvelope(app, renderAutocallsError);
    useApiKeyAuth(app, ctx, bearerToken, () => unauthorized('Unauthenticated.'));

    app.post(
      '/user/lead',
      { schema: { tags, summary: 'Create a lead in a campaign', body: CreateLeadBody, response: { 201: DataResponse(AutocallsLead), ...errorResponses(400, 404) } } },
      async (request, reply) => {
        const { principal, body } = request;
        const campaign = await checkLeadCampaign(ctx, principal, body.campaign_id);
        const phone = await toPhoneNumber(ctx, principal, body.phone_number);
        const lead = await createLead(
          ctx,
          principal,
          { phone, campaignId: campaign.id, agentId: campaign.agent_id ?? undefined, status: 'created', additionalInfo: body.variables },
          { dedupeKey: body.allow_dupplicate === true ? null : campaignDedupeKey(campaign.id, phone) },
        ).catch((error) => {
          throw duplicateAsValidation(error);
        });
        return reply.status(201).send({ message: 'Lead created successfully', data: toAutocallsLead(lead, campaign.seq) });
      },
    );

    app.get(
      '/user/leads',
      { schema: { tags, summary: "List the caller's leads (Laravel pagination)", querystring: LeadListQuery, response: { 200: LeadPage, ...errorResponses() } } },
      async (request) => {
        const { principal, query } = request;
        const page = query.page ?? 1;
        const perPage = query.per_page ?? DEFAULT_PER_PAGE;
        const filters = { status: query.status, campaignSeq: query.campaign_id, phoneContains: query.phone_number };
        const { leads, total } = await listOwnedLeads(ctx, principal, filters, page, perPage);
        return paginate(request, leads.map(({ lead, campaignSeq }) => toAutocallsLead(lead, campaignSeq)), page, perPage, total);
      },
    );

    app.put(
      '/user/leads/:id',
      {
        schema: { tags, summary: 'Update a lead', params: LeadIdParams, body: UpdateLeadBody, response: { 200: Message, ...errorResponses(400, 404) } },
        // The contract's own checks (checkLeadUpdate) judge the fields; the schema documents them.
        validatorCompiler: ({ httpPart }) =>
          httpPart === 'body'
            ? (body: unknown) => (isPlainObject(body) ? { value: body } : { error: validationFailed([{ field: 'body', message: 'The request body must be a JSON object' }]) })
            : (value: unknown) => ({ value }),
        // every field is optional, so no body at all changes nothing
        ...optionalJsonBody,
      },
      async (request) => {
        const { principal } = request;
        const lead = await ownLead(ctx, principal, request.params.id);
        const checked = await checkLeadUpdate(ctx, principal, request.body as Record<string, unknown>);
        const patch: LeadPatch = { status: checked.status, additionalInfo: checked.variables };
        // a lead judged per campaign stays so when its campaign or number changes (movedDedupeKey)
        if (checked.campaign) patch.campaignId = checked.campaign.id;
        if (checked.phone) patch.phone = checked.phone;
        await updateLead(ctx, principal, lead.id, patch).catch((error) => {
          throw duplicateAsValidation(error);
        });
        return { message: 'Lead updated successfully' };
      },
    );

    app.delete(
      '/user/leads/:id',
      { schema: { tags, summary: 'Delete a lead', params: LeadIdParams, response: { 200: Message, ...errorResponses(404) } } },
      async (request) => {
        const lead = await ownLead(ctx, request.principal, request.params.id);
        await deleteLead(ctx, request.principal, lead.id);
        return { message: 'Lead deleted successfully' };
      },
    );

    app.post(
      '/user/campaign',
      { schema: { tags, summary: 'Create a campaign (starts as a draft)', body: CreateCampaignBody, response: { 201: DataResponse(AutocallsCampaign), ...errorResponses() } } },
      async (request, reply) => {
        const { body } = request;
        const allowedHours =
          body.allowed_hours_start_time !== undefined || body.allowed_hours_end_time !== undefined
            ? {
                start: body.allowed_hours_start_time ?? CAMPAIGN_DEFAULTS.allowedHours.start,
                end: body.allowed_hours_end_time ?? CAMPAIGN_DEFAULTS.allowedHours.end,
              }
            : undefined;
        const campaign = await createCampaign(ctx, request.principal, {
          name: body.name,
          agentId: body.assistant_id,
          timezone: body.timezone,
          allowedHours,
          allowedDays: body.allowed_days && dayNumbers(body.allowed_days),
          maxRetries: body.max_retries,
          retryIntervalMinutes: body.retry_interval,
        }).catch((error) => {
          throw campaignErrorInAutocallsTerms(error);
        });
        return reply.status(201).send({ message: 'Campaign created successfully', data: toAutocallsCampaign(campaign) });
      },
    );
  };
}

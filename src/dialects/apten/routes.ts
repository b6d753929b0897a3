import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { badRequest, forbidden, notFound } from '../../http/errors.ts';
import { useErrorEnvelope, type ErrorRenderer } from '../../http/envelope.ts';
import type { Principal } from '../../modules/auth/service.ts';
import { agentNamed } from '../../modules/agents/service.ts';
import { findAgent } from '../../modules/agents/store.ts';
import {
  createLead,
  deleteLead,
  findLeadByPhone,
  getLead,
  LEAD_EXISTS,
  LEAD_NOT_FOUND,
  phoneInE164,
  updateLead,
  type Lead,
  type LeadPatch,
} from '../../modules/leads/service.ts';
import { inVendorTerms, useApiKeyAuth } from '../shared.ts';
import {
  AptenLead,
  CreatedLead,
  CreateLeadBody,
  DeletedLead,
  errorResponses,
  LeadIdParams,
  LookupQuery,
  Message,
  tags,
  UpdateLeadBody,
} from './schemas.ts';

const MESSAGES: Record<string, string> = { [LEAD_NOT_FOUND]: 'Lead not found.' };
const INVALID_PHONE = 'Invalid phone number format.';

/** Apten errors are `{message}`; a duplicate lead is a 400 in its contract. */
export const renderAptenError: ErrorRenderer = (error) => {
  if (error.status === 409 && error.message === LEAD_EXISTS) return { status: 400, body: { message: 'Lead already exists.' } };
  if (error.status >= 500) return { status: error.status, body: { message: 'Internal server error' } };
  return { status: error.status, body: { message: MESSAGES[error.message] ?? error.message } };
};

// The lead module's field names, as Apten clients send them.
const APTEN_FIELDS: Record<string, string> = { timezone: 'timeZone' };
const inAptenTerms = (error: unknown) => {
  throw inVendorTerms(error, APTEN_FIELDS);
};

async function toAptenLead(ctx: AppContext, principal: Principal, lead: Lead) {
  const agent = lead.agentId ? await findAgent(ctx.db, principal.organizationId, lead.agentId) : undefined;
  return {
    id: lead.id,
    firstName: lead.firstName,
    lastName: lead.lastName,
    phone: lead.phone,
    email: lead.email,
    timeZone: lead.timezone,
    customerProfile: agent?.name ?? null,
    additionalInfo: lead.additionalInfo,
    isAiOn: lead.isAiOn,
    status: lead.status,
    followUpConfig: lead.followUpConfig,
    followUpStep: lead.followUpStep,
    nextFollowUpAt: lead.nextFollowUpAt?.toISOString() ?? null,
    useStrategiesForFollowUps: lead.useStrategiesForFollowUps,
    createdAt: lead.createdAt.toISOString(),
    updatedAt: lead.updatedAt.toISOString(),
  };
}

/** The Apten lead API under /apten/v1: `x-api-key`, `{message}` envelopes. */
export function aptenDialect(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    useErrorEnvelope(app, renderAptenError);
    useApiKeyAuth(
      app,
      ctx,
      (request) => {
        const key = request.headers['x-api-key'];
        return typeof key === 'string' ? key.trim() : undefined;
      },
      () => forbidden('Forbidden'),
    );

    const setAiOn = (principal: Principal, leadId: string, isAiOn: boolean) => updateLead(ctx, principal, leadId, { isAiOn });

    app.post(
      '/leads/create',
      { schema: { tags, summary: 'Create a lead', body: CreateLeadBody, response: { 200: CreatedLead, ...errorResponses() } } },
      async (request) => {
        const { principal, body } = request;
        const phone = await phoneInE164(ctx, principal.organizationId, body.phone);
        if (!phone) throw badRequest(INVALID_PHONE);
        const agent = await agentNamed(ctx, principal, body.customerProfile);
        if (!agent) throw badRequest(`customerProfile "${body.customerProfile}" is not one of your customer profiles`);
        const lead = await createLead(ctx, principal, {
          firstName: body.firstName,
          lastName: body.lastName,
          phone,
          email: body.email,
          timezone: body.timeZone,
          additionalInfo: body.additionalInfo,
          agentId: agent.id,
        }).catch(inAptenTerms);
        return { message: 'Lead created successfully.', id: lead.id };
      },
    );

    app.get(
      '/leads/lookup',
      { schema: { tags, summary: 'Find a lead by phone number', querystring: LookupQuery, response: { 200: AptenLead, ...errorResponses(404) } } },
      async (request) => {
        const { principal } = request;
        const phone = await phoneInE164(ctx, principal.organizationId, request.query.phone);
        if (!phone) throw badRequest(INVALID_PHONE);
        const lead = await findLeadByPhone(ctx, principal.organizationId, phone);
        if (!lead) throw notFound(LEAD_NOT_FOUND);
        return toAptenLead(ctx, principal, lead);
      },
    );

    app.get(
      '/leads/:leadId',
      { schema: { tags, summary: 'Get a lead', params: LeadIdParams, response: { 200: AptenLead, ...errorResponses(404) } } },
      async (request) => toAptenLead(ctx, request.principal, await getLead(ctx, request.principal, request.params.leadId)),
    );

    app.delete(
      '/leads/:leadId',
      { schema: { tags, summary: 'Delete a lead', params: LeadIdParams, response: { 200: DeletedLead, ...errorResponses(404) } } },
      async (request) => {
        await deleteLead(ctx, request.principal, request.params.leadId);
        return { message: 'Lead deletion initiated successfully', leadId: request.params.leadId };
      },
    );

    app.post(
      '/leads/:leadId/turnOff',
      { schema: { tags, summary: 'Turn the AI off for a lead', params: LeadIdParams, response: { 200: Message, ...errorResponses(404) } } },
      async (request) => {
        await setAiOn(request.principal, request.params.leadId, false);
        return { message: 'Lead turned off successfully.' };
      },
    );

    app.post(
      '/leads/:leadId/turnOn',
      { schema: { tags, summary: 'Turn the AI on for a lead', params: LeadIdParams, response: { 200: Message, ...errorResponses(404) } } },
      async (request) => {
        await setAiOn(request.principal, request.params.leadId, true);
        return { message: 'Lead turned on successfully.' };
      },
    );

    for (const method of ['PATCH', 'PUT'] as const) {
      app.route({
        method,
        url: '/leads/:leadId',
        schema: {
          tags,
          summary: method === 'PATCH' ? 'Update lead' : 'Update lead (PUT is accepted as well)',
          description: 'Updates properties of a specific lead: additionalInfo merges (null removes a key); updating followUpStep and/or followUpConfig resets the timer to now + hours.',
          params: LeadIdParams,
          body: UpdateLeadBody,
          response: { 200: Message, ...errorResponses(404) },
        },
        handler: async (request) => {
          const { body } = request;
          const patch: LeadPatch = {
            email: body.email,
            timezone: body.timeZone,
            additionalInfo: body.additionalInfo,
            followUpConfig: body.followUpConfig,
            followUpStep: body.followUpStep,
            useStrategiesForFollowUps: body.useStrategiesForFollowUps,
          };
          await updateLead(ctx, request.principal, request.params.leadId, patch).catch(inAptenTerms);
          return { message: 'Lead updated successfully.' };
        },
      });
    }
  };
}

import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { bearerToken } from '../../http/auth.ts';
import { notFound, unauthorized } from '../../http/errors.ts';
import { useErrorEnvelope, type ErrorRenderer } from '../../http/envelope.ts';
import { isId } from '../../lib/ids.ts';
import { listActivityRows, listActivityRowsOfLeads, type ActivityRow } from '../../modules/activities/store.ts';
import { upsertActivitiesWithin } from '../../modules/activities/service.ts';
import { AGENT_NOT_FOUND } from '../../modules/agents/service.ts';
import { findAgent } from '../../modules/agents/store.ts';
import type { Principal } from '../../modules/auth/service.ts';
import { createLead, deleteLead, listLeads, updateLeadWithin, type Lead } from '../../modules/leads/service.ts';
import { useApiKeyAuth } from '../shared.ts';
import { agentLead, checkDates, inConvocoreTerms, requireLeadAgent, stageWithin, toConvocoreLead, toLeadFields } from './mapping.ts';
import {
  ConvocoreLead,
  CreateLeadBody,
  errorResponses,
  LeadIdParams,
  LeadListResponse,
  ListQuery,
  Success,
  tags,
  UpdateLeadBody,
} from './schemas.ts';

/** Convocore (tRPC) errors: `{message, code, issues?: [{message}]}`. */
export const renderConvocoreError: ErrorRenderer = (error) => {
  if (error.status >= 500) return { status: error.status, body: { message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' } };
  const body: Record<string, unknown> = { message: error.message, code: error.code };
  if (error.issues.length > 0) body.issues = error.issues.map(({ message }) => ({ message }));
  return { status: error.status, body };
};

const DEFAULT_SOURCE = 'chat';

/** The Convocore v3 lead API under /convocore/v3: bearer API keys, leads owned by agents. */
export function convocoreDialect(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    useErrorEnvelope(app, renderConvocoreError);
    useApiKeyAuth(app, ctx, bearerToken, () => unauthorized('Unauthorized'));

    const withTimeline = async (principal: Principal, lead: Lead) =>
      toConvocoreLead(lead, await listActivityRows(ctx.db, principal.organizationId, lead.id));

    const requireAgent = async (principal: Principal, agentId: string) => {
      if (!isId(agentId) || !(await findAgent(ctx.db, principal.organizationId, agentId))) throw notFound(AGENT_NOT_FOUND);
    };

    // Handlers read bodies through TypeBox's own Static: the type provider sees the schemas'
    // plain string enums as unknown.
    app.post(
      '/leads',
      { schema: { tags, summary: 'Create Lead', body: CreateLeadBody, response: { 200: Success(ConvocoreLead), ...errorResponses } } },
      async (request) => {
        const { principal } = request;
        const input = (request.body as Static<typeof CreateLeadBody>).lead;
        await requireAgent(principal, input.agentId);
        checkDates(input);
        const fields = toLeadFields(input, 0);
        const activities = input.crmActivities ?? [];
        // the lead, its stage and its timeline are written together or not at all
        const lead = await createLead(
          ctx,
          principal,
          { ...fields, agentId: input.agentId, source: fields.source ?? DEFAULT_SOURCE },
          {
            stageWithin: stageWithin(ctx, principal, input),
            alsoWrite: activities.length > 0 ? (tx, leadId) => upsertActivitiesWithin(ctx, tx, principal, leadId, activities) : undefined,
          },
        ).catch(inConvocoreTerms);
        return { success: true, message: 'Lead created successfully', data: await withTimeline(principal, await agentLead(ctx, principal, lead.id)) };
      },
    );

    app.get(
      '/leads',
      { schema: { tags, summary: "List an agent's leads, newest first", querystring: ListQuery, response: { 200: LeadListResponse, ...errorResponses } } },
      async (request) => {
        const { principal, query } = request;
        await requireAgent(principal, query.agentId);
        const page = await listLeads(ctx, principal, { agent: query.agentId }, query.cursor, query.limit);
        const timelines = new Map<string, ActivityRow[]>();
        for (const row of await listActivityRowsOfLeads(ctx.db, principal.organizationId, page.leads.map((lead) => lead.id))) {
          timelines.set(row.lead_id, [...(timelines.get(row.lead_id) ?? []), row]);
        }
        const data = page.leads.map((lead) => toConvocoreLead(lead, timelines.get(lead.id) ?? []));
        return { success: true, message: 'Leads retrieved successfully', data, nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/leads/:id',
      { schema: { tags, summary: 'Get Lead', params: LeadIdParams, response: { 200: Success(ConvocoreLead), ...errorResponses } } },
      async (request) => ({
        success: true,
        message: 'Lead retrieved successfully',
        data: await withTimeline(request.principal, await agentLead(ctx, request.principal, request.params.id)),
      }),
    );

    app.patch(
      '/leads/:id',
      {
        schema: {
          tags,
          summary: 'Update Lead',
          description: 'Updates an existing lead. Requires agentId in the request body. Partial update; ts advances on every update; crmActivities are upserted by id.',
          params: LeadIdParams,
          body: UpdateLeadBody,
          response: { 200: Success(ConvocoreLead), ...errorResponses },
        },
      },
      async (request) => {
        const { principal } = request;
        const body = request.body as Static<typeof UpdateLeadBody>;
        const current = await agentLead(ctx, principal, request.params.id);
        requireLeadAgent(current, body.agentId);
        checkDates(body.lead);
        const fields = toLeadFields(body.lead, current.hotScore);
        const stage = stageWithin(ctx, principal, body.lead);
        // the lead, its stage and its timeline change together or not at all
        await ctx.db
          .transaction(async (tx) => {
            await updateLeadWithin(ctx, tx, principal, current.id, { ...fields, stageId: await stage?.(tx) });
            if (body.lead.crmActivities?.length) await upsertActivitiesWithin(ctx, tx, principal, current.id, body.lead.crmActivities);
          })
          .catch(inConvocoreTerms);
        return { success: true, message: 'Lead updated successfully', data: await withTimeline(principal, await agentLead(ctx, principal, current.id)) };
      },
    );

    app.delete(
      '/leads/:id',
      { schema: { tags, summary: 'Delete Lead', params: LeadIdParams, response: { 200: Success(Type.Object({ id: Type.String() })), ...errorResponses } } },
      async (request) => {
        const lead = await agentLead(ctx, request.principal, request.params.id);
        await deleteLead(ctx, request.principal, lead.id);
        return { success: true, message: 'Lead deleted successfully', data: { id: lead.id } };
      },
    );
  };
}

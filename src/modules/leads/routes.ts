import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { invalidField } from '../../http/errors.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { acceptPrototypeKeysInJson } from './plain-json.ts';
import {
  CreateLeadBody,
  EventPageQuery,
  IfMatchHeaders,
  LeadDeletedResponse,
  LeadEventListResponse,
  LeadListQuery,
  LeadListResponse,
  LeadResponse,
  UpdateLeadBody,
} from './schemas.ts';
import { createLead, deleteLead, getLead, listEvents, listLeads, toEventDto, toLeadDto, updateLead, type Lead } from './service.ts';

const etag = (lead: Lead) => `"${lead.version}"`;

/** The version an If-Match header asks for (`3`, `"3"` or `W/"3"`); `*` means any. */
function versionFromIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw invalidField('If-Match', 'must be the lead\'s version (its ETag)');
  return Number(match[1]);
}

const dateOrUndefined = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export function leadRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    acceptPrototypeKeysInJson(app);
    const tags = ['Leads'];
    app.post(
      '/leads',
      { schema: { tags, summary: 'Create a lead', body: CreateLeadBody, response: { 201: LeadResponse, ...nativeErrors(409) } } },
      async (request, reply) => {
        const lead = await createLead(ctx, request.principal, request.body);
        return reply.status(201).header('etag', etag(lead)).send(ok(toLeadDto(lead), 'Lead created'));
      },
    );
    app.get(
      '/leads',
      {
        schema: {
          tags,
          summary: 'List live leads, newest first, with filters and cursor pagination',
          querystring: LeadListQuery,
          response: { 200: LeadListResponse, ...nativeErrors() },
        },
      },
      async (request) => {
        const { cursor, limit, createdFrom, createdTo, updatedFrom, updatedTo, ...filters } = request.query;
        const page = await listLeads(
          ctx,
          request.principal,
          {
            ...filters,
            createdFrom: dateOrUndefined(createdFrom),
            createdTo: dateOrUndefined(createdTo),
            updatedFrom: dateOrUndefined(updatedFrom),
            updatedTo: dateOrUndefined(updatedTo),
          },
          cursor,
          limit,
        );
        return ok({ leads: page.leads.map(toLeadDto), nextCursor: page.nextCursor });
      },
    );
    app.get(
      '/leads/:id',
      { schema: { tags, summary: 'Get a lead (ETag carries its version)', params: IdParams, response: { 200: LeadResponse, ...nativeErrors(404) } } },
      async (request, reply) => {
        const lead = await getLead(ctx, request.principal, request.params.id);
        return reply.header('etag', etag(lead)).send(ok(toLeadDto(lead)));
      },
    );
    app.patch(
      '/leads/:id',
      {
        schema: {
          tags,
          summary: 'Update a lead (additionalInfo is an RFC 7396 merge patch; If-Match or version makes it conditional)',
          params: IdParams,
          headers: IfMatchHeaders,
          body: UpdateLeadBody,
          response: { 200: LeadResponse, ...nativeErrors(404, 409, 412) },
        },
      },
      async (request, reply) => {
        const { version, ...patch } = request.body;
        const expectedVersion = version ?? versionFromIfMatch(request.headers['if-match']);
        const lead = await updateLead(ctx, request.principal, request.params.id, patch, { expectedVersion });
        return reply.header('etag', etag(lead)).send(ok(toLeadDto(lead), 'Lead updated'));
      },
    );
    app.delete(
      '/leads/:id',
      { schema: { tags, summary: 'Delete a lead (kept for metrics, gone from the API)', params: IdParams, response: { 200: LeadDeletedResponse, ...nativeErrors(404) } } },
      async (request) => {
        await deleteLead(ctx, request.principal, request.params.id);
        return ok({ _id: request.params.id }, 'Lead deleted');
      },
    );
    app.get(
      '/leads/:id/events',
      {
        schema: {
          tags,
          summary: 'The lead\'s change log (who, when, which fields, old and new values), oldest first; page with `after` = the last id seen',
          params: IdParams,
          querystring: EventPageQuery,
          response: { 200: LeadEventListResponse, ...nativeErrors(404) },
        },
      },
      async (request) => ok((await listEvents(ctx, request.principal, request.params.id, request.query)).map(toEventDto)),
    );
  };
}

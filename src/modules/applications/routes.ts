import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { notFound } from '../../http/errors.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { isId } from '../../lib/ids.ts';
import { ApplicationListResponse, ApplicationQuery, ApplicationResponse } from './schemas.ts';
import { findApplication, listApplications, type ApplicationRow } from './store.ts';

function toApplicationDto(row: ApplicationRow) {
  return {
    _id: row.id,
    leadId: row.lead_id,
    configurationId: row.configuration_id,
    name: row.name,
    status: row.status,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    stageName: row.stage_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function applicationRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Applications'];
    app.get(
      '/applications',
      { schema: { tags, summary: 'Applications created by lead routing, newest first', querystring: ApplicationQuery, response: { 200: ApplicationListResponse, ...nativeErrors() } } },
      async (request) =>
        ok((await listApplications(ctx.db, request.principal.organizationId, { leadId: request.query.leadId, limit: request.query.limit ?? 50 })).map(toApplicationDto)),
    );
    app.get(
      '/applications/:id',
      { schema: { tags, summary: 'Get an application', params: IdParams, response: { 200: ApplicationResponse, ...nativeErrors(404) } } },
      async (request) => {
        const row = isId(request.params.id) ? await findApplication(ctx.db, request.principal.organizationId, request.params.id) : undefined;
        if (!row) throw notFound('Application not found');
        return ok(toApplicationDto(row));
      },
    );
  };
}

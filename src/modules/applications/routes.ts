import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { ApplicationListResponse, ApplicationQuery, ApplicationResponse } from './schemas.ts';
import { getApplication, listApplicationsOf, toApplicationDto } from './service.ts';

export function applicationRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Applications'];
    app.get(
      '/applications',
      { schema: { tags, summary: 'Applications created by lead routing, newest first', querystring: ApplicationQuery, response: { 200: ApplicationListResponse, ...nativeErrors() } } },
      async (request) => ok((await listApplicationsOf(ctx, request.principal, request.query)).map(toApplicationDto)),
    );
    app.get(
      '/applications/:id',
      { schema: { tags, summary: 'Get an application', params: IdParams, response: { 200: ApplicationResponse, ...nativeErrors(404) } } },
      async (request) => ok(toApplicationDto(await getApplication(ctx, request.principal, request.params.id))),
    );
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { nativeErrors } from '../../http/schemas.ts';
import { OrganizationResponse, UpdateOrganizationBody } from './schemas.ts';
import { changeOrganization, getOrganization, toOrganizationDto } from './service.ts';

export function organizationRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Organization'];
    app.get(
      '/organization',
      { schema: { tags, summary: "The caller's organization and its follow-up settings", response: { 200: OrganizationResponse, ...nativeErrors() } } },
      async (request) => ok(toOrganizationDto(await getOrganization(ctx, request.principal))),
    );
    app.patch(
      '/organization',
      {
        schema: {
          tags,
          summary: "Change some of the organization's settings (ADMIN only)",
          body: UpdateOrganizationBody,
          response: { 200: OrganizationResponse, ...nativeErrors(403) },
        },
      },
      async (request) => ok(toOrganizationDto(await changeOrganization(ctx, request.principal, request.body)), 'Organization updated'),
    );
  };
}

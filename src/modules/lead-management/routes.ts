import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { optionalJsonBody } from '../../http/optional-body.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import {
  CreateLeadManagementBody,
  type ConfigurationInput,
  type CreateConfigurationInput,
  DeletedLeadManagementResponse,
  LeadManagementListResponse,
  LeadManagementResponse,
  UpdateLeadManagementBody,
} from './schemas.ts';
import {
  changeConfiguration,
  createConfiguration,
  getConfiguration,
  listVisibleConfigurations,
  removeConfiguration,
  toConfigurationDto,
} from './service.ts';

// The type provider infers bodies with TypeBox 1.x, which reads Type.Unsafe as unknown; the
// schemas' own static types (the same validated shape) are applied at the boundary instead.
export function leadManagementRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Lead Management'];
    app.post(
      '/lead-management',
      {
        config: { serverErrorMessage: 'Error creating lead management' },
        schema: {
          tags,
          summary: 'Create a lead management configuration',
          description: 'configurationName is unique per user (case-insensitive); defaultProcess must be a prompt of the organization.',
          body: CreateLeadManagementBody,
          response: { 201: LeadManagementResponse, ...nativeErrors() },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(ok(toConfigurationDto(await createConfiguration(ctx, request.principal, request.body as CreateConfigurationInput)), 'Lead management configuration created')),
    );
    app.get(
      '/lead-management',
      { schema: { tags, summary: "List the caller's configurations (an ADMIN sees all of the organization's)", response: { 200: LeadManagementListResponse, ...nativeErrors() } } },
      async (request) => ok((await listVisibleConfigurations(ctx, request.principal)).map(toConfigurationDto)),
    );
    app.get(
      '/lead-management/:id',
      { schema: { tags, summary: 'Get a lead management configuration', params: IdParams, response: { 200: LeadManagementResponse, ...nativeErrors(403, 404) } } },
      async (request) => ok(toConfigurationDto(await getConfiguration(ctx, request.principal, request.params.id))),
    );
    app.put(
      '/lead-management/:id',
      {
        config: { serverErrorMessage: 'Error updating lead management' },
        schema: {
          tags,
          summary: 'Update a lead management configuration',
          description: 'Changes only the fields supplied. The caller must own the configuration or be an ADMIN of its organization.',
          params: IdParams,
          body: UpdateLeadManagementBody,
          response: { 200: LeadManagementResponse, ...nativeErrors(403, 404) },
        },
        // the seed makes the body optional: no body changes nothing but updatedAt
        ...optionalJsonBody,
      },
      async (request) =>
        ok(toConfigurationDto(await changeConfiguration(ctx, request.principal, request.params.id, request.body as ConfigurationInput)), 'Lead management configuration updated'),
    );
    app.delete(
      '/lead-management/:id',
      { schema: { tags, summary: 'Delete a lead management configuration', params: IdParams, response: { 200: DeletedLeadManagementResponse, ...nativeErrors(403, 404) } } },
      async (request) => {
        await removeConfiguration(ctx, request.principal, request.params.id);
        return ok({ _id: request.params.id }, 'Lead management configuration deleted');
      },
    );
  };
}

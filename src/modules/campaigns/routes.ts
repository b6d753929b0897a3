import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { CampaignListResponse, CampaignResponse, CreateCampaignBody, DeletedCampaignResponse, UpdateCampaignBody } from './schemas.ts';
import { changeCampaign, createCampaign, getCampaign, removeCampaign, toCampaignDto } from './service.ts';
import { listCampaigns } from './store.ts';

export function campaignRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Campaigns'];
    app.post(
      '/campaigns',
      { schema: { tags, summary: 'Create a campaign (starts as a draft)', body: CreateCampaignBody, response: { 201: CampaignResponse, ...nativeErrors() } } },
      async (request, reply) => reply.status(201).send(ok(toCampaignDto(await createCampaign(ctx, request.principal, request.body)), 'Campaign created')),
    );
    app.get(
      '/campaigns',
      { schema: { tags, summary: "List the organization's campaigns", response: { 200: CampaignListResponse, ...nativeErrors() } } },
      async (request) => ok((await listCampaigns(ctx.db, request.principal.organizationId)).map(toCampaignDto)),
    );
    app.get(
      '/campaigns/:id',
      { schema: { tags, summary: 'Get a campaign', params: IdParams, response: { 200: CampaignResponse, ...nativeErrors(404) } } },
      async (request) => ok(toCampaignDto(await getCampaign(ctx, request.principal, request.params.id))),
    );
    app.put(
      '/campaigns/:id',
      { schema: { tags, summary: 'Update a campaign or change its status', params: IdParams, body: UpdateCampaignBody, response: { 200: CampaignResponse, ...nativeErrors(404, 409) } } },
      async (request) => ok(toCampaignDto(await changeCampaign(ctx, request.principal, request.params.id, request.body)), 'Campaign updated'),
    );
    app.delete(
      '/campaigns/:id',
      { schema: { tags, summary: 'Delete a campaign that has no leads', params: IdParams, response: { 200: DeletedCampaignResponse, ...nativeErrors(404) } } },
      async (request) => {
        await removeCampaign(ctx, request.principal, request.params.id);
        return ok({ _id: request.params.id }, 'Campaign deleted');
      },
    );
  };
}

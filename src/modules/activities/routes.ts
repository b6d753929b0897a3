import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { acceptPrototypeKeysInJson } from '../leads/plain-json.ts';
import { ActivityListResponse, ActivityParams, ActivityResponse, CreateActivityBody, UpdateActivityBody } from './schemas.ts';
import { addActivity, changeActivity, listActivities, toActivityDto } from './service.ts';

export function activityRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    acceptPrototypeKeysInJson(app);
    const tags = ['Lead activities'];
    app.get(
      '/leads/:id/activities',
      { schema: { tags, summary: 'The lead\'s CRM timeline, oldest first', params: IdParams, response: { 200: ActivityListResponse, ...nativeErrors(404) } } },
      async (request) => ok((await listActivities(ctx, request.principal, request.params.id)).map(toActivityDto)),
    );
    app.post(
      '/leads/:id/activities',
      { schema: { tags, summary: 'Add an activity to the lead\'s timeline', params: IdParams, body: CreateActivityBody, response: { 201: ActivityResponse, ...nativeErrors(404) } } },
      async (request, reply) =>
        reply.status(201).send(ok(toActivityDto(await addActivity(ctx, request.principal, request.params.id, request.body)), 'Activity added')),
    );
    app.patch(
      '/leads/:id/activities/:activityId',
      {
        schema: {
          tags,
          summary: 'Change an activity (a new note is appended to its notes history)',
          params: ActivityParams,
          body: UpdateActivityBody,
          response: { 200: ActivityResponse, ...nativeErrors(404) },
        },
      },
      async (request) =>
        ok(toActivityDto(await changeActivity(ctx, request.principal, request.params.id, request.params.activityId, request.body)), 'Activity updated'),
    );
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { CreateStrategyBody, StrategyDeletedResponse, StrategyListResponse, StrategyResponse, UpdateStrategyBody } from './schemas.ts';
import { changeStrategy, createStrategy, getStrategy, removeStrategy, toStrategyDto } from './service.ts';
import { listStrategies } from './store.ts';

export function strategyRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Strategies'];
    app.post(
      '/strategies',
      { schema: { tags, summary: 'Create a follow-up strategy', body: CreateStrategyBody, response: { 201: StrategyResponse, ...nativeErrors() } } },
      async (request, reply) => reply.status(201).send(ok(toStrategyDto(await createStrategy(ctx, request.principal, request.body)), 'Strategy created')),
    );
    app.get(
      '/strategies',
      { schema: { tags, summary: "List the organization's strategies", response: { 200: StrategyListResponse, ...nativeErrors() } } },
      async (request) => ok((await listStrategies(ctx.db, request.principal.organizationId)).map(toStrategyDto)),
    );
    app.get(
      '/strategies/:id',
      { schema: { tags, summary: 'Get a strategy', params: IdParams, response: { 200: StrategyResponse, ...nativeErrors(404) } } },
      async (request) => ok(toStrategyDto(await getStrategy(ctx, request.principal, request.params.id))),
    );
    app.put(
      '/strategies/:id',
      { schema: { tags, summary: 'Update a strategy', params: IdParams, body: UpdateStrategyBody, response: { 200: StrategyResponse, ...nativeErrors(404) } } },
      async (request) => ok(toStrategyDto(await changeStrategy(ctx, request.principal, request.params.id, request.body)), 'Strategy updated'),
    );
    app.delete(
      '/strategies/:id',
      { schema: { tags, summary: 'Delete a strategy (messages that used it keep their text)', params: IdParams, response: { 200: StrategyDeletedResponse, ...nativeErrors(404) } } },
      async (request) => {
        await removeStrategy(ctx, request.principal, request.params.id);
        return ok({ _id: request.params.id }, 'Strategy deleted');
      },
    );
  };
}

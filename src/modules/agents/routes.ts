import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { AgentListResponse, AgentResponse, CreateAgentBody, DeletedAgentResponse, UpdateAgentBody } from './schemas.ts';
import { changeAgent, createAgent, getAgent, removeAgent, toAgentDto } from './service.ts';
import { listAgents } from './store.ts';

export function agentRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Agents'];
    app.post(
      '/agents',
      { schema: { tags, summary: 'Create an agent (AI persona leads are bound to)', body: CreateAgentBody, response: { 201: AgentResponse, ...nativeErrors(409) } } },
      async (request, reply) => reply.status(201).send(ok(toAgentDto(await createAgent(ctx, request.principal, request.body)), 'Agent created')),
    );
    app.get(
      '/agents',
      { schema: { tags, summary: "List the organization's agents", response: { 200: AgentListResponse, ...nativeErrors() } } },
      async (request) => ok((await listAgents(ctx.db, request.principal.organizationId)).map(toAgentDto)),
    );
    app.get(
      '/agents/:id',
      { schema: { tags, summary: 'Get an agent', params: IdParams, response: { 200: AgentResponse, ...nativeErrors(404) } } },
      async (request) => ok(toAgentDto(await getAgent(ctx, request.principal, request.params.id))),
    );
    app.put(
      '/agents/:id',
      { schema: { tags, summary: 'Update an agent', params: IdParams, body: UpdateAgentBody, response: { 200: AgentResponse, ...nativeErrors(404, 409) } } },
      async (request) => ok(toAgentDto(await changeAgent(ctx, request.principal, request.params.id, request.body)), 'Agent updated'),
    );
    app.delete(
      '/agents/:id',
      { schema: { tags, summary: 'Delete an agent that no lead or campaign uses', params: IdParams, response: { 200: DeletedAgentResponse, ...nativeErrors(404) } } },
      async (request) => {
        await removeAgent(ctx, request.principal, request.params.id);
        return ok({ _id: request.params.id }, 'Agent deleted');
      },
    );
  };
}

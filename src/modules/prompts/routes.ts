import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { CreatePromptBody, DeletedResponse, PromptListResponse, PromptResponse, UpdatePromptBody } from './schemas.ts';
import { changePrompt, createPrompt, getPrompt, removePrompt, toPromptDto } from './service.ts';
import { listPrompts } from './store.ts';

export function promptRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Prompts'];
    app.post(
      '/prompts',
      { schema: { tags, summary: 'Create a prompt (AI process)', body: CreatePromptBody, response: { 201: PromptResponse, ...nativeErrors() } } },
      async (request, reply) => reply.status(201).send(ok(toPromptDto(await createPrompt(ctx, request.principal, request.body)), 'Prompt created')),
    );
    app.get(
      '/prompts',
      { schema: { tags, summary: 'List the organization\'s prompts', response: { 200: PromptListResponse, ...nativeErrors() } } },
      async (request) => ok((await listPrompts(ctx.db, request.principal.organizationId)).map(toPromptDto)),
    );
    app.get(
      '/prompts/:id',
      { schema: { tags, summary: 'Get a prompt', params: IdParams, response: { 200: PromptResponse, ...nativeErrors(404) } } },
      async (request) => ok(toPromptDto(await getPrompt(ctx, request.principal, request.params.id))),
    );
    app.put(
      '/prompts/:id',
      { schema: { tags, summary: 'Update a prompt', params: IdParams, body: UpdatePromptBody, response: { 200: PromptResponse, ...nativeErrors(404) } } },
      async (request) => ok(toPromptDto(await changePrompt(ctx, request.principal, request.params.id, request.body)), 'Prompt updated'),
    );
    app.delete(
      '/prompts/:id',
      { schema: { tags, summary: 'Delete a prompt that no configuration uses', params: IdParams, response: { 200: DeletedResponse, ...nativeErrors(404) } } },
      async (request) => {
        await removePrompt(ctx, request.principal, request.params.id);
        return ok({ _id: request.params.id }, 'Prompt deleted');
      },
    );
  };
}

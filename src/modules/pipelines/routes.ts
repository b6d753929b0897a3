import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { CreatePipelineBody, type CreatePipelineInput, DeletedPipelineResponse, PipelineListResponse, PipelineResponse, UpdatePipelineBody } from './schemas.ts';
import { changePipeline, createPipeline, getPipeline, removePipeline, toPipelineDto } from './service.ts';
import { listPipelines } from './store.ts';

// The type provider infers bodies with TypeBox 1.x, which reads Type.Unsafe (the pipeline type
// enum) as unknown; the schema's own static type is applied at the boundary instead.
export function pipelineRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Pipelines'];
    app.post(
      '/pipelines',
      { schema: { tags, summary: 'Create a pipeline with its ordered stages', body: CreatePipelineBody, response: { 201: PipelineResponse, ...nativeErrors(409) } } },
      async (request, reply) => reply.status(201).send(ok(toPipelineDto(await createPipeline(ctx, request.principal, request.body as CreatePipelineInput)), 'Pipeline created')),
    );
    app.get(
      '/pipelines',
      { schema: { tags, summary: "List the organization's pipelines", response: { 200: PipelineListResponse, ...nativeErrors() } } },
      async (request) => ok((await listPipelines(ctx.db, request.principal.organizationId)).map(toPipelineDto)),
    );
    app.get(
      '/pipelines/:id',
      { schema: { tags, summary: 'Get a pipeline', params: IdParams, response: { 200: PipelineResponse, ...nativeErrors(404) } } },
      async (request) => ok(toPipelineDto(await getPipeline(ctx, request.principal, request.params.id))),
    );
    app.put(
      '/pipelines/:id',
      {
        schema: {
          tags,
          summary: 'Update a pipeline: rename, make default, add/rename/reorder/remove stages (stage ids stay stable)',
          params: IdParams,
          body: UpdatePipelineBody,
          response: { 200: PipelineResponse, ...nativeErrors(404, 409) },
        },
      },
      async (request) => ok(toPipelineDto(await changePipeline(ctx, request.principal, request.params.id, request.body)), 'Pipeline updated'),
    );
    app.delete(
      '/pipelines/:id',
      { schema: { tags, summary: 'Delete a pipeline that is not the default and that no configuration or lead uses', params: IdParams, response: { 200: DeletedPipelineResponse, ...nativeErrors(404) } } },
      async (request) => {
        await removePipeline(ctx, request.principal, request.params.id);
        return ok({ _id: request.params.id }, 'Pipeline deleted');
      },
    );
  };
}

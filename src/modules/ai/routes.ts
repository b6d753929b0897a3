import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { PlaygroundBody, PlaygroundResponse, TraceListResponse } from './schemas.ts';
import { leadTraces, playground, toTraceDto } from './service.ts';

export function aiRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/ai/playground',
      {
        schema: {
          tags: ['AI'],
          summary: 'Try a process: the AI answers a message as it would answer a lead',
          body: PlaygroundBody,
          response: { 200: PlaygroundResponse, ...nativeErrors(404, 502) },
        },
      },
      async (request) => ok(await playground(ctx, request.principal, request.body)),
    );
    app.get(
      '/leads/:id/ai-traces',
      {
        schema: {
          tags: ['Traces'],
          summary: "The AI composer's calls for a lead (latency, tokens, outcome), newest first",
          params: IdParams,
          response: { 200: TraceListResponse, ...nativeErrors(404) },
        },
      },
      async (request) => ok((await leadTraces(ctx, request.principal, request.params.id)).map(toTraceDto)),
    );
  };
}

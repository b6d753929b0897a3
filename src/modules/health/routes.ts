import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import type { AppContext } from '../../context.ts';

/** Liveness, readiness (the database answers) and Prometheus metrics. */
export function healthRoutes(ctx: AppContext, metrics: Registry): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Health'];
    app.get('/healthz', { schema: { tags, response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
    app.get(
      '/readyz',
      { schema: { tags, response: { 200: Type.Object({ status: Type.String(), database: Type.String() }), 503: Type.Object({ status: Type.String(), database: Type.String() }) } } },
      async (_request, reply) => {
        try {
          await ctx.db.ping();
          return { status: 'ready', database: ctx.db.kind };
        } catch {
          return reply.status(503).send({ status: 'unavailable', database: ctx.db.kind });
        }
      },
    );
    app.get('/metrics', { schema: { tags, hide: true } }, async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.metrics()),
    );
  };
}

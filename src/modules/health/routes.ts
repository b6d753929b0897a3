import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../../context.ts';

/** Liveness, readiness (the database answers) and Prometheus metrics. */
export function healthRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'openlead_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    app.addHook('onResponse', async (request, reply) => {
      duration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });

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
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  };
}

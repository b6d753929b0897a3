import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import apiReference from '@scalar/fastify-api-reference';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import type { Database } from './db/database.ts';
import { useBearerAuth } from './http/auth.ts';
import { answerClientError, renderNativeError, sendError, useErrorEnvelope, type ErrorRenderer } from './http/envelope.ts';
import { useJsonShapeLimits } from './http/json-shape.ts';
import { acceptEmptyJsonWhereNoBodyIsTaken } from './http/optional-body.ts';
import { toAppError } from './http/errors.ts';
import { NativeError } from './http/schemas.ts';
import { schemaCompiler } from './http/validation.ts';
import { aptenDialect, renderAptenError } from './dialects/apten/routes.ts';
import { autocallsDialect, renderAutocallsError } from './dialects/autocalls/routes.ts';
import { convocoreDialect, renderConvocoreError } from './dialects/convocore/routes.ts';
import { BackgroundWork } from './lib/background.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { activityRoutes } from './modules/activities/routes.ts';
import { aiRoutes } from './modules/ai/routes.ts';
import { applicationRoutes } from './modules/applications/routes.ts';
import { approvalRoutes } from './modules/approvals/routes.ts';
import { inboundRoutes } from './modules/inbound/routes.ts';
import { intakeRoutes } from './modules/intake/routes.ts';
import { importRoutes } from './modules/imports/routes.ts';
import { agentRoutes } from './modules/agents/routes.ts';
import { authRoutes } from './modules/auth/routes.ts';
import { campaignRoutes } from './modules/campaigns/routes.ts';
import { PrincipalCache } from './modules/auth/principal-cache.ts';
import { loadJwtSecret, TokenIssuer } from './modules/auth/tokens.ts';
import { useRequestMetrics } from './modules/health/metrics.ts';
import { healthRoutes } from './modules/health/routes.ts';
import { leadManagementRoutes } from './modules/lead-management/routes.ts';
import { leadRoutes } from './modules/leads/routes.ts';
import { pipelineRoutes } from './modules/pipelines/routes.ts';
import { promptRoutes } from './modules/prompts/routes.ts';
import { userRoutes } from './modules/users/routes.ts';
import { listenForUserChanges } from './modules/users/store.ts';
import { messageRoutes } from './modules/messages/routes.ts';
import { organizationRoutes } from './modules/organizations/routes.ts';
import { strategyRoutes } from './modules/strategies/routes.ts';
import { twilioWebhookRoutes } from './modules/webhooks-twilio/routes.ts';

export interface AppOptions {
  config: Config;
  db: Database;
  clock?: Clock;
}

export interface App {
  server: FastifyInstance;
  ctx: AppContext;
  /**
   * The process is shutting down: from now on `/readyz` answers 503, so a load balancer or
   * orchestrator stops sending work here (`server.close()` then refuses the rest).
   */
  markShuttingDown(): void;
}

// The router refuses some URLs before any scope sees them (a broken %-escape); they still
// answer in the envelope of the surface the URL belongs to.
const DIALECT_RENDERERS: [prefix: string, render: ErrorRenderer][] = [
  ['/apten/v1/', renderAptenError],
  ['/autocalls/api/', renderAutocallsError],
  ['/convocore/v3/', renderConvocoreError],
];
const rendererFor = (url: string) => DIALECT_RENDERERS.find(([prefix]) => url.startsWith(prefix))?.[1] ?? renderNativeError;

/** The HTTP application: native API under /api, vendor dialects under their prefixes, docs, health. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { config, db } = options;
  const clock = options.clock ?? systemClock;
  const server = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: true,
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    // An over-long path id reaches its route, which answers it like any malformed id (404).
    routerOptions: { maxParamLength: 8192 },
    frameworkErrors: (error, request, reply) => sendError(rendererFor(request.url), toAppError(error), reply),
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();
  server.setValidatorCompiler(schemaCompiler);
  useJsonShapeLimits(server);
  acceptEmptyJsonWhereNoBodyIsTaken(server);

  const tokens = new TokenIssuer(await loadJwtSecret(db, config.jwtSecret), config.jwtTtlSeconds, () => clock.now());
  const principals = new PrincipalCache(config.authCacheSeconds * 1000);
  const background = new BackgroundWork(server.log);
  const ctx: AppContext = { config, db, clock, tokens, principals, log: server.log, background };
  server.addHook('onClose', () => background.drain());

  server.addSchema(NativeError);
  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'OpenLead API',
        version: '0.1.0',
        description:
          'Native API under /api (Tether conventions). Vendor-compatible dialects live under /apten/v1, /autocalls/api and /convocore/v3.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or API key' } } },
      security: [{ bearerAuth: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) || `def-${i}` },
  });
  await server.register(apiReference, { routePrefix: '/docs', configuration: { url: '/openapi.json' } });
  server.get('/openapi.json', { schema: { hide: true } }, async () => server.swagger());

  // The root scope answers unknown paths (outside every surface) in the native envelope.
  useErrorEnvelope(server, renderNativeError);
  const metrics = useRequestMetrics(server);
  let shuttingDown = false;
  await server.register(async (health) => {
    // only the health routes' scope: no other request pays for this hook
    health.addHook('onRequest', async (request, reply) => {
      if (shuttingDown && request.routeOptions.url === '/readyz') return reply.status(503).send({ status: 'shutting down', database: db.kind });
    });
    await health.register(healthRoutes(ctx, metrics));
  });

  await server.register(
    async (api) => {
      useErrorEnvelope(api, renderNativeError);
      useBearerAuth(api, ctx);
      await api.register(authRoutes(ctx));
      await api.register(userRoutes(ctx));
      await api.register(organizationRoutes(ctx));
      await api.register(promptRoutes(ctx));
      await api.register(pipelineRoutes(ctx));
      await api.register(leadManagementRoutes(ctx));
      await api.register(agentRoutes(ctx));
      await api.register(campaignRoutes(ctx));
      await api.register(leadRoutes(ctx));
      await api.register(activityRoutes(ctx));
      await api.register(aiRoutes(ctx));
      await api.register(intakeRoutes(ctx));
      await api.register(inboundRoutes(ctx));
      await api.register(importRoutes(ctx));
      await api.register(approvalRoutes(ctx));
      await api.register(applicationRoutes(ctx));
      await api.register(strategyRoutes(ctx));
      await api.register(messageRoutes(ctx));
      await api.register(twilioWebhookRoutes(ctx));
    },
    { prefix: '/api' },
  );

  // Vendor dialects: each its own scope with its own auth header and error envelope.
  await server.register(aptenDialect(ctx), { prefix: '/apten/v1' });
  await server.register(autocallsDialect(ctx), { prefix: '/autocalls/api' });
  await server.register(convocoreDialect(ctx), { prefix: '/convocore/v3' });

  // last, so a failed build leaves no connection open
  if (config.authCacheSeconds > 0 && config.roles.includes('api')) {
    const stopListening = await listenForUserChanges(db, {
      changed: (userId) => principals.forgetUser(userId),
      listening: (listening) => principals.listening(listening),
    });
    server.addHook('onClose', async () => stopListening());
  }
  return { server, ctx, markShuttingDown: () => void (shuttingDown = true) };
}

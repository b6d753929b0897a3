import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { nativeErrors } from '../../http/schemas.ts';
import { callerAsUser, login, register } from './service.ts';
import { LoginBody, RegisterBody, SessionResponse, VerifyResponse } from './schemas.ts';

export function authRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/auth/register',
      {
        config: { public: true },
        schema: { tags: ['Auth'], summary: 'Create an organization and its first (ADMIN) user', body: RegisterBody, response: { 201: SessionResponse, ...nativeErrors(403) } },
      },
      async (request, reply) => {
        const session = await register(ctx, request.body);
        return reply.status(201).send({ ...ok(session), ...session });
      },
    );

    app.post(
      '/auth/login',
      { config: { public: true }, schema: { tags: ['Auth'], summary: 'Exchange email and password for a JWT', body: LoginBody, response: { 200: SessionResponse, ...nativeErrors() } } },
      async (request) => {
        const session = await login(ctx, request.body.email, request.body.password);
        return { ...ok(session), ...session };
      },
    );

    app.get(
      '/auth/verify-token',
      { schema: { tags: ['Auth'], summary: 'Check that the bearer token is valid', response: { 200: VerifyResponse, ...nativeErrors() } } },
      async (request) => ({ success: true as const, message: 'Token is good' as const, data: { user: callerAsUser(request.principal) } }),
    );

    app.post(
      '/auth/refresh',
      { schema: { tags: ['Auth'], summary: 'Issue a fresh token for the caller', response: { 200: SessionResponse, ...nativeErrors() } } },
      async (request) => {
        const { userId, organizationId } = request.principal;
        const session = { token: await ctx.tokens.sign({ userId, organizationId }), user: callerAsUser(request.principal) };
        return { ...ok(session), ...session };
      },
    );
  };
}

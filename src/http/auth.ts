import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { resolveBearer, type Principal } from '../modules/auth/service.ts';
import { unauthorized } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** true for the few routes that need no credentials (register, login) */
    public?: boolean;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1].trim();
}

/**
 * Native authentication: `Authorization: Bearer <JWT or API key>` on every route of the
 * scope except those marked `config: { public: true }`.
 */
export function useBearerAuth(scope: FastifyInstance, ctx: AppContext): void {
  scope.decorateRequest('principal', null as unknown as Principal);
  scope.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    const token = bearerToken(request);
    if (!token) throw unauthorized('Authentication required');
    const principal = await resolveBearer(ctx, token);
    if (!principal) throw unauthorized('Invalid or expired token');
    request.principal = principal;
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { AppError } from '../http/errors.ts';
import { resolveApiKey, type Principal } from '../modules/auth/service.ts';

/**
 * What every vendor dialect shares: it authenticates with a user's API key read from the
 * header its vendor uses, and answers a missing or unknown key with its vendor's error.
 */
export function useApiKeyAuth(
  scope: FastifyInstance,
  ctx: AppContext,
  readKey: (request: FastifyRequest) => string | undefined,
  refuse: () => AppError,
): void {
  scope.decorateRequest('principal', null as unknown as Principal);
  scope.addHook('onRequest', async (request) => {
    const key = readKey(request);
    const principal = key ? await resolveApiKey(ctx, key) : undefined;
    if (!principal) throw refuse();
    request.principal = principal;
  });
}

/** A JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

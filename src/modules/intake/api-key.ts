import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { bearerToken } from '../../http/auth.ts';
import { unauthorized } from '../../http/errors.ts';
import { resolveApiKey, type Principal } from '../auth/service.ts';
import { looksLikeJwt } from '../auth/tokens.ts';

/**
 * Machine-to-machine intake (webhook, hosted inbound mail) takes a user's API key only, as
 * `Authorization: Bearer <key>` or `x-api-key`; a JWT is refused, so a leaked browser
 * session cannot be wired into a lead source.
 */
async function requireApiKey(ctx: AppContext, request: FastifyRequest): Promise<Principal> {
  const header = request.headers['x-api-key'];
  const key = bearerToken(request) ?? (typeof header === 'string' ? header.trim() : undefined);
  if (!key) throw unauthorized('API key required');
  if (looksLikeJwt(key)) throw unauthorized('This endpoint takes an API key, not a login token');
  const principal = await resolveApiKey(ctx, key);
  if (!principal) throw unauthorized('Invalid API key');
  return principal;
}

/**
 * The route hook for it, run when the request arrives: a caller without a valid key learns
 * nothing of the body's rules (401 before any 400 or 413), and no body is read for it.
 */
export const apiKeyOnly = (ctx: AppContext) => async (request: FastifyRequest) => {
  request.principal = await requireApiKey(ctx, request);
};

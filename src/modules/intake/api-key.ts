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
export async function requireApiKey(ctx: AppContext, request: FastifyRequest): Promise<Principal> {
  const header = request.headers['x-api-key'];
  const key = bearerToken(request) ?? (typeof header === 'string' ? header.trim() : undefined);
  if (!key) throw unauthorized('API key required');
  if (looksLikeJwt(key)) throw unauthorized('This endpoint takes an API key, not a login token');
  const principal = await resolveApiKey(ctx, key);
  if (!principal) throw unauthorized('Invalid API key');
  return principal;
}

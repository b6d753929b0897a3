import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { AppError } from '../http/errors.ts';
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

/**
 * A module's field error restated with the vendor's field names (`timezone` → `timeZone`),
 * so the message names the field the client actually sent. Other errors pass unchanged.
 */
export function inVendorTerms(error: unknown, vendorNames: Record<string, string>): unknown {
  if (!(error instanceof AppError) || error.issues.length === 0) return error;
  const issues = error.issues.map(({ field, message }) => {
    const name = vendorNames[field];
    return name === undefined ? { field, message } : { field: name, message: message.startsWith(field) ? name + message.slice(field.length) : message };
  });
  return new AppError(error.status, error.code, issues.map((issue) => issue.message).join('; '), issues, error.data);
}

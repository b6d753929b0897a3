import type { AppContext } from '../../context.ts';
import { forbidden } from '../../http/errors.ts';
import { createUser, toPublicUser, type Principal, type PublicUser } from '../auth/service.ts';
import { hashApiKey, newApiKey } from '../auth/tokens.ts';
import { setApiKeyHash, type AccessRole } from './store.ts';

export function requireAdmin(principal: Principal): void {
  if (principal.role !== 'ADMIN') throw forbidden('Permission denied');
}

export async function addUser(
  ctx: AppContext,
  principal: Principal,
  input: { email: string; password: string; fullName: string; accessRole: AccessRole },
): Promise<PublicUser> {
  requireAdmin(principal);
  return toPublicUser(await createUser(ctx, { ...input, organizationId: principal.organizationId }));
}

/** A new key replaces the previous one; only its hash is kept, so it is shown exactly once. */
export async function regenerateApiKey(ctx: AppContext, principal: Principal): Promise<string> {
  const apiKey = newApiKey();
  await setApiKeyHash(ctx.db, principal.organizationId, principal.userId, hashApiKey(apiKey));
  // this process drops the old key at once; the others when the database's notice reaches them
  ctx.principals.forgetUser(principal.userId);
  return apiKey;
}

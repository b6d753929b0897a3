import type { AppContext } from '../../context.ts';
import { isUniqueViolation, type Queryable } from '../../db/database.ts';
import { badRequest, forbidden, unauthorized } from '../../http/errors.ts';
import { newId } from '../../lib/ids.ts';
import { insertOrganization } from '../organizations/store.ts';
import { DEFAULT_CONTACT_STAGES, insertPipeline } from '../pipelines/store.ts';
import { findUser, findUserByApiKeyHash, findUserByEmail, insertUser, type AccessRole, type UserRow } from '../users/store.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { hashApiKey, looksLikeJwt } from './tokens.ts';

export const MIN_PASSWORD_LENGTH = 8;

/** Who is calling: resolved once per request from a JWT or an API key. */
export interface Principal {
  userId: string;
  organizationId: string;
  role: AccessRole;
  email: string;
  fullName: string | null;
  createdAt: Date;
  via: 'jwt' | 'apiKey';
}

export interface PublicUser {
  id: string;
  email: string;
  fullName: string | null;
  organizationId: string;
  accessRole: AccessRole;
  createdAt: Date;
}

export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    fullName: row.full_name,
    organizationId: row.organization_id,
    accessRole: row.access_role,
    createdAt: row.created_at,
  };
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw badRequest(`password must be at least ${MIN_PASSWORD_LENGTH} characters`, [
      { field: 'password', message: `password must be at least ${MIN_PASSWORD_LENGTH} characters` },
    ]);
  }
}

export async function createUser(
  ctx: AppContext,
  input: { organizationId: string; email: string; password: string; fullName?: string | null; accessRole: AccessRole },
  db: Queryable = ctx.db,
): Promise<UserRow> {
  checkPassword(input.password);
  try {
    return await insertUser(db, {
      id: newId(ctx.clock.now()),
      organizationId: input.organizationId,
      email: input.email.trim(),
      passwordHash: await hashPassword(input.password),
      fullName: input.fullName ?? null,
      accessRole: input.accessRole,
    });
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw badRequest('A user with this email already exists');
    throw error;
  }
}

/** A new organization, its first (ADMIN) user and its default Contact pipeline, all or nothing. */
export async function register(
  ctx: AppContext,
  input: { email: string; password: string; fullName?: string; organizationName: string },
): Promise<{ token: string; user: PublicUser }> {
  if (!ctx.config.allowRegistration) throw forbidden('Registration is disabled');
  checkPassword(input.password);
  const user = await ctx.db.transaction(async (tx) => {
    const organization = await insertOrganization(tx, {
      id: newId(ctx.clock.now()),
      name: input.organizationName.trim(),
      // how its phone numbers written without a country code are read
      defaultCountry: ctx.config.defaultCountry,
    });
    await insertPipeline(tx, organization.id, {
      name: 'Sales Pipeline',
      type: 'Contact',
      isDefault: true,
      stages: DEFAULT_CONTACT_STAGES,
      now: ctx.clock.now(),
    });
    return createUser(ctx, { ...input, organizationId: organization.id, accessRole: 'ADMIN' }, tx);
  });
  return { token: await ctx.tokens.sign({ userId: user.id, organizationId: user.organization_id }), user: toPublicUser(user) };
}

export async function login(ctx: AppContext, email: string, password: string): Promise<{ token: string; user: PublicUser }> {
  const user = await findUserByEmail(ctx.db, email.trim());
  // Verify against a throwaway hash when the user is unknown, so timing does not reveal which emails exist.
  const valid = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
  if (!user || !valid) throw unauthorized('Invalid email or password');
  return { token: await ctx.tokens.sign({ userId: user.id, organizationId: user.organization_id }), user: toPublicUser(user) };
}

const DUMMY_HASH = await hashPassword('dummy-password-for-timing');

function principal(user: UserRow, via: Principal['via']): Principal {
  return {
    userId: user.id,
    organizationId: user.organization_id,
    role: user.access_role,
    email: user.email,
    fullName: user.full_name,
    createdAt: user.created_at,
    via,
  };
}

/** The caller as the API shows a user: the auth hook has already read the row. */
export function callerAsUser(principal: Principal): PublicUser {
  return {
    id: principal.userId,
    email: principal.email,
    fullName: principal.fullName,
    organizationId: principal.organizationId,
    accessRole: principal.role,
    createdAt: principal.createdAt,
  };
}

/** Resolves a bearer credential (JWT or API key) to the calling user, or undefined. */
export function resolveBearer(ctx: AppContext, credential: string): Promise<Principal | undefined> {
  if (!looksLikeJwt(credential)) return resolveApiKey(ctx, credential);
  return ctx.principals.resolve(`jwt:${credential}`, ctx.clock.now().getTime(), async () => {
    const claims = await ctx.tokens.verify(credential);
    const user = claims && (await findUser(ctx.db, claims.organizationId, claims.userId));
    return user && { principal: principal(user, 'jwt'), validUntil: claims.expiresAt };
  });
}

export function resolveApiKey(ctx: AppContext, key: string): Promise<Principal | undefined> {
  if (!key) return Promise.resolve(undefined);
  return ctx.principals.resolve(`key:${key}`, ctx.clock.now().getTime(), async () => {
    const user = await findUserByApiKeyHash(ctx.db, hashApiKey(key));
    return user && { principal: principal(user, 'apiKey'), validUntil: Number.POSITIVE_INFINITY };
  });
}

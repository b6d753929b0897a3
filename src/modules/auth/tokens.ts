import { createHash, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Queryable } from '../../db/database.ts';
import { storedJwtSecret } from './store.ts';

export interface TokenClaims {
  userId: string;
  organizationId: string;
}

/**
 * The JWT secret: JWT_SECRET when set, else one generated on first start and kept in the
 * database (inside the data dir for PGlite), so every api node of a deployment shares it.
 */
export async function loadJwtSecret(db: Queryable, configured?: string): Promise<Uint8Array> {
  if (configured) return new TextEncoder().encode(configured);
  return new TextEncoder().encode(await storedJwtSecret(db, randomBytes(48).toString('base64url')));
}

export interface VerifiedToken extends TokenClaims {
  /** ms since the epoch */
  expiresAt: number;
}

export class TokenIssuer {
  // Imported once: handing jose raw bytes makes it import the key on every verification.
  private readonly secret: KeyObject;

  constructor(
    secret: Uint8Array,
    private readonly ttlSeconds: number,
    private readonly now: () => Date,
  ) {
    this.secret = createSecretKey(secret);
  }

  sign(claims: TokenClaims): Promise<string> {
    const issuedAt = Math.floor(this.now().getTime() / 1000);
    return new SignJWT({ org: claims.organizationId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.userId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.ttlSeconds)
      .sign(this.secret);
  }

  /**
   * A short keyed tag of `value` for `purpose` (64 bits of HMAC-SHA256 under the instance
   * secret), for identifiers handed out in the open, such as reply addresses.
   */
  tag(purpose: string, value: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}:${value}`).digest('hex').slice(0, 16);
  }

  /** The claims of a valid, unexpired token; undefined for anything else. */
  async verify(token: string): Promise<VerifiedToken | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        currentDate: this.now(),
      });
      if (typeof payload.sub !== 'string' || typeof payload.org !== 'string' || typeof payload.exp !== 'number') return undefined;
      return { userId: payload.sub, organizationId: payload.org, expiresAt: payload.exp * 1000 };
    } catch {
      return undefined;
    }
  }
}

export const API_KEY_PREFIX = 'olk_';

export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** API keys carry 256 random bits, so a fast hash is enough to store them safely. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}

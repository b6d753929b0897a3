import path from 'node:path';
import { isSupportedCountry } from 'libphonenumber-js';

export type Role = 'api' | 'worker' | 'inbound';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** PostgreSQL server URL; when absent the embedded PGlite database in `dataDir` is used. */
  databaseUrl?: string;
  /** HS256 secret for JWTs; when absent one is generated once and kept in the database (`instance_settings`). */
  jwtSecret?: string;
  jwtTtlSeconds: number;
  /** How long a credential's principal is kept in memory between checks; 0 reads it on every request. */
  authCacheSeconds: number;
  allowRegistration: boolean;
  bodyLimitBytes: number;
  logLevel: string;
  roles: Role[];
  /** The country in which a new organization reads phone numbers written without a country code (two letters). */
  defaultCountry: string;
  inboundSmtpPort: number;
  smtpUrl?: string;
  smtpFrom: string;
  /** A domain whose mail reaches the inbound SMTP listener: outbound emails ask to be answered there. */
  replyEmailDomain?: string;
  twilio?: { accountSid: string; authToken: string; from: string; baseUrl: string };
  publicUrl?: string;
  openai?: { baseUrl?: string; apiKey: string; model: string; timeoutMs: number };
  workerPollMs: number;
  /** Seconds between vacuum/analyze passes over the embedded PGlite database (0: none); PostgreSQL has autovacuum. */
  pgliteMaintenanceSeconds: number;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function country(raw: string | undefined): string {
  if (!raw) return 'US';
  if (!isSupportedCountry(raw)) throw new ConfigError(`DEFAULT_COUNTRY must be a two-letter country code such as US or GB, got "${raw}"`);
  return raw;
}

function roles(raw: string | undefined): Role[] {
  if (!raw || raw === 'all') return ['api', 'worker', 'inbound'];
  const list = raw.split(',').map((r) => r.trim());
  for (const role of list) {
    if (role !== 'api' && role !== 'worker' && role !== 'inbound') {
      throw new ConfigError(`ROLE must be a comma-separated list of api, worker, inbound or "all", got "${raw}"`);
    }
  }
  return list as Role[];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const twilioSid = env.TWILIO_ACCOUNT_SID;
  const openaiKey = env.OPENAI_API_KEY;
  return {
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 2212, 0, 65535),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    jwtSecret: env.JWT_SECRET || undefined,
    jwtTtlSeconds: integer(env, 'JWT_TTL_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    authCacheSeconds: integer(env, 'AUTH_CACHE_SECONDS', 60, 0, 3600),
    allowRegistration: boolean(env, 'ALLOW_REGISTRATION', true),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    logLevel: env.LOG_LEVEL || 'info',
    roles: roles(env.ROLE),
    defaultCountry: country(env.DEFAULT_COUNTRY),
    inboundSmtpPort: integer(env, 'INBOUND_SMTP_PORT', 2525, 0, 65535),
    smtpUrl: env.SMTP_URL || undefined,
    smtpFrom: env.SMTP_FROM || 'OpenLead <no-reply@openlead.local>',
    replyEmailDomain: env.REPLY_EMAIL_DOMAIN || undefined,
    twilio: twilioSid
      ? {
          accountSid: twilioSid,
          authToken: env.TWILIO_AUTH_TOKEN || '',
          from: env.TWILIO_FROM || '',
          baseUrl: env.TWILIO_BASE_URL || 'https://api.twilio.com',
        }
      : undefined,
    publicUrl: env.PUBLIC_URL || undefined,
    openai: openaiKey
      ? {
          baseUrl: env.OPENAI_BASE_URL || undefined,
          apiKey: openaiKey,
          model: env.OPENAI_MODEL || 'gpt-4o-mini',
          timeoutMs: integer(env, 'OPENAI_TIMEOUT_MS', 20000, 100, 600000),
        }
      : undefined,
    workerPollMs: integer(env, 'WORKER_POLL_MS', 1000, 10, 600000),
    pgliteMaintenanceSeconds: integer(env, 'PGLITE_MAINTENANCE_SECONDS', 60, 0, 86400),
  };
}

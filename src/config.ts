import { isIP } from 'node:net';
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
  /** The AI composer's endpoint, set by a key or a base URL: a local server (Ollama, llama.cpp) takes no key. */
  openai?: { baseUrl?: string; apiKey?: string; model: string; timeoutMs: number };
  workerPollMs: number;
  /** Seconds between vacuum/analyze passes over the embedded PGlite database (0: none); PostgreSQL has autovacuum. */
  pgliteMaintenanceSeconds: number;
  /**
   * How long a stopping process waits for work in flight (worker batches, HTTP requests,
   * SMTP sessions, background answers) before it closes the database and exits anyway.
   */
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // decimal digits only: Number() would also read "0x10", "1e3", " 8 " and "0b1"
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(raw: string | undefined): string {
  if (!raw) return 'info';
  const level = raw.toLowerCase();
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level;
}

/**
 * A URL setting: parsed, written `<scheme>://…` with one of `schemes`, and naming a host. A
 * `secret` one (it may carry a password) is never repeated in the error.
 */
function url(env: NodeJS.ProcessEnv, name: string, schemes: string[], options: { secret?: boolean } = {}): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    // reported below
  }
  const scheme = parsed?.protocol.slice(0, -1) ?? '';
  const valid = parsed && schemes.includes(scheme) && raw.toLowerCase().startsWith(`${scheme}://`) && parsed.hostname !== '';
  if (!valid) {
    const expected = schemes.map((s) => `${s}://`).join(' or ');
    throw new ConfigError(`${name} must be a URL starting with ${expected}${options.secret ? '' : `, got "${raw}"`}`);
  }
  return raw;
}

/**
 * DATABASE_URL as node-postgres reads it, which is laxer than a WHATWG URL: a postgres:// or
 * postgresql:// connection string (`postgres://u:p@/db?host=/var/run/postgresql`, a socket
 * directory with a password, is not a URL `new URL` accepts), or the socket forms `socket:…`
 * and a socket directory path. Never repeated in the error: it may carry a password.
 */
function databaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.DATABASE_URL;
  if (!raw) return undefined;
  if (!/^(postgres(ql)?:\/\/|socket:|\/)/i.test(raw)) {
    throw new ConfigError('DATABASE_URL must be a URL starting with postgres:// or postgresql://, a socket: URL, or a socket directory path such as /var/run/postgresql');
  }
  return raw;
}

const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

function domain(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  if (raw.length > 253 || !raw.split('.').every((label) => DOMAIN_LABEL.test(label))) {
    throw new ConfigError(`${name} must be a domain name such as replies.example.com, got "${raw}"`);
  }
  return raw;
}

function host(raw: string | undefined): string {
  if (!raw) return '127.0.0.1';
  // an IP address must be a valid one (999.1.1.1 is not); anything else is a host name
  const valid = /^[0-9.]+$/.test(raw) || raw.includes(':') ? isIP(raw) !== 0 : /^[a-z0-9._-]+$/i.test(raw);
  if (!valid) throw new ConfigError(`HOST must be an IP address or a host name, got "${raw}"`);
  return raw;
}

const TWILIO_REQUIRED = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const;
const TWILIO_NAMES = 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM';

/** Twilio is all or nothing: half a configuration would send texts and calls to the log channel unnoticed. */
function twilio(env: NodeJS.ProcessEnv): Config['twilio'] {
  const baseUrl = url(env, 'TWILIO_BASE_URL', ['http', 'https']);
  const missing = TWILIO_REQUIRED.filter((name) => !env[name]);
  if (missing.length === TWILIO_REQUIRED.length) {
    if (baseUrl) throw new ConfigError(`TWILIO_BASE_URL is set but ${TWILIO_NAMES} are not`);
    return undefined;
  }
  if (missing.length > 0) {
    throw new ConfigError(`${TWILIO_NAMES} must be set together (or none of them), but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`);
  }
  return { accountSid: env.TWILIO_ACCOUNT_SID!, authToken: env.TWILIO_AUTH_TOKEN!, from: env.TWILIO_FROM!, baseUrl: baseUrl ?? 'https://api.twilio.com' };
}

/**
 * HS256 wants a key of at least 256 bits (RFC 7518): anyone holding one token can try short
 * secrets offline until its signature matches, then sign tokens of their own.
 */
const MIN_JWT_SECRET_LENGTH = 32;

function jwtSecret(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigError(`JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 48\`), or unset to have one generated`);
  }
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
  const openaiKey = env.OPENAI_API_KEY || undefined;
  const openaiBaseUrl = url(env, 'OPENAI_BASE_URL', ['http', 'https']);
  // judged even while no model is configured: a bad value is found when it is written, not when AI is turned on
  const openaiTimeoutMs = integer(env, 'OPENAI_TIMEOUT_MS', 20000, 100, 600000);
  return {
    host: host(env.HOST),
    port: integer(env, 'PORT', 2212, 0, 65535),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl: databaseUrl(env),
    jwtSecret: jwtSecret(env.JWT_SECRET),
    jwtTtlSeconds: integer(env, 'JWT_TTL_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    authCacheSeconds: integer(env, 'AUTH_CACHE_SECONDS', 60, 0, 3600),
    allowRegistration: boolean(env, 'ALLOW_REGISTRATION', true),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    logLevel: logLevel(env.LOG_LEVEL),
    roles: roles(env.ROLE),
    defaultCountry: country(env.DEFAULT_COUNTRY),
    inboundSmtpPort: integer(env, 'INBOUND_SMTP_PORT', 2525, 0, 65535),
    smtpUrl: url(env, 'SMTP_URL', ['smtp', 'smtps'], { secret: true }),
    smtpFrom: env.SMTP_FROM || 'OpenLead <no-reply@openlead.local>',
    replyEmailDomain: domain(env, 'REPLY_EMAIL_DOMAIN'),
    twilio: twilio(env),
    publicUrl: url(env, 'PUBLIC_URL', ['http', 'https']),
    openai:
      openaiKey || openaiBaseUrl
        ? {
            baseUrl: openaiBaseUrl,
            apiKey: openaiKey,
            model: env.OPENAI_MODEL || 'gpt-4o-mini',
            timeoutMs: openaiTimeoutMs,
          }
        : undefined,
    workerPollMs: integer(env, 'WORKER_POLL_MS', 1000, 10, 600000),
    pgliteMaintenanceSeconds: integer(env, 'PGLITE_MAINTENANCE_SECONDS', 60, 0, 86400),
    // at least long enough for the responses already being written to finish
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 5000, 100, 600000),
  };
}

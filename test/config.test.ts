import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration from the environment', () => {
  test('DEFAULT_COUNTRY is US unless set, and must be a country code the phone library knows', () => {
    assert.equal(loadConfig({}).defaultCountry, 'US');
    assert.equal(loadConfig({ DEFAULT_COUNTRY: 'GB' }).defaultCountry, 'GB');
    for (const bad of ['XX', 'usa', 'gb']) {
      assert.throws(() => loadConfig({ DEFAULT_COUNTRY: bad }), (error: unknown) => error instanceof ConfigError && /DEFAULT_COUNTRY/.test(error.message), bad);
    }
  });

  test('PGLITE_MAINTENANCE_SECONDS is 60 unless set, 0 turns it off, and it must be a whole number of seconds', () => {
    assert.equal(loadConfig({}).pgliteMaintenanceSeconds, 60);
    assert.equal(loadConfig({ PGLITE_MAINTENANCE_SECONDS: '0' }).pgliteMaintenanceSeconds, 0);
    assert.throws(() => loadConfig({ PGLITE_MAINTENANCE_SECONDS: '1.5' }), ConfigError);
  });

  const refused = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => error instanceof ConfigError && pattern.test(error.message) && !error.message.includes('\n'),
      JSON.stringify(env),
    );

  test('LOG_LEVEL must be a pino level (any case), not something pino throws on at start', () => {
    assert.equal(loadConfig({}).logLevel, 'info');
    assert.equal(loadConfig({ LOG_LEVEL: 'WARN' }).logLevel, 'warn');
    refused({ LOG_LEVEL: 'nonsense' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "nonsense"$/);
  });

  test('integers are decimal digits only: 0x10, 1e3, " 80" and +80 are refused', () => {
    assert.equal(loadConfig({ PORT: '16' }).port, 16);
    for (const bad of ['0x10', '1e3', ' 80', '+80', '-1', '80.0', '0b1', '99999999999999999999']) refused({ PORT: bad }, /^PORT must be an integer between 0 and 65535/);
  });

  test('HOST must be an IP address or a host name', () => {
    for (const good of ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost', 'api.internal']) assert.equal(loadConfig({ HOST: good }).host, good);
    for (const bad of ['999.1.1.1', '1.2.3', 'not a host', '[::1]']) refused({ HOST: bad }, /^HOST must be an IP address or a host name/);
  });

  test('DATABASE_URL must be a postgres:// URL or a socket form, and the refusal does not repeat it (it may hold a password)', () => {
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }).databaseUrl, 'postgres://postgres@127.0.0.1:5432/test');
    assert.ok(loadConfig({ DATABASE_URL: 'postgresql://u:p@db/app?sslmode=require' }).databaseUrl);
    assert.ok(loadConfig({ DATABASE_URL: 'postgres:///app?host=/var/run/postgresql' }).databaseUrl);
    // node-postgres's socket forms, which a WHATWG URL parser refuses or does not know
    for (const socket of ['postgres://u:p@/app?host=/var/run/postgresql', 'socket:/var/run/postgresql?db=app', '/var/run/postgresql app']) {
      assert.equal(loadConfig({ DATABASE_URL: socket }).databaseUrl, socket);
    }
    for (const bad of ['garbage', 'mysql://u:hunter2@db/app', 'postgres:hunter2@db', 'http://db:5432/app']) {
      refused({ DATABASE_URL: bad }, /^DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/, a socket: URL, or a socket directory path such as \/var\/run\/postgresql$/);
    }
  });

  test('Twilio is all or nothing: account SID, auth token and sender together; TWILIO_BASE_URL is optional but needs them', () => {
    const full = { TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15550001111' };
    assert.equal(loadConfig({}).twilio, undefined);
    assert.deepEqual(loadConfig(full).twilio, { accountSid: 'AC123', authToken: 'token', from: '+15550001111', baseUrl: 'https://api.twilio.com' });
    assert.equal(loadConfig({ ...full, TWILIO_BASE_URL: 'http://127.0.0.1:9999' }).twilio?.baseUrl, 'http://127.0.0.1:9999');
    refused({ TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15550001111' }, /must be set together .* but TWILIO_ACCOUNT_SID is not set$/);
    refused({ TWILIO_ACCOUNT_SID: 'AC123' }, /but TWILIO_AUTH_TOKEN and TWILIO_FROM are not set$/);
    refused({ ...full, TWILIO_AUTH_TOKEN: '' }, /but TWILIO_AUTH_TOKEN is not set$/);
    refused({ TWILIO_BASE_URL: 'https://api.twilio.com' }, /^TWILIO_BASE_URL is set but/);
    refused({ ...full, TWILIO_BASE_URL: 'api.twilio.com' }, /^TWILIO_BASE_URL must be a URL starting with http:\/\/ or https:\/\//);
  });

  test('JWT_SECRET is at least 32 characters: a short one could be found from any token offline', () => {
    refused({ JWT_SECRET: 'a' }, /^JWT_SECRET must be at least 32 characters/);
    refused({ JWT_SECRET: 'x'.repeat(31) }, /^JWT_SECRET must be at least 32 characters/);
    assert.equal(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).jwtSecret, 'x'.repeat(32));
    assert.equal(loadConfig({ JWT_SECRET: '' }).jwtSecret, undefined);
  });

  test('OPENAI_TIMEOUT_MS is judged whether or not a model is configured', () => {
    refused({ OPENAI_TIMEOUT_MS: 'abc' }, /^OPENAI_TIMEOUT_MS must be an integer between 100 and 600000, got "abc"$/);
    assert.equal(loadConfig({ OPENAI_API_KEY: 'k', OPENAI_TIMEOUT_MS: '1500' }).openai?.timeoutMs, 1500);
  });

  test('SMTP_URL must be an smtp:// or smtps:// URL with a host, not repeated in the refusal', () => {
    assert.equal(loadConfig({ SMTP_URL: 'smtp://user:pass@mail.example.com:587' }).smtpUrl, 'smtp://user:pass@mail.example.com:587');
    assert.ok(loadConfig({ SMTP_URL: 'smtps://mail.example.com?pool=false' }).smtpUrl);
    for (const bad of ['notaurl', 'http://mail.example.com', 'smtp:mail.example.com', 'smtp://']) refused({ SMTP_URL: bad }, /^SMTP_URL must be a URL starting with smtp:\/\/ or smtps:\/\/$/);
  });

  test('PUBLIC_URL and OPENAI_BASE_URL must be http(s) URLs', () => {
    assert.equal(loadConfig({ PUBLIC_URL: 'https://leads.example.com' }).publicUrl, 'https://leads.example.com');
    assert.equal(loadConfig({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).openai?.baseUrl, 'http://127.0.0.1:11434/v1');
    // a local endpoint takes no key: the base URL alone turns the composer on
    assert.deepEqual(loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).openai, { baseUrl: 'http://127.0.0.1:11434/v1', apiKey: undefined, model: 'gpt-4o-mini', timeoutMs: 20000 });
    assert.equal(loadConfig({ OPENAI_API_KEY: '' }).openai, undefined);
    for (const bad of ['leads.example.com', 'ftp://leads.example.com', 'https//leads.example.com']) {
      refused({ PUBLIC_URL: bad }, /^PUBLIC_URL must be a URL starting with http:\/\/ or https:\/\/, got /);
      refused({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: bad }, /^OPENAI_BASE_URL must be a URL starting with http:\/\/ or https:\/\/, got /);
    }
  });

  test('REPLY_EMAIL_DOMAIN must look like a domain', () => {
    assert.equal(loadConfig({ REPLY_EMAIL_DOMAIN: 'replies.example.com' }).replyEmailDomain, 'replies.example.com');
    for (const bad of ['not_a_domain!', 'replies..example.com', '-replies.example.com', 'reply@example.com', 'example.com/'])
      refused({ REPLY_EMAIL_DOMAIN: bad }, /^REPLY_EMAIL_DOMAIN must be a domain name/);
  });

  test('SHUTDOWN_TIMEOUT_MS is 5000 unless set', () => {
    assert.equal(loadConfig({}).shutdownTimeoutMs, 5000);
    assert.equal(loadConfig({ SHUTDOWN_TIMEOUT_MS: '2000' }).shutdownTimeoutMs, 2000);
    refused({ SHUTDOWN_TIMEOUT_MS: '5s' }, /^SHUTDOWN_TIMEOUT_MS must be an integer/);
    refused({ SHUTDOWN_TIMEOUT_MS: '0' }, /^SHUTDOWN_TIMEOUT_MS must be/);
  });
});

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
});

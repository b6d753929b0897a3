import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isInsideWindow, isValidTimezone, nextOpening, zonedInstant, type SendWindow } from '../src/modules/followups/business-hours.ts';

const weekdays = { start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6] };
const newYork: SendWindow = { timezone: 'America/New_York', ...weekdays };
const at = (iso: string) => new Date(iso);

describe('sending window', () => {
  test('inside the window sends at once', () => {
    // Monday 2026-06-01 10:00 in New York (EDT, UTC-4)
    assert.deepEqual(nextOpening(at('2026-06-01T14:00:00Z'), newYork), at('2026-06-01T14:00:00Z'));
    assert.equal(isInsideWindow(at('2026-06-01T14:00:00Z'), newYork), true);
  });

  test('before opening waits for 09:00 local the same day', () => {
    assert.deepEqual(nextOpening(at('2026-06-01T11:00:00Z'), newYork), at('2026-06-01T13:00:00Z'));
  });

  test('the closing time is exclusive and after closing waits for the next day', () => {
    assert.equal(isInsideWindow(at('2026-06-02T00:00:00Z'), newYork), false); // Monday 20:00 EDT
    assert.deepEqual(nextOpening(at('2026-06-02T00:00:00Z'), newYork), at('2026-06-02T13:00:00Z'));
  });

  test('a day outside the window (Sunday) waits for Monday', () => {
    // Saturday 2026-06-06 21:00 EDT → Monday 2026-06-08 09:00 EDT
    assert.deepEqual(nextOpening(at('2026-06-07T01:00:00Z'), newYork), at('2026-06-08T13:00:00Z'));
  });

  test('the same instant opens differently in different timezones', () => {
    const instant = at('2026-06-01T06:00:00Z'); // 08:00 in Paris, 23:00 Sunday in Los Angeles, 15:00 in Tokyo
    assert.deepEqual(nextOpening(instant, { timezone: 'Europe/Paris', ...weekdays }), at('2026-06-01T07:00:00Z'));
    assert.deepEqual(nextOpening(instant, { timezone: 'America/Los_Angeles', ...weekdays }), at('2026-06-01T16:00:00Z'));
    assert.deepEqual(nextOpening(instant, { timezone: 'Asia/Tokyo', ...weekdays }), instant);
  });

  test('across the spring-forward DST boundary the opening follows local time', () => {
    // New York moves to EDT on Sunday 2026-03-08. Saturday 21:00 EST = 02:00Z Sunday.
    const everyDay = { ...newYork, days: [1, 2, 3, 4, 5, 6, 7] };
    assert.deepEqual(nextOpening(at('2026-03-08T02:00:00Z'), everyDay), at('2026-03-08T13:00:00Z')); // 09:00 EDT
    assert.deepEqual(nextOpening(at('2026-03-08T02:00:00Z'), newYork), at('2026-03-09T13:00:00Z')); // Monday 09:00 EDT
    assert.deepEqual(nextOpening(at('2026-03-07T01:30:00Z'), newYork), at('2026-03-07T14:00:00Z')); // Saturday 09:00 EST
  });

  test('across the fall-back DST boundary the opening follows local time', () => {
    // Europe/Paris leaves CEST on Sunday 2026-10-25; Monday opens at 09:00 CET = 08:00Z
    const paris: SendWindow = { timezone: 'Europe/Paris', ...weekdays };
    assert.deepEqual(nextOpening(at('2026-10-24T19:00:00Z'), paris), at('2026-10-26T08:00:00Z'));
    assert.deepEqual(nextOpening(at('2026-10-24T06:00:00Z'), paris), at('2026-10-24T07:00:00Z')); // Saturday 09:00 CEST
  });

  test('an opening inside the hour spring-forward skips opens at the jump, not a day later', () => {
    // 02:30 does not exist in New York on 2026-03-08 (02:00 EST → 03:00 EDT), nor in Paris
    // on 2026-03-29 (02:00 CET → 03:00 CEST), nor in Sydney on 2026-10-04 (02:00 AEST → 03:00 AEDT)
    const gaps = [
      { timezone: 'America/New_York', date: [2026, 3, 8], before: '2026-03-08T06:00:00Z', opens: '2026-03-08T07:30:00Z' },
      { timezone: 'Europe/Paris', date: [2026, 3, 29], before: '2026-03-29T00:30:00Z', opens: '2026-03-29T01:30:00Z' },
      { timezone: 'Australia/Sydney', date: [2026, 10, 4], before: '2026-10-03T15:00:00Z', opens: '2026-10-03T16:30:00Z' },
    ];
    for (const { timezone, date, before, opens } of gaps) {
      const [year, month, day] = date;
      assert.deepEqual(zonedInstant(year, month, day, 2.5 * 3600, timezone), at(opens), timezone);
      const window: SendWindow = { timezone, start: '02:30', end: '20:00', days: [1, 2, 3, 4, 5, 6, 7] };
      assert.deepEqual(nextOpening(at(before), window), at(opens), timezone);
      assert.equal(isInsideWindow(at(opens), window), true, timezone);
    }
  });

  test('the wall-clock conversion handles both DST offsets', () => {
    assert.deepEqual(zonedInstant(2026, 1, 15, 9 * 3600, 'America/New_York'), at('2026-01-15T14:00:00Z'));
    assert.deepEqual(zonedInstant(2026, 7, 15, 9 * 3600, 'America/New_York'), at('2026-07-15T13:00:00Z'));
    assert.deepEqual(zonedInstant(2026, 7, 15, 9 * 3600 + 30 * 60, 'Asia/Kolkata'), at('2026-07-15T04:00:00Z'));
  });

  test('"24:00" closes at midnight and a window that never opens holds nothing back', () => {
    const allDay: SendWindow = { timezone: 'UTC', start: '00:00', end: '24:00', days: [1, 2, 3, 4, 5, 6, 7] };
    assert.equal(isInsideWindow(at('2026-06-07T23:59:59Z'), allDay), true);
    const never: SendWindow = { timezone: 'UTC', start: '09:00', end: '20:00', days: [] };
    assert.deepEqual(nextOpening(at('2026-06-07T23:00:00Z'), never), at('2026-06-07T23:00:00Z'));
  });

  test('timezone names are checked against the platform tz database', () => {
    assert.equal(isValidTimezone('America/New_York'), true);
    assert.equal(isValidTimezone('Mars/Olympus_Mons'), false);
  });
});

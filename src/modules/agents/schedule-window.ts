import { Type } from '@sinclair/typebox';

/** The pieces of a sending window that agents (business hours) and campaigns (allowed hours) share. */

export const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: '24-hour HH:MM' });
export const IsoWeekdays = Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
  minItems: 1,
  maxItems: 7,
  uniqueItems: true,
  description: 'ISO weekdays, 1 = Monday … 7 = Sunday',
});
export const TimeZoneName = Type.String({ minLength: 1, maxLength: 64, description: 'tz database name, e.g. America/New_York' });

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A PostgreSQL `time` column comes back as "HH:MM:SS"; the API speaks "HH:MM". */
export function toClockTime(value: string): string {
  return value.slice(0, 5);
}

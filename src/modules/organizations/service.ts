import { isSupportedCountry } from 'libphonenumber-js';
import type { AppContext } from '../../context.ts';
import { isUniqueViolation, type Queryable } from '../../db/database.ts';
import { invalidField, notFound } from '../../http/errors.ts';
import { isE164 } from '../../lib/phone.ts';
import { isTimeZone, toClockTime } from '../agents/schedule-window.ts';
import type { Principal } from '../auth/service.ts';
import { validateFollowUpConfig } from '../followups/schedule.ts';
import { requireAdmin } from '../users/service.ts';
import { findOrganization, setOrganizationSmsFrom, updateOrganizationSettings, type OrganizationRow, type OrganizationSettings } from './store.ts';

export const ORGANIZATION_NOT_FOUND = 'Organization not found';

export function toOrganizationDto(row: OrganizationRow) {
  return {
    _id: row.id,
    name: row.name,
    timezone: row.timezone,
    defaultCountry: row.default_country,
    sendWindowStart: toClockTime(row.send_window_start),
    sendWindowEnd: toClockTime(row.send_window_end),
    sendDays: row.send_days.map(Number),
    longTermIntervalHours: row.long_term_interval_hours,
    emailEnabled: row.email_enabled,
    defaultFollowUpConfig: row.default_follow_up_config,
    smsFrom: row.sms_from,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The caller's organization (it exists while its users do). */
export async function getOrganization(ctx: AppContext, principal: Principal): Promise<OrganizationRow> {
  const row = await findOrganization(ctx.db, principal.organizationId);
  if (!row) throw notFound(ORGANIZATION_NOT_FOUND);
  return row;
}

/**
 * ADMIN only. The window, the timezone and the country are checked like an agent's business
 * hours and like DEFAULT_COUNTRY; the default cadence like an agent's: its email steps need
 * the organization's email, also when this change turns email off (call steps are allowed:
 * voice is an agent's setting, and the organization has no switch for it). The row is locked
 * from the read of the settings the change is checked against to the one UPDATE.
 */
export function changeOrganization(ctx: AppContext, principal: Principal, changes: Partial<OrganizationSettings>): Promise<OrganizationRow> {
  requireAdmin(principal);
  if (changes.timezone !== undefined && !isTimeZone(changes.timezone)) {
    throw invalidField('timezone', 'must be a tz database time zone (e.g. America/New_York)');
  }
  if (changes.defaultCountry !== undefined && !isSupportedCountry(changes.defaultCountry)) {
    throw invalidField('defaultCountry', 'must be a two-letter country code such as US or GB');
  }
  return ctx.db.transaction(async (tx) => {
    const current = await findOrganization(tx, principal.organizationId, true);
    if (!current) throw notFound(ORGANIZATION_NOT_FOUND);
    if (changes.sendWindowStart !== undefined || changes.sendWindowEnd !== undefined) {
      const start = changes.sendWindowStart ?? toClockTime(current.send_window_start);
      const end = changes.sendWindowEnd ?? toClockTime(current.send_window_end);
      if (start >= end) throw invalidField('sendWindowEnd', 'must be later than sendWindowStart');
    }
    if (changes.defaultFollowUpConfig !== undefined || changes.emailEnabled !== undefined) {
      const cadence = changes.defaultFollowUpConfig === undefined ? current.default_follow_up_config : changes.defaultFollowUpConfig;
      if (cadence) {
        validateFollowUpConfig(
          cadence,
          {
            useStrategiesForFollowUps: true,
            agentVoiceEnabled: true,
            agentEmailEnabled: true,
            organizationEmailEnabled: changes.emailEnabled ?? current.email_enabled,
          },
          'defaultFollowUpConfig',
        );
      }
    }
    return updateOrganizationSettings(tx, current.id, changes, ctx.clock.now());
  });
}

/**
 * The operator's assignment of an organization's own sender number (null: back to the shared
 * TWILIO_FROM). Refused with a message: a number not in E.164, the shared number itself
 * (replies to it would all be taken from the organizations sharing it), a number another
 * organization has, an unknown organization.
 */
export async function assignSmsNumber(db: Queryable, organizationId: string, smsFrom: string | null, sharedFrom: string | undefined, now: Date): Promise<void> {
  if (smsFrom !== null && !isE164(smsFrom)) throw new Error(`${smsFrom} is not a phone number in E.164 form, such as +15550001111`);
  if (smsFrom !== null && smsFrom === sharedFrom) throw new Error(`${smsFrom} is TWILIO_FROM, the number the organizations without their own share`);
  try {
    if (!(await setOrganizationSmsFrom(db, organizationId, smsFrom, now))) throw new Error(`no organization ${organizationId}`);
  } catch (error) {
    if (isUniqueViolation(error, 'organizations_sms_from')) throw new Error(`${smsFrom} is already the sender number of another organization`);
    throw error;
  }
}

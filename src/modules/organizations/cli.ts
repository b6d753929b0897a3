import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { systemClock } from '../../lib/clock.ts';
import { assignSmsNumber } from './service.ts';
import { findOrganization } from './store.ts';

/**
 * `openlead sms-number ORGANIZATION_ID [NUMBER] [--clear]`: the operator gives an organization
 * its own sender number, takes it back, or (neither) reads it. Answers the line to print.
 */
export async function runSmsNumberCommand(db: Database, config: Config, organizationId: string, number: string | undefined, clear: boolean): Promise<string> {
  if (number !== undefined && clear) throw new Error('give a number or --clear, not both');
  const shared = config.twilio?.from;
  const sharedLine = `${organizationId} sends from the shared number${shared ? ` ${shared}` : ' (TWILIO_FROM is not set)'}`;
  if (number === undefined && !clear) {
    const organization = await findOrganization(db, organizationId);
    if (!organization) throw new Error(`no organization ${organizationId}`);
    return organization.sms_from ? `${organizationId} sends from ${organization.sms_from}` : sharedLine;
  }
  await assignSmsNumber(db, organizationId, number ?? null, shared, systemClock.now());
  return number ? `${organizationId} now sends from ${number}` : sharedLine;
}

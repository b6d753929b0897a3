import type { AppContext } from '../../context.ts';
import { badRequest, notFound } from '../../http/errors.ts';
import { isId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { CONFIGURATION_NOT_FOUND, getActiveConfiguration, type RoutingConfiguration } from '../lead-management/service.ts';
import { findConfiguration } from '../lead-management/store.ts';
import { contactFromFields, normalizeKey, type IncomingContact } from './contact.ts';
import { routeLead, type RoutingResult } from './route.ts';

const CONFIGURATION_KEYS = ['configurationId', 'configuration_id', 'CONFIGURATION_ID'];
const IGNORED_KEYS = new Set(CONFIGURATION_KEYS.map(normalizeKey));

/** configurationId, configuration_id or CONFIGURATION_ID, from the body or else the query string. */
export function configurationIdOf(body: Record<string, unknown>, query: Record<string, unknown>): string {
  for (const source of [body, query]) {
    for (const key of CONFIGURATION_KEYS) {
      const value = source[key];
      if (typeof value === 'string' && value.trim() !== '') return value.trim();
    }
  }
  throw badRequest('configurationId is required', [{ field: 'configurationId', message: 'configurationId is required' }]);
}

/**
 * The caller's own configuration, active: another user's or a missing one is 404 (the same
 * answer, so ids of others cannot be probed); an inactive one is 400.
 */
export async function ownActiveConfiguration(ctx: AppContext, principal: Principal, id: string): Promise<RoutingConfiguration> {
  const row = isId(id) ? await findConfiguration(ctx.db, principal.organizationId, id) : undefined;
  if (!row || row.user_id !== principal.userId) throw notFound(CONFIGURATION_NOT_FOUND);
  const active = row.status === 'active' ? await getActiveConfiguration(ctx, principal.organizationId, id) : undefined;
  if (!active) throw badRequest('Lead management configuration is inactive');
  return active;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const ONE_CONTACT = 'contacts must be one contact: an object, or an array holding one';

/**
 * The nested form's one contact: `contacts` as an object or an array of exactly one. A call
 * answers with one contactId, so an array of several is refused rather than routed in part.
 */
function nestedContact(contacts: unknown): Record<string, unknown> {
  const contact = Array.isArray(contacts) && contacts.length === 1 ? contacts[0] : contacts;
  if (!isObject(contact)) throw badRequest(ONE_CONTACT, [{ field: 'contacts', message: ONE_CONTACT }]);
  return contact;
}

/**
 * Tether's two body shapes: flat (`firstName`, `lastName`, `phoneNumber`, `email`, anything
 * else kept as custom data) or nested (`contacts`, `applications`, `conversations`).
 */
export function contactFromWebhookBody(body: Record<string, unknown>): IncomingContact {
  if (body.contacts === undefined || body.contacts === null) return contactFromFields(Object.entries(body), IGNORED_KEYS);
  const nested = nestedContact(body.contacts);
  const contact = contactFromFields(Object.entries(nested), IGNORED_KEYS);
  for (const key of ['applications', 'conversations']) {
    if (body[key] !== undefined && body[key] !== null) contact.customFields[key] = body[key];
  }
  for (const [key, value] of Object.entries(body)) {
    if (!['contacts', 'applications', 'conversations'].includes(key) && !IGNORED_KEYS.has(normalizeKey(key))) contact.customFields[key] ??= value;
  }
  return contact;
}

export async function receiveWebhook(
  ctx: AppContext,
  principal: Principal,
  body: Record<string, unknown>,
  query: Record<string, unknown>,
): Promise<RoutingResult> {
  const configuration = await ownActiveConfiguration(ctx, principal, configurationIdOf(body, query));
  return routeLead(ctx, configuration, contactFromWebhookBody(body), 'webhook');
}

/**
 * The contact a lead arrives with, whichever way it came in (webhook body, CSV row, the
 * `Key: value` lines of a lead-notification email): the fields routing knows, and every
 * other pair kept as a custom field.
 */
export interface IncomingContact {
  firstName?: string;
  lastName?: string;
  name?: string;
  email?: string;
  phone?: string;
  customFields: Record<string, unknown>;
}

type KnownField = 'firstName' | 'lastName' | 'name' | 'email' | 'phone';

// Keys are compared lower-cased with everything but letters and digits removed, so
// `First Name`, `first_name`, `FIRST-NAME` and `firstName` are one key.
const FIELD_ALIASES: Record<string, KnownField> = {
  firstname: 'firstName',
  first: 'firstName',
  fname: 'firstName',
  givenname: 'firstName',
  lastname: 'lastName',
  last: 'lastName',
  lname: 'lastName',
  surname: 'lastName',
  familyname: 'lastName',
  name: 'name',
  fullname: 'name',
  contactname: 'name',
  leadname: 'name',
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  phone: 'phone',
  phonenumber: 'phone',
  phoneno: 'phone',
  mobile: 'phone',
  mobilephone: 'phone',
  mobilenumber: 'phone',
  cell: 'phone',
  cellphone: 'phone',
  telephone: 'phone',
  tel: 'phone',
};

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function knownField(key: string): KnownField | undefined {
  return FIELD_ALIASES[normalizeKey(key)];
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Maps loose key/value pairs onto a contact. The first value for a known field wins; empty
 * values are skipped; everything else goes to custom fields under its original key.
 */
export function contactFromFields(fields: Iterable<[string, unknown]>, ignoreKeys: ReadonlySet<string> = new Set()): IncomingContact {
  const contact: IncomingContact = { customFields: {} };
  for (const [key, value] of fields) {
    if (ignoreKeys.has(normalizeKey(key))) continue;
    const field = knownField(key);
    if (field) {
      const value_ = text(value);
      if (value_ !== undefined && contact[field] === undefined) contact[field] = value_;
    } else if (value !== undefined && value !== null && value !== '' && key.trim() !== '') {
      contact.customFields[key.trim()] = typeof value === 'string' ? value.trim() : value;
    }
  }
  return completeNames(contact);
}

/** Fills `name` from first/last, or first/last from `name`, so every way in stores all three. */
export function completeNames(contact: IncomingContact): IncomingContact {
  if (!contact.name && (contact.firstName || contact.lastName)) {
    contact.name = [contact.firstName, contact.lastName].filter(Boolean).join(' ');
  }
  if (contact.name && !contact.firstName && !contact.lastName) {
    const [first, ...rest] = contact.name.split(/\s+/);
    contact.firstName = first;
    if (rest.length > 0) contact.lastName = rest.join(' ');
  }
  return contact;
}

/** Whether any text or custom-field key of the contact, at any depth, holds a NUL character. */
export function holdsNul(contact: IncomingContact): boolean {
  const pending: unknown[] = [contact];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return true;
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) pending.push(key, inner);
    }
  }
  return false;
}

import { simpleParser, type AddressObject, type EmailAddress, type ParsedMail } from 'mailparser';
import { badRequest } from '../../http/errors.ts';
import { completeNames, contactFromFields, normalizeKey, type IncomingContact } from '../intake/contact.ts';

export interface ParsedLeadEmail {
  contact: IncomingContact;
  subject?: string;
  messageId?: string;
  /** the To and Cc addresses, lower-cased */
  recipients: string[];
  /** the sender's address */
  from?: string;
  text: string;
}

// Header lines of a forwarded message look like pairs but describe the mail, not the lead.
const FORWARDED_HEADER_KEYS = new Set(['from', 'to', 'cc', 'bcc', 'sent', 'date', 'subject', 'replyto']);
const MAX_FIELDS = 100;
// Only the key is matched by pattern, and it is short: a pattern running over the value
// (`(.+?)\s*$`) backtracks once per trailing character for each one, and one long line of a
// message anyone may send held the server for minutes.
const KEY = /^\s*([\p{L}\p{N}][\p{L}\p{N} _.'()#/&-]{0,60}?)\s*:/u;

/** The `Key: value` lines lead-notification emails carry, in order. */
export function keyValueLines(body: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  // any line break: a lone CR (old Mac mail) or a Unicode separator ends a field as LF does
  for (const line of body.split(/\r\n|[\r\n\u2028\u2029]/)) {
    const match = KEY.exec(line);
    if (!match) continue;
    const key = match[1];
    const value = line.slice(match[0].length).trim();
    if (value === '') continue;
    if (value.startsWith('//') || FORWARDED_HEADER_KEYS.has(normalizeKey(key))) continue; // a URL, or a forwarded header
    pairs.push([key, value]);
    if (pairs.length >= MAX_FIELDS) break;
  }
  return pairs;
}

// PostgreSQL stores no NUL character, and the sender of a lead or a reply cannot be asked to
// take one out: every text read from the mail keeps everything else
const withoutNul = (text: string | undefined) => text?.replaceAll('\u0000', '');

function addresses(field: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list
    .flatMap((object) => object.value)
    .filter((address) => address.address)
    .map((address) => ({ ...address, name: withoutNul(address.name) ?? '', address: withoutNul(address.address) }));
}

/**
 * Turns an email into a contact: the body's `Key: value` lines first, then Reply-To (lead
 * platforms put the lead there), then the sender, for name and email.
 */
export function contactFromEmail(mail: {
  text?: string;
  from?: EmailAddress;
  replyTo?: EmailAddress;
}): IncomingContact {
  const contact = contactFromFields(keyValueLines(mail.text ?? ''));
  const sender = mail.replyTo ?? mail.from;
  if (!contact.email && sender?.address) contact.email = sender.address;
  if (!contact.name && sender?.name) completeNames(Object.assign(contact, { name: sender.name }));
  return contact;
}

/**
 * Parses a raw MIME message (RFC 822) into the lead it announces. A message the parser
 * refuses (its limits on MIME nesting and header size, a broken structure) is the sender's
 * fault: 400, never a 500 or a temporary SMTP failure the sender would retry for ever.
 */
export async function parseLeadEmail(raw: Buffer | string): Promise<ParsedLeadEmail> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  } catch (error) {
    throw badRequest(`The message cannot be parsed: ${error instanceof Error ? error.message : 'malformed MIME'}`);
  }
  const text = withoutNul(mail.text);
  return {
    contact: contactFromEmail({ text, from: addresses(mail.from)[0], replyTo: addresses(mail.replyTo)[0] }),
    subject: withoutNul(mail.subject) || undefined,
    messageId: withoutNul(mail.messageId) || undefined,
    recipients: [...addresses(mail.to), ...addresses(mail.cc)].map((a) => a.address!.toLowerCase()),
    from: addresses(mail.from)[0]?.address,
    text: text ?? '',
  };
}

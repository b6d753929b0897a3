import { parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js';

/**
 * Normalises a phone number as people type it (`+1 (212) 555-0123`, `(212) 555-0123` with
 * the organization's default country, `0044 20 7946 0958`) to E.164, or returns undefined
 * when it cannot be a phone number.
 *
 * We accept numbers that are *possible* (right length for the country) rather than only
 * those libphonenumber's metadata calls *valid* (an allocated range): the 555 numbers used
 * in every demo and many newly allocated ranges are possible but not "valid", and rejecting
 * a real lead's number is worse than keeping an unallocated one.
 */
/** Longer than any number as people write it, extension and punctuation included. */
const MAX_PHONE_INPUT = 64;

export function toE164(input: string, defaultCountry: string): string | undefined {
  const trimmed = input.trim();
  // the patterns below backtrack along a long run of spaces: nothing that long is a number
  if (trimmed.length > MAX_PHONE_INPUT) return undefined;
  if (!/\d/.test(trimmed) || /[a-z]/i.test(trimmed.replace(/\s*(ext\.?|x)\s*\d+$/i, ''))) return undefined;
  // "00" is the international call prefix almost everywhere; libphonenumber only knows the
  // default country's own prefix (011 in the US), so treat a leading 00 as "+".
  const international = trimmed.replace(/^00(?=[1-9])/, '+');
  try {
    const parsed = parsePhoneNumberWithError(international, defaultCountry as CountryCode);
    return parsed.isPossible() ? parsed.number : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a sender number is written in E.164 (`+15550001111`), as the carrier reports it on inbound texts. */
export const isE164 = (text: string): boolean => /^\+[1-9]\d{6,14}$/.test(text);

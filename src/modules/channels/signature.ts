import { createHmac, timingSafeEqual } from 'node:crypto';

/** A form's parameters as sent: a name may come more than once. */
export type FormParams = Iterable<readonly [name: string, value: string]>;

type Pair = readonly [name: string, value: string];

const byNameThenValue = ([nameA, valueA]: Pair, [nameB, valueB]: Pair) =>
  nameA < nameB ? -1 : nameA > nameB ? 1 : valueA < valueB ? -1 : valueA > valueB ? 1 : 0;

function sign(authToken: string, url: string, sorted: readonly Pair[]): string {
  const payload = sorted.reduce((text, [name, value]) => text + name + value, url);
  return createHmac('sha1', authToken).update(payload, 'utf8').digest('base64');
}

/**
 * Twilio's request signature: base64 HMAC-SHA1, keyed by the auth token, of the full URL
 * followed by every POST parameter as name + value, sorted by name, and the values of a
 * name sent more than once each appended, sorted (twilio-python's RequestValidator).
 */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  return sign(authToken, url, [...params].sort(byNameThenValue));
}

export function isValidTwilioSignature(authToken: string, url: string, params: FormParams, signature: string | undefined): boolean {
  if (!signature) return false;
  const sorted = [...params].sort(byNameThenValue);
  // twilio-node signs a value repeated under one name once; which of the two Twilio itself
  // does is not documented, and accepting both lets no one change what a name's values are
  const distinct = sorted.filter((pair, i) => i === 0 || byNameThenValue(pair, sorted[i - 1]) !== 0);
  const forms = distinct.length < sorted.length ? [sorted, distinct] : [sorted];
  const given = Buffer.from(signature);
  return forms.some((form) => {
    const expected = Buffer.from(sign(authToken, url, form));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

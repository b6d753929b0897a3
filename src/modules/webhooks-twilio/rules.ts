import type { MessageStatus } from '../messages/store.ts';

export const OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'];

/** Carrier opt-out: the whole message is one of the keywords, in any case, punctuation aside. */
export function isOptOut(body: string): boolean {
  return OPT_OUT_KEYWORDS.includes(body.trim().replace(/[.!]+$/, '').toUpperCase());
}

/**
 * A carrier status as our message status, or undefined for intermediate states (queued,
 * ringing, in-progress…) that change nothing we track.
 */
export function statusFromCarrier(params: Record<string, string>): MessageStatus | undefined {
  if (params.CallSid && params.CallStatus) {
    switch (params.CallStatus) {
      case 'completed':
        return 'delivered';
      case 'busy':
      case 'no-answer':
      case 'failed':
      case 'canceled':
        return 'no_answer';
      default:
        return undefined;
    }
  }
  switch (params.MessageStatus ?? params.SmsStatus) {
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
    case 'failed':
      return 'undelivered';
    default:
      return undefined;
  }
}

/** The key of the n-th call of a touch: retries of one call share its root key. */
export function callRetryKey(idempotencyKey: string, callAttempt: number): string {
  return `${idempotencyKey.replace(/:call-retry:\d+$/, '')}:call-retry:${callAttempt}`;
}

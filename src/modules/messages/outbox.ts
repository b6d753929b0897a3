/**
 * The outbox: every outbound message is a row of `messages`, written in the same transaction
 * as the state change that caused it, and delivered later by the worker (src/worker/).
 *
 * Stable interface for other modules: `enqueueOutbound(tx, input)` writes one outbound
 * message for a lead of the organization, addressed to the lead's phone (text, call) or
 * email, from the organization's own sender number if it has one (text, call), `queued` for delivery from `sendAt`. Answers the existing row when the idempotency
 * key was already used, undefined when the lead does not exist.
 */
import type { Queryable } from '../../db/database.ts';
import { newId } from '../../lib/ids.ts';
import { findMessageByIdempotencyKey, insertMessageForLead, type LeadMessage, type MessageRow } from './store.ts';

export type OutboundInput = Omit<LeadMessage, 'id' | 'idempotencyKey'> & {
  /** one key per intended send (default: the new message's id) */
  idempotencyKey?: string;
};

export async function enqueueOutbound(tx: Queryable, input: OutboundInput): Promise<MessageRow | undefined> {
  const id = newId(input.now);
  const idempotencyKey = input.idempotencyKey ?? id;
  const inserted = await insertMessageForLead(tx, { ...input, id, idempotencyKey });
  return inserted ?? findMessageByIdempotencyKey(tx, input.organizationId, idempotencyKey);
}

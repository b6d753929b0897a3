import type { AppContext } from '../context.ts';
import { insertSystemActivities } from '../modules/activities/store.ts';
import { closeChannels, createChannels, type Channels } from '../modules/channels/channels.ts';
import { PermanentDeliveryError } from '../modules/channels/provider.ts';
import { replyAddressOf } from '../modules/replies/service.ts';
import { followCarrierStatus } from '../modules/webhooks-twilio/service.ts';
import { sentMessageActivity, type SentMessage } from '../modules/messages/timeline.ts';
import { claimOutbox, findMessage, recordDeliveryOutcomes, type ClaimedMessage, type DeliveryOutcome } from '../modules/messages/store.ts';
import { nextOpening } from '../modules/followups/business-hours.ts';
import { findLeadTouchContexts } from '../modules/followups/store.ts';
import { sendWindowFor } from '../modules/followups/touch.ts';

export const MAX_DELIVERY_ATTEMPTS = 5;
export const DEFAULT_DELIVERY_BATCH = 100;
/** How long a claim holds its rows: well beyond a provider's 15 s request timeout. */
export const DELIVERY_LEASE_MS = 60_000;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 3_600_000;

/** Wait before attempt n+1 after n failed attempts: 30 s, 1 min, 2 min, … capped at 1 h. */
export function backoffMs(failedAttempts: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failedAttempts - 1));
}

// Providers hold connections (SMTP pools), so each context keeps one set.
const channelsByContext = new WeakMap<AppContext, Channels>();

export function channelsFor(ctx: AppContext): Channels {
  let channels = channelsByContext.get(ctx);
  if (!channels) {
    channels = createChannels(ctx.config, ctx.log, (messageId) => replyAddressOf(ctx, messageId));
    channelsByContext.set(ctx, channels);
  }
  return channels;
}

export async function releaseChannels(ctx: AppContext): Promise<void> {
  const channels = channelsByContext.get(ctx);
  channelsByContext.delete(ctx);
  if (channels) await closeChannels(channels);
}

/** What delivery needs of a claimed outbox row: what the provider is sent, and its timeline entry. */
export type DeliverableMessage = SentMessage &
  Pick<ClaimedMessage, 'attempts' | 'idempotency_key' | 'voicemail_enabled' | 'held_back' | 'from_address'>;

async function deliver(ctx: AppContext, message: DeliverableMessage, now: Date): Promise<DeliveryOutcome> {
  const outcome = { id: message.id, claimedAttempts: message.attempts, provider: null, providerMessageId: null, attempted: false, nextAttemptAt: null, lastError: null };
  if (message.held_back) return { ...outcome, status: 'canceled', lastError: message.held_back };
  if (!message.to_address) {
    return { ...outcome, status: 'skipped', lastError: message.channel === 'email' ? 'the lead has no email address' : 'the lead has no phone number' };
  }
  const provider = channelsFor(ctx)[message.channel];
  try {
    const receipt = await provider.send({
      messageId: message.id,
      idempotencyKey: message.idempotency_key,
      channel: message.channel,
      to: message.to_address,
      from: message.from_address,
      subject: message.subject,
      content: message.content,
      voicemailEnabled: message.voicemail_enabled,
    });
    return { ...outcome, attempted: true, status: receipt.status, provider: receipt.provider, providerMessageId: receipt.providerMessageId };
  } catch (error) {
    const attempts = message.attempts;
    const lastError = error instanceof Error ? error.message : String(error);
    const dead = error instanceof PermanentDeliveryError || attempts >= MAX_DELIVERY_ATTEMPTS;
    ctx.log.warn({ messageId: message.id, attempts, dead, err: lastError }, 'delivery attempt failed');
    return {
      ...outcome,
      attempted: true,
      provider: provider.name,
      status: dead ? 'dead' : 'failed',
      nextAttemptAt: dead ? null : new Date(now.getTime() + backoffMs(attempts)),
      lastError,
    };
  }
}

/**
 * Hands claimed outbox rows to their providers with their idempotency keys, outside any
 * transaction, then records every outcome — and the timeline activity of each message that
 * went out — in one short transaction, for the rows their claim still holds.
 */
export async function deliverClaimed(ctx: AppContext, messages: DeliverableMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const attemptedAt = ctx.clock.now();
  const outcomes = await Promise.all(messages.map((message) => deliver(ctx, message, attemptedAt)));
  const recordedAt = ctx.clock.now();
  const sentOut = new Set(outcomes.filter((o) => o.status === 'sent' || o.status === 'delivered').map((o) => o.id));
  const byId = new Map(messages.map((message) => [message.id, message]));
  await ctx.db.transaction(async (tx) => {
    const wentOut = (await recordDeliveryOutcomes(tx, outcomes, recordedAt)).filter((row) => sentOut.has(row.id));
    await insertSystemActivities(tx, wentOut.map((row) => sentMessageActivity(byId.get(row.id)!)), 'system', recordedAt);
    // a carrier status that came back before this record (an unanswered call) has its effect now
    for (const { id, status } of wentOut) {
      if (status !== 'sent') await followCarrierStatus(ctx, tx, (await findMessage(tx, byId.get(id)!.organization_id, id))!, recordedAt);
    }
  });
}

/**
 * Automatic rows (no person asked for them) whose lead's sending window is closed now, each
 * with the window's next opening. They were due inside it, but a retry's backoff, a lease
 * taken over or a model's time writing the touch can carry them past its close.
 */
async function outsideWindow(ctx: AppContext, messages: ClaimedMessage[], now: Date): Promise<Map<string, Date>> {
  const automatic = messages.filter((message) => message.created_by === null && !message.held_back);
  const openings = new Map<string, Date>();
  if (automatic.length === 0) return openings;
  const leads = await findLeadTouchContexts(ctx.db, automatic.map((m) => ({ organizationId: m.organization_id, leadId: m.lead_id })));
  const windows = new Map(leads.map((lead) => [`${lead.organization_id}:${lead.id}`, sendWindowFor(lead)]));
  for (const message of automatic) {
    const window = windows.get(`${message.organization_id}:${message.lead_id}`);
    const opening = window && nextOpening(now, window);
    if (opening && opening.getTime() > now.getTime()) openings.set(message.id, opening);
  }
  return openings;
}

/**
 * One delivery batch: claims due outbox rows under a lease (one short statement) and
 * delivers them (`deliverClaimed`); automatic rows whose lead's window has closed meanwhile
 * go back to the outbox for its next opening, their attempt not counted. If the process
 * dies in between, the rows stay `sending` until the lease ends and are then claimed again
 * and sent with the same key, which the provider dedupes. Returns how many rows it handled.
 */
export async function deliverOnce(ctx: AppContext, options: { batchSize?: number } = {}): Promise<number> {
  const now = ctx.clock.now();
  const messages = await claimOutbox(
    ctx.db,
    now,
    new Date(now.getTime() + DELIVERY_LEASE_MS),
    options.batchSize ?? DEFAULT_DELIVERY_BATCH,
    MAX_DELIVERY_ATTEMPTS,
  );
  const openings = await outsideWindow(ctx, messages, now);
  if (openings.size > 0) {
    const waiting = messages.filter((message) => openings.has(message.id));
    await recordDeliveryOutcomes(
      ctx.db,
      waiting.map((message) => ({
        id: message.id,
        claimedAttempts: message.attempts,
        status: 'queued',
        provider: null,
        providerMessageId: null,
        attempted: false,
        nextAttemptAt: openings.get(message.id)!,
        lastError: message.last_error,
      })),
      now,
    );
  }
  await deliverClaimed(ctx, messages.filter((message) => !openings.has(message.id)));
  return messages.length;
}

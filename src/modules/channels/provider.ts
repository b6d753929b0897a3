import type { FollowUpChannel } from '../followups/schedule.ts';

/** One outbound message as a provider sees it. */
export interface Delivery {
  messageId: string;
  /** the same for every attempt at this message; providers dedupe on it */
  idempotencyKey: string;
  channel: FollowUpChannel;
  to: string;
  /** the sender number of texts and calls when not the provider's default (an organization's own) */
  from?: string | null;
  subject: string | null;
  content: string;
  /** calls: leave `content` as a voicemail when a machine answers */
  voicemailEnabled: boolean;
}

export interface DeliveryReceipt {
  provider: string;
  providerMessageId: string | null;
  /** `delivered` when the provider itself is the end of the line (log) */
  status: 'sent' | 'delivered';
}

export interface ChannelProvider {
  readonly name: string;
  send(delivery: Delivery): Promise<DeliveryReceipt>;
  close?(): Promise<void>;
}

/** The provider refused the message itself (bad number, bad address): retrying cannot help. */
export class PermanentDeliveryError extends Error {}

import type { SystemActivity } from '../activities/store.ts';
import type { MessageRow } from './store.ts';

const ACTIVITY_OF_CHANNEL = {
  text: { type: 'Message', title: 'Text message sent', firstChannel: null },
  call: { type: 'Call', title: 'Call placed', firstChannel: 'Phone/Call' },
  email: { type: 'Email', title: 'Email sent', firstChannel: 'Email' },
} as const;

/** What the timeline shows of a message that went out. */
export type SentMessage = Pick<
  MessageRow,
  'id' | 'organization_id' | 'lead_id' | 'channel' | 'origin' | 'to_address' | 'subject' | 'content' | 'follow_up_step' | 'strategy_id'
>;

/**
 * The timeline entry of a message that went out. Its id is the message's, so recording the
 * same send twice leaves one entry.
 */
export function sentMessageActivity(message: SentMessage): SystemActivity {
  const kind = ACTIVITY_OF_CHANNEL[message.channel];
  return {
    id: message.id,
    organizationId: message.organization_id,
    leadId: message.lead_id,
    type: kind.type,
    title: kind.title,
    firstChannel: kind.firstChannel,
    metadata: {
      messageId: message.id,
      channel: message.channel,
      origin: message.origin,
      to: message.to_address,
      subject: message.subject,
      content: message.content,
      followUpStep: message.follow_up_step,
      strategyId: message.strategy_id,
    },
  };
}

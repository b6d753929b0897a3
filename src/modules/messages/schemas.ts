import { Type } from '@sinclair/typebox';
import { Envelope, NonBlankText, Nullable, Timestamp } from '../../http/schemas.ts';
import { MAX_MESSAGE_LENGTH } from '../../lib/template.ts';
import { FollowUpChannelSchema } from '../followups/schedule.ts';
import { MESSAGE_STATUSES } from './store.ts';

export const MessageDto = Type.Object({
  _id: Type.String(),
  leadId: Type.String(),
  direction: Type.String({ description: 'outbound or inbound' }),
  channel: Type.String({ description: 'text, call or email' }),
  origin: Type.String({ description: 'follow_up, manual, first_message, call_retry, reply (inbound) or reply_answer (the answer to a reply)' }),
  status: Type.String({ description: MESSAGE_STATUSES.join(', ') }),
  subject: Nullable(Type.String()),
  content: Type.String(),
  to: Nullable(Type.String()),
  from: Nullable(Type.String()),
  followUpStep: Nullable(Type.Integer()),
  strategyId: Nullable(Type.String()),
  voicemailEnabled: Type.Boolean(),
  callAttempt: Type.Integer(),
  idempotencyKey: Type.String(),
  provider: Nullable(Type.String()),
  providerMessageId: Nullable(Type.String()),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Timestamp),
  lastError: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  sentAt: Nullable(Timestamp),
  deliveredAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const SendMessageBody = Type.Object(
  {
    content: NonBlankText(MAX_MESSAGE_LENGTH),
    channel: Type.Optional(FollowUpChannelSchema),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'email only' })),
    scheduledTime: Type.Optional(Type.String({ format: 'date-time', description: 'send no earlier than this (ISO 8601)' })),
    overrideBusinessHours: Type.Optional(Type.Boolean({ description: "send outside the lead's sending window" })),
    sendWhenOff: Type.Optional(Type.Boolean({ description: "send even though the lead's AI is off" })),
  },
  { additionalProperties: false },
);

export const MessageListQuery = Type.Object({
  status: Type.Optional(Type.String({ description: MESSAGE_STATUSES.join(', ') })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  before: Type.Optional(Type.String({ description: 'the _id of the last message of the previous page' })),
});

export const MessageResponse = Envelope(MessageDto);
export const MessageListResponse = Envelope(Type.Array(MessageDto));

import { Type } from '@sinclair/typebox';
import { Envelope, Nullable } from '../../http/schemas.ts';

export const InboundEmailQuery = Type.Object({
  configurationId: Type.Optional(Type.String({ description: 'Route through this configuration instead of the recipient address' })),
  to: Type.Optional(Type.String({ description: 'Envelope recipient(s), comma-separated, when the raw message is posted' })),
});

export const InboundEmailResponse = Envelope(
  Type.Array(
    Type.Object({
      contactId: Type.String(),
      created: Type.Boolean({ description: 'false when an existing lead (same phone or email) was updated' }),
      contacted: Type.Boolean({ description: 'whether a first message was queued or put up for approval' }),
      approvalId: Nullable(Type.String()),
      messageId: Nullable(Type.String()),
      reply: Type.Boolean({ description: "true when the mail is the lead's reply to one of our emails (its cadence stopped)" }),
    }),
  ),
);

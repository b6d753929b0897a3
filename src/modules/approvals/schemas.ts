import { Type } from '@sinclair/typebox';
import { Envelope, NonBlankText, Nullable, Timestamp } from '../../http/schemas.ts';
import { MAX_MESSAGE_LENGTH } from '../../lib/template.ts';
import { MAX_APPROVAL_PAGE } from './service.ts';

const Status = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected')]);

export const ApprovalDto = Type.Object({
  _id: Type.String(),
  leadId: Type.String(),
  configurationId: Nullable(Type.String()),
  purpose: Type.String({ description: 'first_touch or reply' }),
  channel: Type.String({ description: 'text or email' }),
  content: Type.String(),
  composedBy: Type.String({ description: 'ai, or template (starter message or the fallback)' }),
  traceId: Nullable(Type.String()),
  status: Status,
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(Timestamp),
  messageId: Nullable(Type.String({ description: 'the outbound message approval queued' })),
  createdAt: Timestamp,
});

export const ApprovalQuery = Type.Object({
  status: Type.Optional(Status),
  leadId: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_APPROVAL_PAGE, default: 50 })),
});

export const ApproveBody = Type.Union([
  Type.Object(
    { content: Type.Optional(NonBlankText(MAX_MESSAGE_LENGTH, { description: 'edited message to send instead' })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const ApprovalResponse = Envelope(ApprovalDto);
export const ApprovalListResponse = Envelope(Type.Array(ApprovalDto));

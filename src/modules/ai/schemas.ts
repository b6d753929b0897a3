import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';

const Turn = Type.Object(
  {
    from: Type.Union([Type.Literal('lead'), Type.Literal('agent')], { description: 'lead: the lead wrote it; agent: we sent it' }),
    content: Type.String({ maxLength: 10_000 }),
  },
  { additionalProperties: false },
);

export const PlaygroundBody = Type.Object(
  {
    promptId: Type.String({ description: 'The process (prompt) to try' }),
    message: Type.String({ minLength: 1, maxLength: 10_000, description: 'What the lead says' }),
    conversation: Type.Optional(Type.Array(Turn, { maxItems: 100, description: 'Earlier turns, oldest first' })),
    lead: Type.Optional(
      Type.Object(
        {
          firstName: Type.Optional(Type.String()),
          lastName: Type.Optional(Type.String()),
          email: Type.Optional(Type.String()),
          phone: Type.Optional(Type.String()),
          customFields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        },
        { additionalProperties: false, description: 'A pretend lead the process can address' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PlaygroundResponse = Envelope(
  Type.Object({
    reply: Type.String(),
    traceId: Type.String(),
    usage: Nullable(
      Type.Object({
        promptTokens: Nullable(Type.Number()),
        completionTokens: Nullable(Type.Number()),
        totalTokens: Nullable(Type.Number()),
      }),
    ),
  }),
);

export const TraceDto = Type.Object({
  _id: Type.String(),
  leadId: Nullable(Type.String()),
  purpose: Type.String(),
  model: Nullable(Type.String()),
  outcome: Type.String({ description: 'ok, fallback (the template was sent instead) or error' }),
  error: Nullable(Type.String()),
  latencyMs: Type.Number(),
  attempts: Type.Number(),
  promptTokens: Nullable(Type.Number()),
  completionTokens: Nullable(Type.Number()),
  totalTokens: Nullable(Type.Number()),
  response: Nullable(Type.String()),
  createdAt: Timestamp,
});

export const TraceListResponse = Envelope(Type.Array(TraceDto));

import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';

export const PromptDto = Type.Object({
  _id: Type.String(),
  organizationId: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  content: Type.String(),
  description: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  content: Type.String({ maxLength: 100_000, description: 'The instructions that drive the AI' }),
  description: Nullable(Type.String({ maxLength: 2000 })),
};

export const CreatePromptBody = Type.Object(
  { name: fields.name, content: Type.Optional(fields.content), description: Type.Optional(fields.description) },
  { additionalProperties: false },
);
export const UpdatePromptBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const PromptResponse = Envelope(PromptDto);
export const PromptListResponse = Envelope(Type.Array(PromptDto));
export const DeletedResponse = Envelope(Type.Object({ _id: Type.String() }));

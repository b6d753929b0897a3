import { Type } from '@sinclair/typebox';
import { Envelope, Timestamp } from '../../http/schemas.ts';

export const StrategyDto = Type.Object({
  _id: Type.String(),
  organizationId: Type.String(),
  name: Type.String(),
  instructions: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  instructions: Type.String({ maxLength: 20_000, description: 'how the AI should approach a follow-up with this strategy' }),
};

export const CreateStrategyBody = Type.Object(
  { name: fields.name, instructions: Type.Optional(fields.instructions) },
  { additionalProperties: false },
);
export const UpdateStrategyBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const StrategyResponse = Envelope(StrategyDto);
export const StrategyListResponse = Envelope(Type.Array(StrategyDto));
export const StrategyDeletedResponse = Envelope(Type.Object({ _id: Type.String() }));

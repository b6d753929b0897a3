import { Type, type Static } from '@sinclair/typebox';
import { Envelope, NonBlankText, Nullable, Timestamp } from '../../http/schemas.ts';
import type { PipelineType } from './store.ts';

// A plain enum (not a union of literals) so a wrong value answers "type must be one of: Contact, Application".
const PipelineTypeSchema = Type.Unsafe<PipelineType>({ type: 'string', enum: ['Contact', 'Application'] });

export const StageDto = Type.Object({ _id: Type.String(), name: Type.String(), color: Nullable(Type.String()) });

export const PipelineDto = Type.Object({
  _id: Type.String(),
  organizationId: Type.String(),
  name: Type.String(),
  type: PipelineTypeSchema,
  isDefault: Type.Boolean(),
  stages: Type.Array(StageDto),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const name = NonBlankText(200);
const color = Nullable(Type.String({ maxLength: 32 }));

export const CreatePipelineBody = Type.Object(
  {
    name,
    type: PipelineTypeSchema,
    isDefault: Type.Optional(Type.Boolean({ description: 'Make this the default pipeline of its type (the previous default stops being one)' })),
    stages: Type.Optional(
      Type.Array(Type.Object({ name, color: Type.Optional(color) }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 100,
        description: 'Ordered stages; when omitted a standard list for the type is used',
      }),
    ),
  },
  { additionalProperties: false },
);

export type CreatePipelineInput = Static<typeof CreatePipelineBody>;

export const UpdatePipelineBody = Type.Object(
  {
    name: Type.Optional(name),
    isDefault: Type.Optional(Type.Boolean({ description: 'true makes this the default of its type; a default stops being one only when another becomes it' })),
    stages: Type.Optional(
      Type.Array(
        Type.Object(
          { _id: Type.Optional(Type.String({ description: 'Keep this existing stage (rename, recolour, move)' })), name, color: Type.Optional(color) },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: 100,
          description: 'The whole ordered list: entries with an _id keep that stage, entries without add one, stages left out are removed',
        },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const PipelineResponse = Envelope(PipelineDto);
export const PipelineListResponse = Envelope(Type.Array(PipelineDto));
export const DeletedPipelineResponse = Envelope(Type.Object({ _id: Type.String() }));

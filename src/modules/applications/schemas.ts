import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';

export const ApplicationDto = Type.Object({
  _id: Type.String(),
  leadId: Type.String({ description: 'the contact the application belongs to' }),
  configurationId: Nullable(Type.String()),
  name: Type.String(),
  status: Nullable(Type.String()),
  pipelineId: Nullable(Type.String()),
  stageId: Nullable(Type.String()),
  stageName: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const ApplicationQuery = Type.Object({
  leadId: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});

export const ApplicationResponse = Envelope(ApplicationDto);
export const ApplicationListResponse = Envelope(Type.Array(ApplicationDto));

import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';
import { FollowUpConfigSchema } from '../followups/schedule.ts';
import { ClockTime, IsoWeekdays, TimeZoneName } from './schedule-window.ts';

export const BusinessHours = Type.Object(
  { timezone: TimeZoneName, start: ClockTime, end: ClockTime, days: IsoWeekdays },
  { additionalProperties: false, description: 'When this agent may reach out; null falls back to the organization\'s window' },
);

export const AgentDto = Type.Object({
  _id: Type.String(),
  organizationId: Type.String(),
  name: Type.String(),
  processId: Nullable(Type.String()),
  voiceEnabled: Type.Boolean(),
  emailEnabled: Type.Boolean(),
  followUpConfig: Nullable(Type.Record(Type.String(), Type.Unknown())),
  businessHours: Nullable(BusinessHours),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, description: 'Unique in the organization, whatever its case' }),
  processId: Nullable(Type.String({ description: 'A prompt (AI process) of the organization' })),
  voiceEnabled: Type.Boolean(),
  emailEnabled: Type.Boolean(),
  followUpConfig: Nullable(FollowUpConfigSchema),
  businessHours: Nullable(BusinessHours),
};

export const CreateAgentBody = Type.Object(
  {
    name: fields.name,
    processId: Type.Optional(fields.processId),
    voiceEnabled: Type.Optional(fields.voiceEnabled),
    emailEnabled: Type.Optional(fields.emailEnabled),
    followUpConfig: Type.Optional(fields.followUpConfig),
    businessHours: Type.Optional(fields.businessHours),
  },
  { additionalProperties: false },
);
export const UpdateAgentBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const AgentResponse = Envelope(AgentDto);
export const AgentListResponse = Envelope(Type.Array(AgentDto));
export const DeletedAgentResponse = Envelope(Type.Object({ _id: Type.String() }));

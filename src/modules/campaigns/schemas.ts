import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';
import { ClockTime, IsoWeekdays, TimeZoneName } from '../agents/schedule-window.ts';

export const CampaignStatus = Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('paused'), Type.Literal('stopped')]);

export const AllowedHours = Type.Object({ start: ClockTime, end: ClockTime }, { additionalProperties: false });

export const CampaignDto = Type.Object({
  _id: Type.String(),
  numericId: Type.Integer({ description: 'The integer id (Autocalls addresses campaigns by it)' }),
  organizationId: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  agentId: Nullable(Type.String()),
  timezone: Type.String(),
  allowedHours: AllowedHours,
  allowedDays: Type.Array(Type.Integer()),
  maxRetries: Type.Integer(),
  retryIntervalMinutes: Type.Integer(),
  status: CampaignStatus,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  agentId: Nullable(Type.String({ description: 'An agent of the organization' })),
  timezone: TimeZoneName,
  allowedHours: AllowedHours,
  allowedDays: IsoWeekdays,
  maxRetries: Type.Integer({ minimum: 1, maximum: 5, description: 'default 3' }),
  retryIntervalMinutes: Type.Integer({ minimum: 10, maximum: 4320, description: 'default 60' }),
};

export const CreateCampaignBody = Type.Object(
  {
    name: fields.name,
    agentId: Type.Optional(fields.agentId),
    timezone: Type.Optional(fields.timezone),
    allowedHours: Type.Optional(fields.allowedHours),
    allowedDays: Type.Optional(fields.allowedDays),
    maxRetries: Type.Optional(fields.maxRetries),
    retryIntervalMinutes: Type.Optional(fields.retryIntervalMinutes),
  },
  { additionalProperties: false },
);
export const UpdateCampaignBody = Type.Partial(
  Type.Object({
    ...fields,
    status: Type.Union(CampaignStatus.anyOf, { description: 'draft → active ⇄ paused → stopped; stopped is final' }),
  }),
  { additionalProperties: false, minProperties: 1 },
);

export const CampaignResponse = Envelope(CampaignDto);
export const CampaignListResponse = Envelope(Type.Array(CampaignDto));
export const DeletedCampaignResponse = Envelope(Type.Object({ _id: Type.String() }));

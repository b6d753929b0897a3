import { Type } from '@sinclair/typebox';
import { Nullable } from '../../http/schemas.ts';
import { FollowUpConfigSchema } from '../../modules/followups/schedule.ts';

export const tags = ['Apten'];

export const Message = Type.Object({ message: Type.String() });
export const errorResponses = (...statuses: number[]) => Object.fromEntries([400, 403, ...statuses].map((status) => [status, Message]));

export const LeadIdParams = Type.Object({ leadId: Type.String({ description: 'The ID of the lead' }) });

const timeZone = Type.String({ minLength: 1, description: 'The timezone of the lead in tz database format (e.g. America/New_York)' });
const email = Type.String({ format: 'email', description: 'The email address of the lead. Must be a valid email format.' });
const additionalInfo = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Key-value object to merge with existing additionalInfo. Set a value to null to remove that key.',
});

export const CreateLeadBody = Type.Object(
  {
    firstName: Type.String({ minLength: 1 }),
    lastName: Type.String({ minLength: 1 }),
    phone: Type.String({ minLength: 1 }),
    customerProfile: Type.String({ minLength: 1, description: 'The name of the customer profile (agent) that handles the lead' }),
    timeZone: Type.Optional(timeZone),
    email: Type.Optional(email),
    additionalInfo: Type.Optional(additionalInfo),
  },
  { additionalProperties: false },
);
export const CreatedLead = Type.Object({ message: Type.String(), id: Type.String() });

export const UpdateLeadBody = Type.Object(
  {
    email: Type.Optional(email),
    timeZone: Type.Optional(timeZone),
    additionalInfo: Type.Optional(additionalInfo),
    followUpConfig: Type.Optional(FollowUpConfigSchema),
    followUpStep: Type.Optional(
      Type.Integer({ description: 'Positive integers (1, 2, 3, …) schedule that step, -1 STOPPED, -2 LONG_TERM' }),
    ),
    useStrategiesForFollowUps: Type.Optional(
      Type.Boolean({ description: 'Must be true for strategyIds in followUpConfig steps to take effect' }),
    ),
  },
  { additionalProperties: false, description: 'Fields to update on the lead. All fields are optional.' },
);

export const AptenLead = Type.Object({
  id: Type.String(),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  timeZone: Nullable(Type.String()),
  customerProfile: Nullable(Type.String()),
  additionalInfo: Type.Record(Type.String(), Type.Unknown()),
  isAiOn: Type.Boolean(),
  status: Type.String(),
  followUpConfig: Type.Unknown(),
  followUpStep: Nullable(Type.Integer()),
  nextFollowUpAt: Nullable(Type.String()),
  useStrategiesForFollowUps: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const LookupQuery = Type.Object({ phone: Type.String({ description: 'The phone number, in any format' }) });
export const DeletedLead = Type.Object({ message: Type.String(), leadId: Type.String() });

import { Type } from '@sinclair/typebox';
import { Nullable } from '../../http/schemas.ts';

export const tags = ['Autocalls'];

export const Message = Type.Object({ message: Type.String() });
export const ValidationFailed = Type.Object({
  message: Type.String(),
  errors: Type.Record(Type.String(), Type.Array(Type.String())),
});
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries([[401, Message], [422, ValidationFailed], ...statuses.map((status) => [status, Message])]);

export const AutocallsLead = Type.Object({
  id: Type.Integer(),
  campaign_id: Nullable(Type.Integer()),
  phone_number: Nullable(Type.String()),
  status: Type.String(),
  variables: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const LeadIdParams = Type.Object({ id: Type.String({ description: 'The integer ID of the lead' }) });

/**
 * Documents PUT /user/leads/{id}. The route checks it by hand, because the contract answers
 * unknown keys with a 400 listing them and every other violation with one Laravel-style 422.
 */
export const UpdateLeadBody = Type.Object({
  campaign_id: Type.Optional(Type.Integer({ description: 'The ID of the campaign to assign the lead to' })),
  phone_number: Type.Optional(Type.String({ description: 'The phone number of the lead (will be formatted to E164)' })),
  status: Type.Optional(Type.Union([Type.Literal('created'), Type.Literal('completed'), Type.Literal('reached-max-retries')])),
  variables: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Custom variables to merge with existing lead variables' })),
});

export const CreateLeadBody = Type.Object({
  phone_number: Type.String({ description: 'Formatted to E.164' }),
  campaign_id: Type.Integer(),
  variables: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  allow_dupplicate: Type.Optional(Type.Boolean({ description: 'true allows a phone number already in the campaign (the contract\'s spelling)' })),
});

export const LeadListQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'default 15' })),
  status: Type.Optional(Type.String()),
  campaign_id: Type.Optional(Type.Integer()),
  phone_number: Type.Optional(Type.String({ description: 'matches any part of the number' })),
});

const PageLink = Type.Object({ url: Nullable(Type.String()), label: Type.String(), active: Type.Boolean() });
export const LeadPage = Type.Object({
  current_page: Type.Integer(),
  data: Type.Array(AutocallsLead),
  first_page_url: Type.String(),
  from: Nullable(Type.Integer()),
  last_page: Type.Integer(),
  last_page_url: Type.String(),
  links: Type.Array(PageLink),
  next_page_url: Nullable(Type.String()),
  path: Type.String(),
  per_page: Type.Integer(),
  prev_page_url: Nullable(Type.String()),
  to: Nullable(Type.Integer()),
  total: Type.Integer(),
});

const Day = Type.Union(
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => Type.Literal(day)),
);
const HourMinute = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });

export const CreateCampaignBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  assistant_id: Type.Optional(Nullable(Type.String({ description: 'The agent (assistant) that runs the campaign' }))),
  timezone: Type.Optional(Type.String({ description: 'default UTC' })),
  allowed_hours_start_time: Type.Optional({ ...HourMinute, description: 'default 09:00' }),
  allowed_hours_end_time: Type.Optional({ ...HourMinute, description: 'default 20:00' }),
  allowed_days: Type.Optional(Type.Array(Day, { minItems: 1, uniqueItems: true, description: 'default monday to friday' })),
  max_retries: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'default 3' })),
  retry_interval: Type.Optional(Type.Integer({ minimum: 10, maximum: 4320, description: 'minutes between retries; default 60' })),
});

export const AutocallsCampaign = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  assistant_id: Nullable(Type.String()),
  status: Type.String(),
  timezone: Type.String(),
  allowed_hours_start_time: Type.String(),
  allowed_hours_end_time: Type.String(),
  allowed_days: Type.Array(Type.String()),
  max_retries: Type.Integer(),
  retry_interval: Type.Integer(),
  created_at: Type.String(),
});

export const DataResponse = <T extends ReturnType<typeof Type.Object>>(data: T) => Type.Object({ message: Type.String(), data });

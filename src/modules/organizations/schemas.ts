import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';
import { ClockTime, IsoWeekdays, TimeZoneName } from '../agents/schedule-window.ts';
import { FollowUpConfigSchema, MAX_STEP_HOURS } from '../followups/schedule.ts';

const fields = {
  timezone: { ...TimeZoneName, description: "tz database name, e.g. America/New_York: the sending window's timezone for leads with none of their own" },
  defaultCountry: Type.String({
    pattern: '^[A-Z]{2}$',
    description: 'the country (two capital letters, e.g. US or GB) in which phone numbers written without a country code are read',
  }),
  sendWindowStart: { ...ClockTime, description: 'local time (24-hour HH:MM) from which automatic touches may go out' },
  sendWindowEnd: { ...ClockTime, description: 'local time (24-hour HH:MM, exclusive) at which the sending window closes; later than sendWindowStart' },
  sendDays: IsoWeekdays,
  longTermIntervalHours: Type.Integer({
    minimum: 1,
    maximum: MAX_STEP_HOURS,
    description: `hours between touches of a lead in the long-term cadence (followUpStep -2), at most ${MAX_STEP_HOURS}`,
  }),
  emailEnabled: Type.Boolean({ description: 'whether email touches may be sent at all' }),
  defaultFollowUpConfig: Nullable({
    ...FollowUpConfigSchema,
    description: "the cadence of a lead with no config of its own and no agent's config; null falls back to the built-in one",
  }),
};

export const OrganizationDto = Type.Object({
  _id: Type.String(),
  name: Type.String(),
  timezone: Type.String(),
  defaultCountry: Type.String(),
  sendWindowStart: Type.String(),
  sendWindowEnd: Type.String(),
  sendDays: Type.Array(Type.Integer()),
  longTermIntervalHours: Type.Integer(),
  emailEnabled: Type.Boolean(),
  defaultFollowUpConfig: Nullable(Type.Record(Type.String(), Type.Unknown())),
  smsFrom: Nullable(
    Type.String({
      description:
        "the organization's own sender number for texts and calls, set by the operator (`openlead sms-number`); null: the deployment's shared TWILIO_FROM",
    }),
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const UpdateOrganizationBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const OrganizationResponse = Envelope(OrganizationDto);

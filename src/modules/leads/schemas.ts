import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';
import { FollowUpConfigSchema } from '../followups/schedule.ts';
import { ASSIGNMENT_STATUSES, MAX_PAGE_SIZE } from './service.ts';

const Id = Type.String({ description: '24-hex-character id' });
const Text = (maxLength: number, description?: string) => Type.String({ maxLength, ...(description ? { description } : {}) });
const When = Type.Union([Type.String({ format: 'date-time' }), Type.Number()], { description: 'ISO 8601 date-time or epoch milliseconds' });
const CustomFields = Type.Record(Type.String(), Type.Unknown(), {
  description: 'custom fields: at most 200 keys of at most 100 characters, 64 KiB of JSON',
});

const AssignmentInput = Type.Object(
  {
    userId: Type.String({ minLength: 1, maxLength: 100 }),
    name: Type.Optional(Nullable(Text(200))),
    email: Type.Optional(Nullable(Text(320))),
    photoUrl: Type.Optional(Nullable(Text(2000))),
    note: Type.Optional(Nullable(Text(5000))),
    assignedAt: Type.Optional(When),
    status: Type.Optional(Type.Union(ASSIGNMENT_STATUSES.map((status) => Type.Literal(status)))),
  },
  { additionalProperties: false },
);

const Assignment = Type.Object({
  userId: Type.String(),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  photoUrl: Nullable(Type.String()),
  note: Nullable(Type.String()),
  assignedAt: Type.String(),
  status: Type.String(),
});

const writableFields = {
  firstName: Nullable(Text(200)),
  lastName: Nullable(Text(200)),
  name: Nullable(Text(400, 'display name; derived from firstName and lastName when not given')),
  email: Nullable(Text(320)),
  phone: Nullable(Text(50, 'any common format; stored as E.164 (national numbers use the organization\'s default country)')),
  timezone: Nullable(Text(100, 'IANA time zone name, e.g. America/New_York')),
  source: Nullable(Text(200)),
  status: Type.String({ description: 'created, completed or reached-max-retries; other statuses are assigned by the system' }),
  pipelineId: Nullable(Id),
  stageId: Nullable(Type.String({ maxLength: 200, description: 'a stage id, or a stage name of the lead\'s pipeline' })),
  agentId: Nullable(Type.String({ maxLength: 100, description: 'set once; cannot change afterwards' })),
  campaignId: Nullable(Type.String({ maxLength: 100 })),
  processId: Nullable(Type.String({ maxLength: 100, description: 'the prompt (AI process) that drives the AI' })),
  configurationId: Nullable(Type.String({ maxLength: 100 })),
  additionalInfo: CustomFields,
  assignedTo: Nullable(AssignmentInput),
  hotScore: Type.Number({ minimum: 0, maximum: 100, description: 'sets the heat score explicitly; hotLabel follows it' }),
  isAiOn: Type.Boolean(),
  optedOut: Type.Boolean(),
  convoId: Nullable(Text(200)),
  lastActivityDate: Nullable(When),
  followUpConfig: Nullable(FollowUpConfigSchema),
  followUpStep: Type.Integer({ description: 'positive step, -1 STOPPED, -2 LONG_TERM' }),
  useStrategiesForFollowUps: Type.Boolean(),
};

export const CreateLeadBody = Type.Partial(Type.Object(writableFields), { additionalProperties: false });

export const UpdateLeadBody = Type.Partial(
  Type.Object({
    ...writableFields,
    additionalInfo: Type.Record(Type.String(), Type.Unknown(), {
      description: 'RFC 7396 merge patch: keys are added or replaced, a key set to null is removed, others are kept',
    }),
    version: Type.Integer({ minimum: 1, description: 'apply only if the lead is still at this version (like If-Match)' }),
  }),
  { additionalProperties: false, minProperties: 1 },
);

export const LeadDto = Type.Object({
  _id: Type.String(),
  seq: Type.Integer({ description: 'integer id (Autocalls)' }),
  organizationId: Type.String(),
  ownerId: Nullable(Type.String()),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  timezone: Nullable(Type.String()),
  source: Nullable(Type.String()),
  status: Type.String(),
  pipelineId: Nullable(Type.String()),
  stageId: Nullable(Type.String()),
  stageName: Nullable(Type.String()),
  agentId: Nullable(Type.String()),
  campaignId: Nullable(Type.String()),
  processId: Nullable(Type.String()),
  configurationId: Nullable(Type.String()),
  additionalInfo: CustomFields,
  assignedTo: Nullable(Assignment),
  hotScore: Type.Integer(),
  hotLabel: Type.String({ enum: ['hot', 'warm', 'cold'] }),
  lastActivityDate: Nullable(Timestamp),
  isAiOn: Type.Boolean(),
  optedOut: Type.Boolean(),
  hasReplied: Type.Boolean(),
  convoId: Nullable(Type.String()),
  followUpConfig: Type.Unknown(),
  followUpStep: Nullable(Type.Integer()),
  nextFollowUpAt: Nullable(Timestamp),
  followUpDeferredUntil: Nullable({
    ...Timestamp,
    description: 'set while a due touch waits for the sending window to open (then equal to nextFollowUpAt); null otherwise',
  }),
  useStrategiesForFollowUps: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const LeadListQuery = Type.Object(
  {
    stage: Type.Optional(Type.String({ description: 'stage id or name' })),
    status: Type.Optional(Type.String()),
    source: Type.Optional(Type.String()),
    campaign: Type.Optional(Type.String({ description: 'campaign id' })),
    agent: Type.Optional(Type.String({ description: 'agent id' })),
    assignee: Type.Optional(Type.String({ description: 'assignedTo.userId' })),
    hotLabel: Type.Optional(Type.String({ enum: ['hot', 'warm', 'cold'] })),
    createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
    createdTo: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
    updatedFrom: Type.Optional(Type.String({ format: 'date-time' })),
    updatedTo: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'text contained in name, email or phone' })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 })),
  },
  { additionalProperties: false },
);

export const LeadEventDto = Type.Object({
  id: Type.Integer(),
  leadId: Type.String(),
  actor: Type.String(),
  actorUserId: Nullable(Type.String()),
  kind: Type.String({ description: 'created, updated or deleted' }),
  changes: Type.Record(Type.String(), Type.Object({ from: Type.Unknown(), to: Type.Unknown() })),
  at: Timestamp,
});

export const MAX_EVENT_PAGE = 500;

export const EventPageQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the last event id of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE, default: 100 })),
  },
  { additionalProperties: false },
);

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'the lead\'s version (its ETag): the update applies only if it is still current' })),
});

export const LeadResponse = Envelope(LeadDto);
export const LeadListResponse = Envelope(Type.Object({ leads: Type.Array(LeadDto), nextCursor: Nullable(Type.String()) }));
export const LeadEventListResponse = Envelope(Type.Array(LeadEventDto));
export const LeadDeletedResponse = Envelope(Type.Object({ _id: Type.String() }));

import { Type, type TSchema } from '@sinclair/typebox';
import { Nullable } from '../../http/schemas.ts';
import { CONVOCORE_STAGES, type ConvocoreStage } from './stages.ts';

export const tags = ['Convocore'];

// A plain enum (not a union of literals) so a wrong value reports "must be one of: …" once.
const StringEnum = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
const StringOrNumber = (description?: string) => Type.Union([Type.String(), Type.Number()], description ? { description } : {});
const closed = <T extends Record<string, TSchema>>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

const CHANNELS = ['LinkedIn', 'WhatsApp', 'Instagram', 'Facebook', 'Email', 'Phone/Call', 'Zoom/Video', 'In Person', 'Referral', 'Web Chat', 'Unknown'] as const;
const ACTIVITY_TYPES = ['Message', 'Call', 'Email', 'Demo', 'Meeting', 'Follow-Up', 'Note', 'Stage Change', 'Handoff', 'System'] as const;

export const MetaData = closed(
  {
    address: Type.Optional(Type.String({ description: 'The address of the lead.' })),
    company: Type.Optional(Type.String({ description: 'The company of the lead.' })),
    website: Type.Optional(Type.String({ description: 'The website of the lead.' })),
    notes: Type.Optional(Type.String({ description: 'The notes of the lead.' })),
    source: Type.Optional(Type.String({ description: 'The source of the lead. A new lead without one gets "chat".' })),
    currency: Type.Optional(Type.String({ description: 'The currency associated with the lead value.' })),
    value: Type.Optional(StringOrNumber('The budget or deal value of the lead.')),
    stage: Type.Optional(StringEnum(Object.keys(CONVOCORE_STAGES) as ConvocoreStage[], 'The CRM stage of the lead (a stage of the "Convocore" pipeline).')),
    expectedCloseDate: Type.Optional(Type.String({ description: 'Expected close date of the lead.' })),
    subIndustry: Type.Optional(Type.String({ description: 'The sub-industry of the lead.' })),
    language: Type.Optional(Type.String({ description: 'Preferred language of the lead.' })),
    linkedIn: Type.Optional(Type.String({ description: 'LinkedIn profile or company page.' })),
    facebook: Type.Optional(Type.String({ description: 'Facebook profile or company page.' })),
    instagram: Type.Optional(Type.String({ description: 'Instagram handle or profile link.' })),
    demoDate: Type.Optional(Type.String({ description: 'Scheduled demo date.' })),
    demoTime: Type.Optional(Type.String({ description: 'Scheduled demo time.' })),
    demoLink: Type.Optional(Type.String({ description: 'Scheduled demo meeting link.' })),
    lostReason: Type.Optional(Type.String({ description: 'Reason the lead was marked as lost.' })),
  },
  'Only the documented keys',
);

const AssignedTo = closed(
  {
    userId: Type.String(),
    name: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
    photoUrl: Type.Optional(Type.String()),
    note: Type.Optional(Type.String()),
    assignedAt: Type.Optional(StringOrNumber()),
    status: Type.Optional(StringEnum(['pending', 'accepted', 'done'] as const)),
  },
  'Current assignee for the lead.',
);

const NoteEntry = closed({
  agentId: Type.Optional(Type.String()),
  agentName: Type.Optional(Type.String()),
  text: Type.String(),
  timestamp: Type.Optional(StringOrNumber()),
});

export const CrmActivity = closed({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  title: Type.Optional(Type.String()),
  type: StringEnum(ACTIVITY_TYPES),
  date: Type.Optional(StringOrNumber()),
  dueDate: Type.Optional(StringOrNumber()),
  completed: Type.Optional(Type.Boolean()),
  responded: Type.Optional(Type.Boolean()),
  firstChannel: Type.Optional(StringEnum(CHANNELS)),
  firstEngaged: Type.Optional(Type.Boolean()),
  secondChannel: Type.Optional(StringEnum(CHANNELS)),
  secondEngaged: Type.Optional(Type.Boolean()),
  note: Type.Optional(Type.String()),
  notesHistory: Type.Optional(Type.Array(NoteEntry)),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const leadFields = {
  email: Type.Optional(Nullable(Type.String({ description: 'The email of the lead.' }))),
  name: Type.Optional(Nullable(Type.String({ description: 'The name of the lead.' }))),
  phone: Type.Optional(Nullable(Type.String({ description: 'The phone number of the lead.' }))),
  metaData: Type.Optional(MetaData),
  convoId: Type.Optional(StringOrNumber('The convo id of the lead.')),
  ts: Type.Optional(StringOrNumber('The timestamp of the lead; the service sets it to the time of every update.')),
  assignedTo: Type.Optional(AssignedTo),
  hotScore: Type.Optional(Type.Number({ description: 'Computed lead heat score from 0-100.' })),
  hotLabel: Type.Optional(StringEnum(['hot', 'warm', 'cold'] as const, 'Computed heat label for the lead (derived from hotScore; sent alone, it moves hotScore just into its band: hot from 70, warm from 40)')),
  lastActivityDate: Type.Optional(StringOrNumber('Most recent lead activity timestamp.')),
  crmActivities: Type.Optional(Type.Array(CrmActivity, { description: 'Structured CRM activity timeline for the lead; upserted by id, never removed.' })),
};

export const UpdateLeadBody = closed({
  agentId: Type.String({ description: 'The agent ID that owns this lead (required in request body)' }),
  lead: closed(leadFields, 'Lead data to update (all fields optional)'),
});

export const CreateLeadBody = closed({
  lead: closed({ agentId: Type.String({ description: 'The agent that owns the lead; it never changes' }), ...leadFields }),
});

export const LeadIdParams = Type.Object({ id: Type.String({ description: 'The unique identifier of the lead' }) });
export const ListQuery = Type.Object({
  agentId: Type.String({ description: 'The agent whose leads to list' }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'default 50' })),
  cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
});

export const ConvocoreLead = Type.Object({
  id: Type.String(),
  agentId: Type.String(),
  email: Nullable(Type.String()),
  name: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  metaData: Type.Record(Type.String(), Type.Unknown()),
  convoId: Nullable(Type.String()),
  ts: Type.Number({ description: 'Milliseconds since the epoch of the last update' }),
  assignedTo: Nullable(Type.Record(Type.String(), Type.Unknown())),
  hotScore: Type.Number(),
  hotLabel: Type.String(),
  lastActivityDate: Nullable(Type.Number()),
  crmActivities: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  createdAt: Type.Number(),
});

export const Success = <T extends TSchema>(data: T) =>
  Type.Object({ success: Type.Boolean(), message: Type.String(), data }, { additionalProperties: false });
export const LeadListResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Array(ConvocoreLead),
  nextCursor: Nullable(Type.String()),
});

export const ConvocoreError = Type.Object(
  { message: Type.String(), code: Type.String(), issues: Type.Optional(Type.Array(closed({ message: Type.String() }))) },
  { additionalProperties: false },
);
export const errorResponses = Object.fromEntries([400, 401, 404].map((status) => [status, ConvocoreError]));

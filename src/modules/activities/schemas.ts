import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';
import { ACTIVITY_CHANNELS, ACTIVITY_TYPES } from './service.ts';

const enumOf = (values: readonly string[]) => Type.String({ enum: [...values] });
const When = Type.Union([Type.String({ format: 'date-time' }), Type.Number()], { description: 'ISO 8601 date-time or epoch milliseconds' });

const NoteEntry = Type.Object(
  {
    agentId: Type.Optional(Type.String({ maxLength: 100 })),
    agentName: Type.Optional(Type.String({ maxLength: 200 })),
    text: Type.String({ maxLength: 10_000 }),
    timestamp: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Number()])),
  },
  { additionalProperties: false },
);

const activityFields = {
  type: enumOf(ACTIVITY_TYPES),
  title: Nullable(Type.String({ maxLength: 500 })),
  date: Nullable(When),
  dueDate: Nullable(When),
  completed: Type.Boolean(),
  responded: Type.Boolean({ description: 'the lead replied (counts towards the heat score)' }),
  firstChannel: Nullable(enumOf(ACTIVITY_CHANNELS)),
  firstEngaged: Nullable(Type.Boolean()),
  secondChannel: Nullable(enumOf(ACTIVITY_CHANNELS)),
  secondEngaged: Nullable(Type.Boolean()),
  note: Nullable(Type.String({ maxLength: 10_000, description: 'the current note; each new note is appended to notesHistory' })),
  notesHistory: Type.Array(NoteEntry, { maxItems: 500, description: 'entries to append (entries already present are not repeated)' }),
  metadata: Type.Record(Type.String(), Type.Unknown()),
};

export const CreateActivityBody = Type.Composite(
  [
    Type.Object({ type: activityFields.type, id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'client-chosen id' })) }),
    Type.Partial(Type.Omit(Type.Object(activityFields), ['type'])),
  ],
  { additionalProperties: false },
);

export const UpdateActivityBody = Type.Partial(Type.Object(activityFields), { additionalProperties: false, minProperties: 1 });

export const ActivityParams = Type.Object({ id: Type.String(), activityId: Type.String({ maxLength: 100 }) });

export const ActivityDto = Type.Object({
  id: Type.String(),
  leadId: Type.String(),
  type: Type.String(),
  title: Nullable(Type.String()),
  date: Nullable(Timestamp),
  dueDate: Nullable(Timestamp),
  completed: Type.Boolean(),
  responded: Type.Boolean(),
  firstChannel: Nullable(Type.String()),
  firstEngaged: Nullable(Type.Boolean()),
  secondChannel: Nullable(Type.String()),
  secondEngaged: Nullable(Type.Boolean()),
  note: Nullable(Type.String()),
  notesHistory: Type.Array(Type.Object({ agentId: Type.Optional(Type.String()), agentName: Type.Optional(Type.String()), text: Type.String(), timestamp: Type.Optional(Type.Union([Type.String(), Type.Number()])) })),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdBy: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const ActivityResponse = Envelope(ActivityDto);
export const ActivityListResponse = Envelope(Type.Array(ActivityDto));

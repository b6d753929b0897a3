/**
 * The CRM timeline of a lead (Convocore's crmActivities). Stable interface:
 * - `addActivity(ctx, actor, leadId, input)`: a new activity (client-chosen `id` allowed).
 * - `changeActivity(ctx, actor, leadId, activityId, input)`: changes the given fields.
 * - `upsertActivitiesWithin(ctx, tx, actor, leadId, inputs)`: Convocore's semantics, by id,
 *   in the caller's transaction.
 * - `listActivities(ctx, actor, leadId)`, `toActivityDto(row)`.
 * The notes history is only ever appended to. Every write lets the lead recompute its heat
 * score (replies, completed demos and meetings, last activity) in the same transaction.
 */
import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/database.ts';
import { badRequest, invalidField, notFound } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import { getLead, LEAD_NOT_FOUND, updateLeadWithin, type LeadActor } from '../leads/service.ts';
import { findActivity, listActivityRows, upsertActivityRow, type ActivityColumns, type ActivityRow, type NoteEntry } from './store.ts';

export const ACTIVITY_TYPES = ['Message', 'Call', 'Email', 'Demo', 'Meeting', 'Follow-Up', 'Note', 'Stage Change', 'Handoff', 'System'] as const;
export const ACTIVITY_CHANNELS = [
  'LinkedIn',
  'WhatsApp',
  'Instagram',
  'Facebook',
  'Email',
  'Phone/Call',
  'Zoom/Video',
  'In Person',
  'Referral',
  'Web Chat',
  'Unknown',
] as const;

export const ACTIVITY_NOT_FOUND = 'Activity not found';

type When = Date | string | number;

export interface ActivityInput {
  id?: string;
  /** one of ACTIVITY_TYPES (the route schemas check it) */
  type?: string;
  title?: string | null;
  date?: When | null;
  dueDate?: When | null;
  completed?: boolean;
  responded?: boolean;
  /** one of ACTIVITY_CHANNELS */
  firstChannel?: string | null;
  firstEngaged?: boolean | null;
  secondChannel?: string | null;
  secondEngaged?: boolean | null;
  note?: string | null;
  notesHistory?: NoteEntry[];
  metadata?: Record<string, unknown>;
}

export function toActivityDto(row: ActivityRow) {
  return {
    id: row.id,
    leadId: row.lead_id,
    type: row.type,
    title: row.title,
    date: row.date,
    dueDate: row.due_date,
    completed: row.completed,
    responded: row.responded,
    firstChannel: row.first_channel,
    firstEngaged: row.first_engaged,
    secondChannel: row.second_channel,
    secondEngaged: row.second_engaged,
    note: row.note,
    notesHistory: row.notes_history,
    metadata: row.metadata,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDate(value: When | null | undefined, field: string): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidField(field, 'must be a date');
  return date;
}

function columnsOf(input: ActivityInput): ActivityColumns {
  return {
    type: input.type,
    title: input.title,
    date: toDate(input.date, 'date'),
    due_date: toDate(input.dueDate, 'dueDate'),
    completed: input.completed,
    responded: input.responded,
    first_channel: input.firstChannel,
    first_engaged: input.firstEngaged,
    second_channel: input.secondChannel,
    second_engaged: input.secondEngaged,
    note: input.note,
    metadata: input.metadata,
  };
}

const actorName = (actor: LeadActor) => actor.email ?? (actor.userId ? `user:${actor.userId}` : 'system');

/** What a write does with the activity id: a new one only (add), an existing one only (change), or either (upsert). */
type WriteMode = 'add' | 'change' | 'upsert';

/** Writes one activity (insert or change by id) without touching the lead. */
async function writeActivity(ctx: AppContext, tx: Queryable, actor: LeadActor, leadId: string, input: ActivityInput, mode: WriteMode) {
  const id = input.id ?? newId(ctx.clock.now());
  // characters as JSON Schema's maxLength counts them (code points, not UTF-16 units)
  const characters = [...id].length;
  if (characters === 0 || characters > 100) throw invalidField('id', 'must be 1 to 100 characters');
  // an add reads nothing first: a read-then-write let two concurrent adds of one id both pass
  const existing = mode === 'add' ? undefined : await findActivity(tx, actor.organizationId, leadId, id);
  if (mode === 'change' && !existing) throw notFound(ACTIVITY_NOT_FOUND);
  if (!existing && input.type === undefined) throw invalidField('type', 'is required');
  const now = ctx.clock.now();
  const row = await upsertActivityRow(tx, actor.organizationId, leadId, {
    id,
    // the statement is an upsert, so even a change needs the row's type for its insert half
    columns: { ...columnsOf(input), type: input.type ?? existing?.type },
    notesToAppend: input.notesHistory ?? [],
    noteEntry: input.note ? { ...(actor.userId ? { agentId: actor.userId } : {}), agentName: actorName(actor), text: input.note, timestamp: now.toISOString() } : null,
    createdBy: actorName(actor),
    now,
  }, mode === 'add' ? 'keep' : 'change');
  if (!row) {
    // nothing written: for an add, either the id is taken or the lead is not live. A taken
    // id's row is committed by now (the insert waited for its writer), so this read sees it.
    if (mode === 'add' && (await findActivity(tx, actor.organizationId, leadId, id))) throw activityExists(id);
    throw notFound(LEAD_NOT_FOUND);
  }
  return row;
}

/**
 * Writes activities and then lets the lead recompute what depends on its timeline (heat,
 * last activity date), all in one transaction.
 */
async function writeActivities(
  ctx: AppContext,
  actor: LeadActor,
  leadId: string,
  inputs: ActivityInput[],
  mode: WriteMode,
): Promise<ActivityRow[]> {
  if (!isId(leadId)) throw notFound(LEAD_NOT_FOUND);
  return ctx.db.transaction((tx) => writeActivitiesWithin(ctx, tx, actor, leadId, inputs, mode));
}

async function writeActivitiesWithin(
  ctx: AppContext,
  tx: Queryable,
  actor: LeadActor,
  leadId: string,
  inputs: ActivityInput[],
  mode: WriteMode,
): Promise<ActivityRow[]> {
  const rows: ActivityRow[] = [];
  for (const input of inputs) rows.push(await writeActivity(ctx, tx, actor, leadId, input, mode));
  const activityAt = rows
    .map((row) => row.date ?? row.updated_at)
    .reduce<Date | undefined>((latest, date) => (latest && latest >= date ? latest : date), undefined);
  await updateLeadWithin(ctx, tx, actor, leadId, {}, { activityAt });
  return rows;
}

const activityExists = (id: string) => badRequest(`An activity with id ${id} already exists; PATCH it instead`);

export async function addActivity(ctx: AppContext, actor: LeadActor, leadId: string, input: ActivityInput): Promise<ActivityRow> {
  const [row] = await writeActivities(ctx, actor, leadId, [input], 'add');
  return row;
}

export async function changeActivity(
  ctx: AppContext,
  actor: LeadActor,
  leadId: string,
  activityId: string,
  input: Omit<ActivityInput, 'id'>,
): Promise<ActivityRow> {
  await getLead(ctx, actor, leadId); // a missing (or foreign) lead is "Lead not found", as on every lead route
  const [row] = await writeActivities(ctx, actor, leadId, [{ ...input, id: activityId }], 'change');
  return row;
}

/**
 * Convocore's crmActivities: each by id, inserted or changed, never removed; in a transaction
 * the caller holds, as Convocore writes a lead and its crmActivities all or nothing (the
 * lead first: creating or updating it locks it).
 */
export function upsertActivitiesWithin(ctx: AppContext, tx: Queryable, actor: LeadActor, leadId: string, inputs: ActivityInput[]): Promise<ActivityRow[]> {
  return writeActivitiesWithin(ctx, tx, actor, leadId, inputs, 'upsert');
}

export async function listActivities(ctx: AppContext, actor: LeadActor, leadId: string): Promise<ActivityRow[]> {
  await getLead(ctx, actor, leadId);
  return listActivityRows(ctx.db, actor.organizationId, leadId);
}

import type { Queryable } from '../../db/database.ts';
import { maybeOne } from '../../db/database.ts';

export interface NoteEntry {
  agentId?: string;
  agentName?: string;
  text: string;
  timestamp?: string | number;
}

export interface ActivityRow {
  id: string;
  organization_id: string;
  lead_id: string;
  type: string;
  title: string | null;
  date: Date | null;
  due_date: Date | null;
  completed: boolean;
  responded: boolean;
  first_channel: string | null;
  first_engaged: boolean | null;
  second_channel: string | null;
  second_engaged: boolean | null;
  note: string | null;
  notes_history: NoteEntry[];
  metadata: Record<string, unknown>;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Activity columns a client may write; undefined leaves a column as it is. */
export interface ActivityColumns {
  type?: string;
  title?: string | null;
  date?: Date | null;
  due_date?: Date | null;
  completed?: boolean;
  responded?: boolean;
  first_channel?: string | null;
  first_engaged?: boolean | null;
  second_channel?: string | null;
  second_engaged?: boolean | null;
  note?: string | null;
  metadata?: Record<string, unknown>;
}

const COLUMNS = [
  'type',
  'title',
  'date',
  'due_date',
  'completed',
  'responded',
  'first_channel',
  'first_engaged',
  'second_channel',
  'second_engaged',
  'note',
  'metadata',
] as const;

// The notes history only grows: given entries are appended unless already present (clients
// that resend the whole activity must not duplicate them), then an entry for a new note.
const GIVEN_NOTES = (history: string) => `COALESCE(
  (SELECT jsonb_agg(entry) FROM jsonb_array_elements($4::jsonb) AS entry WHERE NOT ${history} @> jsonb_build_array(entry)), '[]')`;

/**
 * Inserts an activity, or, when the lead already has one with this id, changes the given
 * columns of it (`existing: 'change'`) or leaves it alone (`'keep'`: the check that the id
 * is new is this statement's own, so of concurrent inserts of one id exactly one gets the
 * row); the notes history is only ever appended to. Answers undefined when the lead is not
 * a live lead of the organization, or when an existing activity was kept. Locks the lead
 * row for the transaction.
 */
export async function upsertActivityRow(
  db: Queryable,
  organizationId: string,
  leadId: string,
  activity: { id: string; columns: ActivityColumns; notesToAppend: NoteEntry[]; noteEntry: NoteEntry | null; createdBy: string; now: Date },
  existing: 'change' | 'keep',
): Promise<ActivityRow | undefined> {
  const given = COLUMNS.filter((name) => activity.columns[name] !== undefined);
  const values = given.map((name) => (name === 'metadata' ? JSON.stringify(activity.columns[name]) : activity.columns[name]));
  const first = 8;
  const insertNames = given.map((name) => `, ${name}`).join('');
  const insertValues = given.map((_, i) => `, $${first + i}`).join('');
  const updates = given.map((name, i) => `${name} = $${first + i}, `).join('');
  return maybeOne<ActivityRow>(
    db,
    `INSERT INTO lead_activities (id, organization_id, lead_id, notes_history, created_by, created_at, updated_at${insertNames})
     SELECT $3, $1, $2, ${GIVEN_NOTES(`'[]'::jsonb`)} || CASE WHEN $7::jsonb IS NULL THEN '[]' ELSE jsonb_build_array($7::jsonb) END, $5, $6, $6${insertValues}
       FROM leads WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
       -- the lead is locked before the foreign key's share lock, which the lead's own update in
       -- the same transaction would otherwise have to upgrade: concurrent writers deadlocked
       FOR UPDATE
     ON CONFLICT (organization_id, lead_id, id) ${existing === 'keep' ? 'DO NOTHING' : `DO UPDATE SET ${updates}
       notes_history = lead_activities.notes_history || ${GIVEN_NOTES('lead_activities.notes_history')}
         || CASE WHEN $7::jsonb IS NOT NULL AND lead_activities.note IS DISTINCT FROM $7::jsonb ->> 'text'
                 THEN jsonb_build_array($7::jsonb) ELSE '[]' END,
       updated_at = $6`}
     RETURNING *`,
    [
      organizationId,
      leadId,
      activity.id,
      JSON.stringify(activity.notesToAppend),
      activity.createdBy,
      activity.now,
      activity.noteEntry && JSON.stringify(activity.noteEntry),
      ...values,
    ],
  );
}

export function findActivity(db: Queryable, organizationId: string, leadId: string, id: string): Promise<ActivityRow | undefined> {
  return maybeOne<ActivityRow>(db, `SELECT * FROM lead_activities WHERE organization_id = $1 AND lead_id = $2 AND id = $3`, [
    organizationId,
    leadId,
    id,
  ]);
}

export function listActivityRows(db: Queryable, organizationId: string, leadId: string): Promise<ActivityRow[]> {
  return db.query<ActivityRow>(
    `SELECT * FROM lead_activities WHERE organization_id = $1 AND lead_id = $2 ORDER BY created_at, id`,
    [organizationId, leadId],
  );
}

/** The timelines of several leads in one statement (a page of leads, e.g. Convocore's list). */
export function listActivityRowsOfLeads(db: Queryable, organizationId: string, leadIds: string[]): Promise<ActivityRow[]> {
  return db.query<ActivityRow>(
    `SELECT * FROM lead_activities WHERE organization_id = $1 AND lead_id = ANY($2::text[]) ORDER BY lead_id, created_at, id`,
    [organizationId, leadIds],
  );
}

/** A finished activity the system records (e.g. a message that went out), many per statement. */
export interface SystemActivity {
  /** unique within the lead; a second write of the same id is ignored */
  id: string;
  organizationId: string;
  leadId: string;
  type: string;
  title: string;
  firstChannel: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Appends system activities to their leads' timelines in one statement, without touching
 * the leads. Rows whose lead is gone, or whose id the lead already has, are skipped.
 */
export async function insertSystemActivities(db: Queryable, activities: SystemActivity[], createdBy: string, now: Date): Promise<void> {
  if (activities.length === 0) return;
  const column = <K extends keyof SystemActivity>(key: K) => activities.map((activity) => activity[key]);
  await db.query(
    { name: 'activities.insertSystem', text: `INSERT INTO lead_activities (id, organization_id, lead_id, type, title, date, completed, first_channel, metadata, created_by, created_at, updated_at)
     SELECT a.id, a.organization_id, a.lead_id, a.type, a.title, $8, true, a.first_channel, a.metadata, $7, $8, $8
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $9::jsonb[])
            AS a(id, organization_id, lead_id, type, title, first_channel, metadata)
     ON CONFLICT (organization_id, lead_id, id) DO NOTHING` },
    [
      column('id'), column('organizationId'), column('leadId'), column('type'), column('title'), column('firstChannel'),
      createdBy, now, activities.map((activity) => JSON.stringify(activity.metadata)),
    ],
  );
}

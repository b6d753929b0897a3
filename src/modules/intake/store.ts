import { insertNumbered, insertRecords } from '../../db/bulk.ts';
import type { Queryable } from '../../db/database.ts';
import type { LeadRow } from '../leads/store.ts';

export interface ExistingLead {
  id: string;
  phone: string | null;
  email: string | null;
  convo_id: string | null;
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  additional_info: Record<string, unknown>;
}

/** The live leads matching any of the phones or emails (emails compared lower-cased). */
export function findLeadsByContacts(db: Queryable, organizationId: string, phones: string[], emails: string[]): Promise<ExistingLead[]> {
  return db.query<ExistingLead>(
    `SELECT id, phone, email, convo_id, first_name, last_name, name, additional_info FROM leads
      WHERE organization_id = $1 AND deleted_at IS NULL
        AND (phone = ANY($2::text[]) OR lower(email) = ANY($3::text[]))
      ORDER BY created_at, id`,
    [organizationId, phones, emails],
  );
}

/** One person's custom fields as routing would store them: on a new lead as they are, on an existing one merged in. */
export interface CustomFieldsWrite {
  person: number;
  leadId: string | null;
  fields: Record<string, unknown>;
}

/**
 * The persons whose stored custom fields would break the bounds the leads table keeps
 * (`lead_custom_fields_within_bounds`: it counts keys and the JSONB's own text, which
 * JSON.stringify cannot tell), asked of the database before anything is written.
 */
export async function customFieldsPastBounds(db: Queryable, organizationId: string, writes: CustomFieldsWrite[]): Promise<Set<number>> {
  if (writes.length === 0) return new Set();
  const rows = await db.query<{ person: number }>(
    `SELECT w.person FROM jsonb_to_recordset($1::jsonb) AS w(person integer, lead_id text, fields jsonb)
       LEFT JOIN leads l ON l.organization_id = $2 AND l.id = w.lead_id
      WHERE NOT lead_custom_fields_within_bounds(
              CASE WHEN w.lead_id IS NULL THEN w.fields ELSE jsonb_merge_patch(l.additional_info, w.fields) END)`,
    [JSON.stringify(writes.map((w) => ({ person: w.person, lead_id: w.leadId, fields: w.fields }))), organizationId],
  );
  return new Set(rows.map((row) => row.person));
}

/** Traces of model calls made for an input that was then refused: it leaves nothing behind. */
export async function deleteTraces(db: Queryable, organizationId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('DELETE FROM ai_traces WHERE organization_id = $1 AND id = ANY($2::text[])', [organizationId, ids]);
}

export interface NewLeadRecord {
  id: string;
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  source: string;
  owner_id: string;
  pipeline_id: string;
  stage_id: string;
  process_id: string;
  configuration_id: string;
  additional_info: Record<string, unknown>;
  convo_id: string;
  dedupe_key: string | null;
  hot_score: number;
  hot_label: string;
  follow_up_step: number | null;
  next_follow_up_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * Inserts an organization's new leads, numbered in one range, skipping any whose dedupe
 * key a concurrent intake took first; answers the ids actually inserted.
 */
export async function insertLeads(db: Queryable, organizationId: string, leads: NewLeadRecord[]): Promise<Set<string>> {
  const inserted = await insertNumbered(
    db,
    'leads',
    organizationId,
    ['id', 'first_name', 'last_name', 'name', 'email', 'phone', 'source', 'owner_id', 'pipeline_id', 'stage_id', 'process_id', 'configuration_id',
      'additional_info', 'convo_id', 'dedupe_key', 'hot_score', 'hot_label', 'follow_up_step', 'next_follow_up_at', 'created_at', 'updated_at'],
    leads,
    `ON CONFLICT (organization_id, dedupe_key) WHERE deleted_at IS NULL AND dedupe_key IS NOT NULL DO NOTHING RETURNING id`,
  );
  return new Set(inserted.map((row) => row.id));
}

/** Each new lead's 'created' event and first stage-history row. */
export async function recordLeadsCreated(
  db: Queryable,
  organizationId: string,
  leads: Array<{ id: string; stage_id: string; source: string; configuration_id: string }>,
  actor: { userId: string; label: string },
  now: Date,
): Promise<void> {
  if (leads.length === 0) return;
  await db.query(
    `WITH created AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id text, stage_id text, source text, configuration_id text)
     ), events AS (
       INSERT INTO lead_events (organization_id, lead_id, actor_user_id, actor, kind, changes, at)
       SELECT $2, id, $3, $4, 'created', '{}', $5 FROM created
     )
     INSERT INTO stage_history (organization_id, lead_id, from_stage_id, to_stage_id, source, configuration_id, changed_by, at)
     SELECT $2, id, NULL, stage_id, source, configuration_id, $4, $5 FROM created`,
    [JSON.stringify(leads), organizationId, actor.userId, actor.label, now],
  );
}

/** What a refresh plans from: the existing lead's columns it may change, as they are now. */
export type RefreshedLead = Pick<
  LeadRow,
  | 'id'
  | 'first_name'
  | 'last_name'
  | 'name'
  | 'email'
  | 'phone'
  | 'dedupe_key'
  | 'additional_info'
  | 'follow_up_step'
  | 'follow_up_config'
  | 'next_follow_up_at'
  | 'follow_up_deferred_until'
> & { agent_follow_up_config: unknown };

/**
 * Locks the live leads a batch refreshes and reads them, so the refresh is planned on the
 * values it replaces. In id order: two batches refreshing the same leads queue rather than
 * deadlock.
 */
export function lockLeadsForRefresh(db: Queryable, organizationId: string, ids: string[]): Promise<RefreshedLead[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.query<RefreshedLead>(
    `SELECT l.id, l.first_name, l.last_name, l.name, l.email, l.phone, l.dedupe_key, l.additional_info,
            l.follow_up_step, l.follow_up_config, l.next_follow_up_at, l.follow_up_deferred_until, a.follow_up_config AS agent_follow_up_config
       FROM leads l LEFT JOIN agents a ON a.organization_id = l.organization_id AND a.id = l.agent_id
      WHERE l.organization_id = $1 AND l.id = ANY($2::text[]) AND l.deleted_at IS NULL
      ORDER BY l.id FOR UPDATE OF l`,
    [organizationId, ids],
  );
}

export interface TimelineRecord {
  id: string;
  lead_id: string;
  title: string;
  metadata: Record<string, unknown>;
}

/** Routing decisions as System activities on the leads' timelines. */
export async function insertTimeline(db: Queryable, organizationId: string, entries: TimelineRecord[], now: Date): Promise<void> {
  await insertRecords(
    db,
    'lead_activities',
    { id: 'text', organization_id: 'text', lead_id: 'text', type: 'text', title: 'text', date: 'timestamptz', completed: 'boolean', metadata: 'jsonb', created_by: 'text', created_at: 'timestamptz', updated_at: 'timestamptz' },
    entries.map((e) => ({ ...e, organization_id: organizationId, type: 'System', date: now, completed: true, created_by: 'routing', created_at: now, updated_at: now })),
  );
}

export interface IntakeRecord {
  id: string;
  organization_id: string;
  lead_id: string;
  configuration_id: string;
  origin: string;
  created: boolean;
  contacted: boolean;
  cost: number;
  at: Date;
}

export async function insertIntakes(db: Queryable, intakes: IntakeRecord[]): Promise<void> {
  await insertRecords(
    db,
    'lead_intakes',
    { id: 'text', organization_id: 'text', lead_id: 'text', configuration_id: 'text', origin: 'text', created: 'boolean', contacted: 'boolean', cost: 'double precision', at: 'timestamptz' },
    intakes,
  );
}

import { createHash } from 'node:crypto';
import { insertNumbered } from '../../db/bulk.ts';
import type { Queryable, Statement } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';
import { FOLLOW_UP_TOUCH, PENDING_OUTBOUND } from '../messages/store.ts';

export interface LeadRow {
  id: string;
  seq: number;
  organization_id: string;
  owner_id: string | null;
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  source: string | null;
  status: string;
  pipeline_id: string | null;
  stage_id: string | null;
  stage_name: string | null;
  agent_id: string | null;
  campaign_id: string | null;
  process_id: string | null;
  configuration_id: string | null;
  additional_info: Record<string, unknown>;
  assigned_to: Record<string, unknown> | null;
  hot_score: number;
  hot_label: 'hot' | 'warm' | 'cold';
  last_activity_date: Date | null;
  is_ai_on: boolean;
  opted_out: boolean;
  has_replied: boolean;
  convo_id: string | null;
  follow_up_config: unknown;
  follow_up_step: number | null;
  next_follow_up_at: Date | null;
  follow_up_deferred_until: Date | null;
  use_strategies_for_follow_ups: boolean;
  dedupe_key: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  /** heat inputs kept by triggers on lead_activities: responded activities, completed demos and meetings */
  replies: number;
  completed_meetings: number;
}

/** A lead read for update, with its stage's place (a heat input) and the stage it moves to. */
export interface LockedLeadRow extends LeadRow {
  stage_position: number | null;
  stage_count: number | null;
  target_stage: StageRef | null;
}

export interface StageRef {
  id: string;
  pipeline_id: string;
  name: string;
  position: number;
  count: number;
}

/** The lead columns a create or update may write, by column name. */
export type LeadColumns = Partial<Omit<LeadRow, 'id' | 'seq' | 'organization_id' | 'stage_name' | 'version' | 'created_at' | 'updated_at' | 'deleted_at'>>;

const SELECT_LEAD = `
  SELECT l.*, s.name AS stage_name FROM leads l LEFT JOIN pipeline_stages s ON s.organization_id = l.organization_id AND s.id = l.stage_id`;

// The per-request statements are named, so PostgreSQL plans each once per connection: on
// this wide, well-indexed table planning costs more than running them. The name of a
// generated statement is a digest of its text, so a name never stands for two texts.
const prepared = (text: string): Statement => ({ name: `leads_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text });

const FIND_LEAD = prepared(`${SELECT_LEAD} WHERE l.organization_id = $1 AND l.id = $2 AND l.deleted_at IS NULL`);
const FIND_LEAD_BY_SEQ = prepared(`${SELECT_LEAD} WHERE l.organization_id = $1 AND l.seq = $2 AND l.deleted_at IS NULL`);
const FIND_LEAD_BY_DEDUPE_KEY = prepared(`${SELECT_LEAD} WHERE l.organization_id = $1 AND l.dedupe_key = $2 AND l.deleted_at IS NULL`);

// Column names come from LeadColumns keys, never from request text; this guard keeps it so.
function column(name: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`bad column ${name}`);
  return name;
}

/** Inserts a new lead, numbered in its organization, in the stage (already resolved) named `stageName`. */
export async function insertLead(
  db: Queryable,
  lead: { id: string; organizationId: string; now: Date; stageName: string } & LeadColumns,
): Promise<LeadRow> {
  const { id, organizationId, now, stageName, ...columns } = lead;
  // a column left out keeps its default, where a null in the inserted row would overwrite it
  const given = Object.keys(columns)
    .filter((name) => (columns as Record<string, unknown>)[name] !== undefined)
    .map(column);
  const [row] = await insertNumbered<LeadRow>(
    db,
    'leads',
    organizationId,
    ['id', 'created_at', 'updated_at', ...given],
    [{ ...columns, id, created_at: now, updated_at: now }],
    'RETURNING *',
  );
  return { ...row, stage_name: stageName };
}

export function findLead(db: Queryable, organizationId: string, id: string): Promise<LeadRow | undefined> {
  return maybeOne<LeadRow>(db, FIND_LEAD, [organizationId, id]);
}

export function findLeadBySeqRow(db: Queryable, organizationId: string, seq: number): Promise<LeadRow | undefined> {
  return maybeOne<LeadRow>(db, FIND_LEAD_BY_SEQ, [organizationId, seq]);
}

export function findLeadByDedupeKey(db: Queryable, organizationId: string, dedupeKey: string): Promise<LeadRow | undefined> {
  return maybeOne<LeadRow>(db, FIND_LEAD_BY_DEDUPE_KEY, [organizationId, dedupeKey]);
}

/** A live lead with this phone, else (when an email is given) with this email; oldest first. */
export function findLeadByContactRow(
  db: Queryable,
  organizationId: string,
  contact: { phone?: string | null; email?: string | null },
): Promise<LeadRow | undefined> {
  return maybeOne<LeadRow>(
    db,
    `${SELECT_LEAD}
      WHERE l.organization_id = $1 AND l.deleted_at IS NULL
        AND (l.phone = $2 OR ($2::text IS NULL AND lower(l.email) = lower($3::text)))
      ORDER BY l.created_at, l.id LIMIT 1`,
    [organizationId, contact.phone ?? null, contact.phone ? null : (contact.email ?? null)],
  );
}

/**
 * The stage a reference names: a stage id, or a stage name within `pipeline` (an SQL
 * expression); with no reference, the first stage of `pipeline`. Shared by creation and the
 * locking read of an update, so both resolve stages alike.
 */
const STAGE_LOOKUP = (organization: string, reference: string, pipeline: string) => `
  SELECT st.id, st.pipeline_id, st.name, st.position,
         (SELECT count(*)::int FROM pipeline_stages c WHERE c.organization_id = st.organization_id AND c.pipeline_id = st.pipeline_id) AS count
    FROM pipeline_stages st
   WHERE st.organization_id = ${organization}
     AND CASE WHEN ${reference} IS NULL THEN st.pipeline_id = ${pipeline}
              ELSE st.id = ${reference} OR (st.pipeline_id = ${pipeline} AND lower(st.name) = lower(${reference})) END
   ORDER BY (st.id = ${reference}) DESC NULLS LAST, st.position
   LIMIT 1`;

/**
 * Reads a live lead for an update, with (in the same statement) its stage's place in its
 * pipeline and, when the update moves it, the target stage: a stage id or name within `pipelineId` (else
 * the lead's pipeline), or the first stage of `pipelineId`. With `lock`, the row stays
 * locked for the rest of the transaction.
 */
export function readLeadForChange(
  db: Queryable,
  organizationId: string,
  id: string,
  move: { stage: string | null; pipelineId: string | null },
  lock: boolean,
): Promise<LockedLeadRow | undefined> {
  return maybeOne<LockedLeadRow>(db, lock ? READ_FOR_CHANGE_LOCKED : READ_FOR_CHANGE, [organizationId, id, move.stage, move.pipelineId]);
}

const readForChange = (lock: boolean) =>
  prepared(`SELECT l.*, s.name AS stage_name, s.position AS stage_position,
            (SELECT count(*)::int FROM pipeline_stages c WHERE c.organization_id = s.organization_id AND c.pipeline_id = s.pipeline_id) AS stage_count,
            CASE WHEN t.id IS NULL THEN NULL
                 ELSE json_build_object('id', t.id, 'pipeline_id', t.pipeline_id, 'name', t.name, 'position', t.position, 'count', t.count) END
              AS target_stage
       FROM leads l
       LEFT JOIN pipeline_stages s ON s.organization_id = l.organization_id AND s.id = l.stage_id
       LEFT JOIN LATERAL (${STAGE_LOOKUP('l.organization_id', '$3::text', 'COALESCE($4::text, l.pipeline_id)')}) t
         ON $3::text IS NOT NULL OR $4::text IS NOT NULL
      WHERE l.organization_id = $1 AND l.id = $2 AND l.deleted_at IS NULL
      ${lock ? 'FOR UPDATE OF l' : ''}`);
const READ_FOR_CHANGE = readForChange(false);
const READ_FOR_CHANGE_LOCKED = readForChange(true);

/** Resolves a stage for a new lead; the pipeline defaults to the organization's default Contact pipeline. */
export function findStage(
  db: Queryable,
  organizationId: string,
  reference: string | null,
  pipelineId: string | null,
): Promise<StageRef | undefined> {
  return maybeOne<StageRef>(
    db,
    STAGE_LOOKUP(
      '$1',
      '$2::text',
      `COALESCE($3::text, (SELECT id FROM pipelines WHERE organization_id = $1 AND type = 'Contact' AND is_default))`,
    ),
    [organizationId, reference, pipelineId],
  );
}

export interface ReferenceIds {
  agentId?: string | null;
  campaignId?: string | null;
  processId?: string | null;
  configurationId?: string | null;
  pipelineId?: string | null;
  /** the assignee: a user of the organization */
  'assignedTo.userId'?: string | null;
}

/** Which of the given ids exist in the organization, in one statement. */
export async function existingReferences(db: Queryable, organizationId: string, ids: ReferenceIds): Promise<Record<keyof ReferenceIds, boolean>> {
  return one(
    db,
    `SELECT EXISTS (SELECT 1 FROM agents WHERE organization_id = $1 AND id = $2) AS "agentId",
            EXISTS (SELECT 1 FROM campaigns WHERE organization_id = $1 AND id = $3) AS "campaignId",
            EXISTS (SELECT 1 FROM prompts WHERE organization_id = $1 AND id = $4) AS "processId",
            EXISTS (SELECT 1 FROM lead_management_configs WHERE organization_id = $1 AND id = $5) AS "configurationId",
            EXISTS (SELECT 1 FROM pipelines WHERE organization_id = $1 AND id = $6) AS "pipelineId",
            EXISTS (SELECT 1 FROM users WHERE organization_id = $1 AND id = $7) AS "assignedTo.userId"`,
    [
      organizationId,
      ids.agentId ?? null,
      ids.campaignId ?? null,
      ids.processId ?? null,
      ids.configurationId ?? null,
      ids.pipelineId ?? null,
      ids['assignedTo.userId'] ?? null,
    ],
  );
}

export interface SystemActivity {
  id: string;
  type: 'Stage Change' | 'Handoff' | 'System';
  title: string;
  metadata: Record<string, unknown>;
}

export interface LeadWrite {
  organizationId: string;
  id: string;
  columns: LeadColumns;
  /** RFC 7396 patch merged into additional_info by the database */
  additionalInfoPatch?: Record<string, unknown>;
  now: Date;
  actor: { userId: string | null; label: string };
  changes: Record<string, { from: unknown; to: unknown }>;
  activities: SystemActivity[];
  stageChange?: { fromStageId: string | null; toStageId: string; source: string | null };
  /** write only if the row is still at this version (an update planned without a lock) */
  atVersion?: number;
  /** the update stops the lead's follow-ups: its pending follow-up touches are canceled with it, for this reason */
  stopsFollowUps?: string;
}

/** The column names a write sets. */
function columnsSet(write: LeadWrite): string[] {
  return Object.keys(write.columns)
    .filter((name) => (write.columns as Record<string, unknown>)[name] !== undefined)
    .map(column);
}

/** Writes with the same shape (the same columns set) can share one statement. */
export const leadWriteShape = (write: LeadWrite): string => columnsSet(write).join(',');

/**
 * Applies updates and everything that goes with each in ONE statement: the lead row
 * (version + 1, custom fields merged in SQL), its event, the system activities and the
 * stage-history row. The writes travel as one JSON array, their column values typed by the
 * leads row type (`jsonb_populate_record`). They must share one shape (`leadWriteShape`) and
 * name distinct leads. Each answer is undefined when nothing was written for that write:
 * the lead is gone, or it is no longer at `atVersion`.
 */
export async function writeLeadUpdates(db: Queryable, writes: LeadWrite[]): Promise<(LeadRow | undefined)[]> {
  const rows = await runLeadUpdates<LeadRow>(db, writes, LEADS_WRITTEN);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return writes.map((write) => byId.get(write.id));
}

/**
 * writeLeadUpdates for a writer that needs nothing back (intake's refresh of the leads it
 * locked): sending every written row back made that refresh half again as slow on PGlite.
 */
export async function applyLeadUpdates(db: Queryable, writes: LeadWrite[]): Promise<void> {
  if (writes.length > 0) await runLeadUpdates(db, writes, `SELECT count(*) FROM updated`);
}

const LEADS_WRITTEN = `SELECT u.*, s.name AS stage_name FROM updated u LEFT JOIN pipeline_stages s ON s.organization_id = u.organization_id AND s.id = u.stage_id`;

/** The statement of both; `answer` is its final SELECT (every write of the WITH runs whether it reads `updated` or not). */
function runLeadUpdates<T>(db: Queryable, writes: LeadWrite[], answer: string): Promise<T[]> {
  const names = columnsSet(writes[0]);
  const batch = writes.map((write) => ({
    organization_id: write.organizationId,
    id: write.id,
    at: write.now,
    actor_user_id: write.actor.userId,
    actor: write.actor.label,
    changes: write.changes,
    activities: write.activities,
    from_stage_id: write.stageChange?.fromStageId ?? null,
    stage_changed: write.stageChange !== undefined,
    source: write.stageChange?.source ?? null,
    info_patch: write.additionalInfoPatch ?? null,
    at_version: write.atVersion ?? null,
    stop_reason: write.stopsFollowUps ?? null,
    columns: write.columns,
  }));
  return db.query<T>(
    prepared(`WITH w AS (
       SELECT x.*, jsonb_populate_record(NULL::leads, x.columns) AS c
         FROM jsonb_to_recordset($1::jsonb) AS x(organization_id text, id text, at timestamptz, actor_user_id text, actor text,
              changes jsonb, activities jsonb, from_stage_id text, stage_changed boolean, source text, info_patch jsonb,
              at_version int, stop_reason text, columns jsonb)
     ), updated AS (
       UPDATE leads l SET ${names.map((name) => `${name} = (w.c).${name}, `).join('')}
              additional_info = CASE WHEN w.info_patch IS NULL THEN l.additional_info ELSE jsonb_merge_patch(l.additional_info, w.info_patch) END,
              version = l.version + 1, updated_at = w.at
         FROM w
        WHERE l.organization_id = w.organization_id AND l.id = w.id AND l.deleted_at IS NULL
          AND (w.at_version IS NULL OR l.version = w.at_version)
        RETURNING l.*
     ), written AS (
       SELECT u.organization_id, u.id, u.stage_id, u.configuration_id, w.at, w.actor_user_id, w.actor, w.changes, w.activities,
              w.from_stage_id, w.stage_changed, w.source, w.stop_reason
         FROM updated u JOIN w ON w.organization_id = u.organization_id AND w.id = u.id
     ), canceled AS (
       UPDATE messages m SET status = 'canceled', next_attempt_at = NULL, last_error = t.stop_reason, updated_at = t.at
         FROM written t
        WHERE t.stop_reason IS NOT NULL AND m.organization_id = t.organization_id AND m.lead_id = t.id AND ${PENDING_OUTBOUND} AND ${FOLLOW_UP_TOUCH}
     ), event AS (
       INSERT INTO lead_events (organization_id, lead_id, actor_user_id, actor, kind, changes, at)
       SELECT organization_id, id, actor_user_id, actor, 'updated', changes, at FROM written
     ), activities AS (
       INSERT INTO lead_activities (id, organization_id, lead_id, type, title, date, completed, metadata, created_by, created_at, updated_at)
       SELECT a.id, t.organization_id, t.id, a.type, a.title, t.at, true, a.metadata, t.actor, t.at, t.at
         FROM written t, jsonb_to_recordset(t.activities) AS a(id text, type text, title text, metadata jsonb)
     ), history AS (
       INSERT INTO stage_history (organization_id, lead_id, from_stage_id, to_stage_id, source, configuration_id, changed_by, at)
       SELECT organization_id, id, from_stage_id, stage_id, source, configuration_id, actor, at FROM written WHERE stage_changed
     )
     ${answer}`),
    [JSON.stringify(batch)],
  );
}

/** The creation's event, its System activity and its first stage-history row. */
export async function recordLeadCreated(
  db: Queryable,
  lead: LeadRow,
  actor: { userId: string | null; label: string },
  activityId: string,
  source: string | null,
): Promise<void> {
  await db.query(
    `WITH event AS (
       INSERT INTO lead_events (organization_id, lead_id, actor_user_id, actor, kind, changes, at)
       VALUES ($1, $2, $3, $4, 'created', '{}', $5)
     ), activity AS (
       INSERT INTO lead_activities (id, organization_id, lead_id, type, title, date, completed, created_by, created_at, updated_at)
       VALUES ($6, $1, $2, 'System', 'Lead created', $5, true, $4, $5, $5)
     )
     INSERT INTO stage_history (organization_id, lead_id, from_stage_id, to_stage_id, source, configuration_id, changed_by, at)
     SELECT $1, $2, NULL, $7::text, $8, $9, $4, $5 WHERE $7::text IS NOT NULL`,
    [lead.organization_id, lead.id, actor.userId, actor.label, lead.created_at, activityId, lead.stage_id, source, lead.configuration_id],
  );
}

export async function softDeleteLead(
  db: Queryable,
  organizationId: string,
  id: string,
  now: Date,
  actor: { userId: string | null; label: string },
): Promise<boolean> {
  const rows = await db.query(
    `WITH deleted AS (
       UPDATE leads SET deleted_at = $3, updated_at = $3, version = version + 1
        WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING organization_id, id
     )
     INSERT INTO lead_events (organization_id, lead_id, actor_user_id, actor, kind, changes, at)
     SELECT organization_id, id, $4, $5, 'deleted', '{}', $3 FROM deleted RETURNING lead_id`,
    [organizationId, id, now, actor.userId, actor.label],
  );
  return rows.length > 0;
}

export interface LeadFilters {
  stage?: string;
  status?: string;
  source?: string;
  campaign?: string;
  agent?: string;
  assignee?: string;
  hotLabel?: string;
  createdFrom?: Date;
  createdTo?: Date;
  updatedFrom?: Date;
  updatedTo?: Date;
  q?: string;
}

/** Text of a LIKE pattern that matches `text` literally anywhere. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// The searchable text of a lead; the trigram index leads_search_idx is on this expression.
const SEARCH_TEXT = `(coalesce(l.name, '') || ' ' || coalesce(l.email, '') || ' ' || coalesce(l.phone, ''))`;

// Every filter but the free text is a `$n IS NULL OR ...` term, so the text stays the same
// whichever filters a request uses; $1 is the organization, $2/$3 the cursor.
const LIST_WHERE = `
      WHERE l.organization_id = $1 AND l.deleted_at IS NULL
        AND ($2::timestamptz IS NULL OR (l.created_at, l.id) < ($2::timestamptz, $3::text))
        AND ($4::text IS NULL OR l.stage_id = $4 OR lower(s.name) = lower($4))
        AND ($5::text IS NULL OR l.status = $5)
        AND ($6::text IS NULL OR l.source = $6)
        AND ($7::text IS NULL OR l.campaign_id = $7)
        AND ($8::text IS NULL OR l.agent_id = $8)
        AND ($9::text IS NULL OR l.assigned_to ->> 'userId' = $9)
        AND ($10::text IS NULL OR l.hot_label = $10)
        AND ($11::timestamptz IS NULL OR l.created_at >= $11)
        AND ($12::timestamptz IS NULL OR l.created_at < $12)
        AND ($13::timestamptz IS NULL OR l.updated_at >= $13)
        AND ($14::timestamptz IS NULL OR l.updated_at < $14)`;

/**
 * How many of the newest leads a free-text search reads in listing order before it asks
 * the trigram index instead: a common text fills a page from the newest rows at once,
 * while the index would hand over every match to be sorted; a rare text is the reverse.
 */
export const SEARCH_WINDOW = 5000;

/** One keyset page, newest first: rows strictly after the (created_at, id) cursor. */
export async function listLeadRows(
  db: Queryable,
  organizationId: string,
  filters: LeadFilters,
  after: { createdAt: Date; id: string } | undefined,
  limit: number,
): Promise<LeadRow[]> {
  const params = [
    organizationId,
    after?.createdAt ?? null,
    after?.id ?? null,
    filters.stage ?? null,
    filters.status ?? null,
    filters.source ?? null,
    filters.campaign ?? null,
    filters.agent ?? null,
    filters.assignee ?? null,
    filters.hotLabel ?? null,
    filters.createdFrom ?? null,
    filters.createdTo ?? null,
    filters.updatedFrom ?? null,
    filters.updatedTo ?? null,
    limit,
  ];
  if (!filters.q) {
    return db.query<LeadRow>(`${SELECT_LEAD} ${LIST_WHERE} ORDER BY l.created_at DESC, l.id DESC LIMIT $15`, params);
  }
  const pattern = containsPattern(filters.q);
  const windowed = await db.query<LeadRow & { window_rows: number }>(
    `WITH recent AS MATERIALIZED (
       SELECT l.id, l.created_at, ${SEARCH_TEXT} AS text
         FROM leads l LEFT JOIN pipeline_stages s ON s.organization_id = l.organization_id AND s.id = l.stage_id ${LIST_WHERE}
        ORDER BY l.created_at DESC, l.id DESC LIMIT $17
     ), hits AS (
       SELECT id, created_at FROM recent WHERE text ILIKE $16 ORDER BY created_at DESC, id DESC LIMIT $15
     )
     SELECT l.*, s.name AS stage_name, (SELECT count(*) FROM recent)::int AS window_rows
       FROM (SELECT 1) AS always
       LEFT JOIN hits h ON true
       LEFT JOIN leads l ON l.organization_id = $1 AND l.id = h.id
       LEFT JOIN pipeline_stages s ON s.organization_id = l.organization_id AND s.id = l.stage_id
      ORDER BY h.created_at DESC, h.id DESC`,
    [...params, pattern, SEARCH_WINDOW],
  );
  const found = windowed.filter((row) => row.id !== null);
  if (found.length === limit || windowed[0].window_rows < SEARCH_WINDOW) return found;
  return db.query<LeadRow>(
    `${SELECT_LEAD} ${LIST_WHERE} AND ${SEARCH_TEXT} ILIKE $16 ORDER BY l.created_at DESC, l.id DESC LIMIT $15`,
    [...params, pattern],
  );
}

export interface OwnedLeadFilters {
  status?: string;
  campaignSeq?: number;
  phoneContains?: string;
}

export type OwnedLeadRow = LeadRow & { campaign_seq: string | number | null; total: string | number };

/**
 * One numbered page of an owner's live leads, oldest first, each with its campaign's
 * integer id and the filtered total (Laravel paginators report it).
 */
export function listOwnedLeadRows(
  db: Queryable,
  organizationId: string,
  ownerId: string,
  filters: OwnedLeadFilters,
  page: number,
  perPage: number,
): Promise<OwnedLeadRow[]> {
  return db.query<OwnedLeadRow>(
    `SELECT l.*, NULL::text AS stage_name, c.seq AS campaign_seq, count(*) OVER () AS total
       FROM leads l LEFT JOIN campaigns c ON c.organization_id = l.organization_id AND c.id = l.campaign_id
      WHERE l.organization_id = $1 AND l.owner_id = $2 AND l.deleted_at IS NULL
        AND ($3::text IS NULL OR l.status = $3)
        AND ($4::bigint IS NULL OR c.seq = $4)
        AND ($5::text IS NULL OR l.phone LIKE $5)
      ORDER BY l.seq
      LIMIT $6 OFFSET $7`,
    [
      organizationId,
      ownerId,
      filters.status ?? null,
      filters.campaignSeq ?? null,
      filters.phoneContains === undefined ? null : containsPattern(filters.phoneContains),
      perPage,
      (page - 1) * perPage,
    ],
  );
}

export interface LeadEventRow {
  id: number;
  lead_id: string;
  actor_user_id: string | null;
  actor: string;
  kind: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  at: Date;
}

/** A page of the change log, oldest first, after the event id `after` (keyset on the index). */
export function listLeadEvents(
  db: Queryable,
  organizationId: string,
  leadId: string,
  page: { after: number; limit: number },
): Promise<LeadEventRow[]> {
  return db.query<LeadEventRow>(
    `SELECT id, lead_id, actor_user_id, actor, kind, changes, at FROM lead_events
      WHERE organization_id = $1 AND lead_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
    [organizationId, leadId, page.after, page.limit],
  );
}

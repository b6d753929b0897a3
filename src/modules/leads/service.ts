/**
 * Leads: the hub every surface (native API, Apten, Autocalls, Convocore dialects, intake,
 * follow-ups) goes through. Stable interface:
 *
 * - `createLead(ctx, actor, input: NewLead, options?)` → Lead. Duplicates: the dedupe key is
 *   the E.164 phone, else `email:` + lower-cased email; a partial unique index decides races
 *   → AppError 409 "Lead already exists" with `data: {id}` of the existing lead.
 *   `options.dedupeKey` overrides the key (a string, e.g. campaign-scoped, or null to allow
 *   duplicates).
 * - `getLead(ctx, actor, id)`, `findLeadBySeq(ctx, actor, seq)`, `findLeadByPhone(ctx,
 *   organizationId, phone)`, `findLeadByContact(ctx, organizationId, {phone?, email?})`.
 * - `updateLead(ctx, actor, id, patch: LeadPatch, options?: {expectedVersion?, system?,
 *   dedupeKey?, activityAt?})`: the one update every surface calls. It writes the row
 *   (version + 1), its event, the Stage Change / Handoff activities, the stage-history row
 *   and the recomputed heat in one statement, either at the version it read (uncontended)
 *   or in a locking transaction. `additionalInfo` is an RFC 7396 merge patch applied in
 *   SQL. A stale `expectedVersion` → 412. `system: true` lets the system set system
 *   statuses. `updateLeadWithin(ctx, tx, ...)` is the same inside a caller's transaction.
 * - `deleteLead(ctx, actor, id)` (soft), `listLeads(ctx, actor, filters, cursor, limit?)`.
 * - `listEvents(ctx, actor, leadId, {after?, limit?})`: a page of the change log, oldest first.
 * - `toLeadDto(lead)`: the native DTO (`_id`, camelCase).
 * - `phoneInE164(ctx, organizationId, phone)` (a phone as the organization reads it),
 *   `isEmailAddress`, `CONTACT_RULES` (the reasons a phone or email is refused).
 * - `CLIENT_STATUSES`, `SYSTEM_STATUSES`, `checkCustomFields`, `defaultDedupeKey`, and for writers
 *   that plan their own updates (intake) the update's rules: `movedDedupeKey` (a default
 *   key follows the contact), `changedFields` and `customFieldChanges` (the event's changes).
 *
 * `actor` is the request's Principal, or just `{organizationId}` for work the system does.
 */
import type { AppContext } from '../../context.ts';
import { isUniqueViolation, type Queryable } from '../../db/database.ts';
import { AppError, badRequest, invalidField, notFound, preconditionFailed, type FieldIssue } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import { toE164 } from '../../lib/phone.ts';
import type { Principal } from '../auth/service.ts';
import { STOPPED } from '../followups/schedule.ts';
import { findOrganization } from '../organizations/store.ts';
import { followUpColumns, newLeadFollowUpColumns } from './follow-up-patch.ts';
import { heatLabel, heatScore, newLeadHeat, stageProgress, type HotLabel } from './heat.ts';
import {
  existingReferences,
  findLead,
  findLeadByContactRow,
  findLeadByDedupeKey,
  findLeadBySeqRow,
  findStage,
  insertLead,
  listLeadEvents,
  listLeadRows,
  listOwnedLeadRows,
  readLeadForChange,
  recordLeadCreated,
  softDeleteLead,
  writeLeadUpdates,
  type LeadColumns,
  type LeadEventRow,
  type LeadFilters,
  type LeadRow,
  type LockedLeadRow,
  type OwnedLeadFilters,
  type ReferenceIds,
  type StageRef,
  type SystemActivity,
} from './store.ts';
import { leadWritesOf } from './write-batcher.ts';

export const LEAD_NOT_FOUND = 'Lead not found';
export const LEAD_EXISTS = 'Lead already exists';

/** Statuses a client may set. */
export const CLIENT_STATUSES = ['created', 'completed', 'reached-max-retries'] as const;
/** Statuses only the system assigns (dispatcher, carriers, opt-outs). */
export const SYSTEM_STATUSES = ['scheduled', 'processing', 'rescheduled', 'blacklisted', 'in-progress', 'failed'] as const;
export type LeadStatus = (typeof CLIENT_STATUSES)[number] | (typeof SYSTEM_STATUSES)[number];

export const ASSIGNMENT_STATUSES = ['pending', 'accepted', 'done'] as const;

export const CUSTOM_FIELD_LIMITS = { keys: 200, keyLength: 100, bytes: 65_536 } as const;

export type LeadActor = Pick<Principal, 'organizationId'> & Partial<Pick<Principal, 'userId' | 'email'>>;

export interface Assignment {
  userId: string;
  name: string | null;
  email: string | null;
  photoUrl: string | null;
  note: string | null;
  assignedAt: string;
  status: (typeof ASSIGNMENT_STATUSES)[number];
}

export interface Lead {
  id: string;
  seq: number;
  organizationId: string;
  ownerId: string | null;
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  source: string | null;
  status: string;
  pipelineId: string | null;
  stageId: string | null;
  stageName: string | null;
  agentId: string | null;
  campaignId: string | null;
  processId: string | null;
  configurationId: string | null;
  additionalInfo: Record<string, unknown>;
  assignedTo: Assignment | null;
  hotScore: number;
  hotLabel: HotLabel;
  lastActivityDate: Date | null;
  isAiOn: boolean;
  optedOut: boolean;
  hasReplied: boolean;
  convoId: string | null;
  followUpConfig: unknown;
  followUpStep: number | null;
  nextFollowUpAt: Date | null;
  followUpDeferredUntil: Date | null;
  useStrategiesForFollowUps: boolean;
  dedupeKey: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What a client may give for an assignment; the rest is filled in. */
export interface AssignmentInput {
  userId: string;
  name?: string | null;
  email?: string | null;
  photoUrl?: string | null;
  note?: string | null;
  assignedAt?: string | Date | number;
  status?: Assignment['status'];
}

/** Fields of a lead a surface may write. `stageId` takes a stage id or a stage name. */
export interface LeadFields {
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  timezone?: string | null;
  source?: string | null;
  status?: string;
  pipelineId?: string | null;
  stageId?: string | null;
  agentId?: string | null;
  campaignId?: string | null;
  processId?: string | null;
  configurationId?: string | null;
  assignedTo?: AssignmentInput | null;
  hotScore?: number;
  isAiOn?: boolean;
  optedOut?: boolean;
  hasReplied?: boolean;
  convoId?: string | null;
  lastActivityDate?: Date | string | number | null;
  followUpConfig?: unknown;
  followUpStep?: number | null;
  nextFollowUpAt?: Date | null;
  followUpDeferredUntil?: Date | null;
  useStrategiesForFollowUps?: boolean;
}

export interface NewLead extends LeadFields {
  additionalInfo?: Record<string, unknown>;
  ownerId?: string | null;
}

export interface LeadPatch extends LeadFields {
  /** RFC 7396 merge patch: null removes a key */
  additionalInfo?: Record<string, unknown>;
}

export interface CreateLeadOptions {
  /** 'reject' (default): a duplicate → 409. 'allow': no dedupe key at all. */
  dedupe?: 'reject' | 'allow';
  /** explicit dedupe key (e.g. campaign-scoped); null allows duplicates */
  dedupeKey?: string | null;
  /** statuses outside CLIENT_STATUSES are allowed (system callers) */
  system?: boolean;
  /** more to write about the new lead in its creating transaction: if it fails, no lead is created */
  alsoWrite?: (tx: Queryable, leadId: string) => Promise<unknown>;
  /**
   * the lead's stage (in place of `stageId`) when finding it may write, e.g. a dialect's
   * pipeline made on first use: found in the creating transaction, so a refused create keeps
   * none of it
   */
  stageWithin?: (tx: Queryable) => Promise<string>;
}

export interface UpdateLeadOptions {
  expectedVersion?: number;
  /** an activity happened at this time: lastActivityDate moves forward to it, never back */
  activityAt?: Date;
  system?: boolean;
  /** explicit dedupe key to store with a contact change (see CreateLeadOptions) */
  dedupeKey?: string | null;
  /** why the follow-ups stop, when this update stops them (each canceled touch says it) */
  stopReason?: string;
}

export function toLead(row: LeadRow): Lead {
  return {
    id: row.id,
    seq: row.seq,
    organizationId: row.organization_id,
    ownerId: row.owner_id,
    firstName: row.first_name,
    lastName: row.last_name,
    name: row.name,
    email: row.email,
    phone: row.phone,
    timezone: row.timezone,
    source: row.source,
    status: row.status,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    stageName: row.stage_name ?? null,
    agentId: row.agent_id,
    campaignId: row.campaign_id,
    processId: row.process_id,
    configurationId: row.configuration_id,
    additionalInfo: row.additional_info,
    assignedTo: row.assigned_to as Assignment | null,
    hotScore: row.hot_score,
    hotLabel: row.hot_label,
    lastActivityDate: row.last_activity_date,
    isAiOn: row.is_ai_on,
    optedOut: row.opted_out,
    hasReplied: row.has_replied,
    convoId: row.convo_id,
    followUpConfig: row.follow_up_config,
    followUpStep: row.follow_up_step,
    nextFollowUpAt: row.next_follow_up_at,
    followUpDeferredUntil: row.follow_up_deferred_until,
    useStrategiesForFollowUps: row.use_strategies_for_follow_ups,
    dedupeKey: row.dedupe_key,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The native DTO: the domain lead with Tether's `_id`; the internal dedupe key stays inside. */
export function toLeadDto(lead: Lead) {
  const { id, dedupeKey: _dedupeKey, ...rest } = lead;
  return { _id: id, ...rest };
}

const actorOf = (actor: LeadActor) => ({ userId: actor.userId ?? null, label: actor.email ?? (actor.userId ? `user:${actor.userId}` : 'system') });

export const defaultDedupeKey = (phone: string | null | undefined, email: string | null | undefined): string | null =>
  phone ? phone : email ? `email:${email.toLowerCase()}` : null;

/** A key that judges duplicates within one campaign (Autocalls); null lets a lead share its number. */
export const campaignDedupeKey = (campaignId: string, phone: string) => `campaign:${campaignId}:${phone}`;
const campaignOfDedupeKey = (key: string | null) => (key?.startsWith('campaign:') ? key.split(':')[1] : undefined);

/**
 * The key a lead holds once its phone, email and campaign are `after` (a campaign left
 * undefined is unchanged): a default key follows the phone and email, a campaign-scoped one
 * the campaign and phone (the default key once either is gone: a lead in no campaign is
 * judged as every other), and no key (allowed duplicates) stays none (undefined: unchanged). Derived from the row as it is, so concurrent changes of the
 * campaign and the phone still leave the key both describe.
 */
export function movedDedupeKey(
  before: { dedupe_key: string | null; phone: string | null; email: string | null },
  after: { phone: string | null; email: string | null; campaign_id?: string | null },
): string | null | undefined {
  if (before.dedupe_key === defaultDedupeKey(before.phone, before.email)) return defaultDedupeKey(after.phone, after.email);
  const scopedTo = campaignOfDedupeKey(before.dedupe_key);
  if (scopedTo === undefined) return undefined;
  const campaignId = after.campaign_id !== undefined ? after.campaign_id : scopedTo;
  return campaignId && after.phone ? campaignDedupeKey(campaignId, after.phone) : defaultDedupeKey(after.phone, after.email);
}

// ---------------------------------------------------------------- validation

// no characters that separate or quote addresses in a header (`a@x.com,b@y.com`, `<b@y.com>`):
// the address the lead row holds is the one mail goes to, and replies are matched against
const EMAIL_PATTERN = /^[^\s@,;:<>()[\]\\"]+@[^\s@,;:<>()[\]\\"]+\.[^\s@,;:<>()[\]\\"]+$/;
/** RFC 5321's longest local part (64) and domain (255) with the @; the native schema's cap too */
const MAX_EMAIL_LENGTH = 320;

export function isEmailAddress(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(value);
}

/** Why a phone or an email is refused, whichever way the lead's contact arrives. */
export const CONTACT_RULES = { phone: 'is not a valid phone number', email: 'must be a valid email address' } as const;

/**
 * The number in E.164 as the organization reads it (its default country), or undefined.
 * `db` is the caller's transaction when there is one.
 */
export async function phoneInE164(ctx: AppContext, organizationId: string, phone: string, db: Queryable = ctx.db): Promise<string | undefined> {
  const organization = await findOrganization(db, organizationId);
  return toE164(phone, organization?.default_country ?? ctx.config.defaultCountry);
}

function isTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name.length > 0;
  } catch {
    return false;
  }
}

function toDate(value: Date | string | number, field: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidField(field, 'must be a date');
  return date;
}

/** Bounds of a custom-fields object or merge patch given by a client. */
export function checkCustomFields(fields: Record<string, unknown>, field = 'additionalInfo'): void {
  const keys = Object.keys(fields);
  if (keys.length > CUSTOM_FIELD_LIMITS.keys) throw invalidField(field, `may have at most ${CUSTOM_FIELD_LIMITS.keys} keys`);
  const longKey = keys.find((key) => key.length > CUSTOM_FIELD_LIMITS.keyLength);
  if (longKey !== undefined) throw invalidField(field, `keys may be at most ${CUSTOM_FIELD_LIMITS.keyLength} characters ("${longKey.slice(0, 20)}…" is longer)`);
  if (Buffer.byteLength(JSON.stringify(fields)) > CUSTOM_FIELD_LIMITS.bytes) {
    throw invalidField(field, `may be at most ${CUSTOM_FIELD_LIMITS.bytes} bytes of JSON`);
  }
}

export function checkStatus(status: string, system: boolean): void {
  if ((CLIENT_STATUSES as readonly string[]).includes(status)) return;
  if ((SYSTEM_STATUSES as readonly string[]).includes(status)) {
    if (system) return;
    throw invalidField('status', 'is assigned automatically and cannot be set manually');
  }
  throw invalidField('status', `must be one of: ${CLIENT_STATUSES.join(', ')}`);
}

/**
 * The assignment as stored: name and email are the client's (seed 004 has them as fields
 * of the assignment), not read from the user; checkReferences proves only that `userId`
 * is a user of the organization.
 */
function normaliseAssignment(input: AssignmentInput, now: Date): Assignment {
  return {
    userId: input.userId,
    name: input.name ?? null,
    email: input.email ?? null,
    photoUrl: input.photoUrl ?? null,
    note: input.note ?? null,
    assignedAt: (input.assignedAt === undefined ? now : toDate(input.assignedAt, 'assignedTo.assignedAt')).toISOString(),
    status: input.status ?? 'pending',
  };
}

async function checkReferences(db: Queryable, organizationId: string, fields: LeadFields): Promise<void> {
  const ids: ReferenceIds = {
    agentId: fields.agentId,
    campaignId: fields.campaignId,
    processId: fields.processId,
    configurationId: fields.configurationId,
    pipelineId: fields.pipelineId,
    'assignedTo.userId': fields.assignedTo?.userId,
  };
  const given = (Object.keys(ids) as (keyof ReferenceIds)[]).filter((key) => ids[key] !== undefined && ids[key] !== null);
  if (given.length === 0) return;
  const malformed = given.filter((key) => !isId(ids[key]));
  const exists = malformed.length === given.length ? undefined : await existingReferences(db, organizationId, ids);
  const missing: FieldIssue[] = given
    .filter((key) => !exists?.[key])
    .map((key) => ({ field: key, message: `${key} does not exist` }));
  if (missing.length > 0) throw badRequest(missing.map((m) => m.message).join('; '), missing);
}

/**
 * The column values for the plain fields of a create or patch, validated and normalised
 * (phone to E.164, email trimmed, timezone checked, status rules, assignment filled in).
 */
async function columnsFor(
  ctx: AppContext,
  db: Queryable,
  organizationId: string,
  fields: LeadFields,
  system: boolean,
): Promise<LeadColumns> {
  const columns: LeadColumns = {};
  const issues: FieldIssue[] = [];
  const fail = (error: AppError) => issues.push(...error.issues);

  if (fields.phone !== undefined) {
    if (fields.phone === null || fields.phone.trim() === '') columns.phone = null;
    else {
      const phone = await phoneInE164(ctx, organizationId, fields.phone, db);
      if (phone === undefined) fail(invalidField('phone', CONTACT_RULES.phone));
      columns.phone = phone ?? null;
    }
  }
  if (fields.email !== undefined) {
    const email = fields.email?.trim() || null;
    if (email !== null && !isEmailAddress(email)) fail(invalidField('email', CONTACT_RULES.email));
    columns.email = email;
  }
  if (fields.timezone !== undefined) {
    if (fields.timezone !== null && !isTimezone(fields.timezone)) fail(invalidField('timezone', 'must be an IANA time zone name such as America/New_York'));
    columns.timezone = fields.timezone;
  }
  if (fields.status !== undefined) {
    try {
      checkStatus(fields.status, system);
    } catch (error) {
      fail(error as AppError);
    }
    columns.status = fields.status;
  }
  if (fields.hotScore !== undefined) {
    if (!Number.isFinite(fields.hotScore) || fields.hotScore < 0 || fields.hotScore > 100) fail(invalidField('hotScore', 'must be between 0 and 100'));
    columns.hot_score = Math.round(fields.hotScore);
    columns.hot_label = heatLabel(columns.hot_score);
  }
  if (fields.lastActivityDate !== undefined) {
    try {
      columns.last_activity_date = fields.lastActivityDate === null ? null : toDate(fields.lastActivityDate, 'lastActivityDate');
    } catch (error) {
      fail(error as AppError);
    }
  }
  if (fields.assignedTo !== undefined) {
    try {
      columns.assigned_to = fields.assignedTo === null ? null : (normaliseAssignment(fields.assignedTo, ctx.clock.now()) as unknown as Record<string, unknown>);
    } catch (error) {
      fail(error as AppError);
    }
  }
  if (issues.length > 0) throw badRequest(issues.map((i) => i.message).join('; '), issues);

  const direct: [keyof LeadFields, keyof LeadColumns][] = [
    ['firstName', 'first_name'],
    ['lastName', 'last_name'],
    ['name', 'name'],
    ['source', 'source'],
    ['agentId', 'agent_id'],
    ['campaignId', 'campaign_id'],
    ['processId', 'process_id'],
    ['configurationId', 'configuration_id'],
    ['isAiOn', 'is_ai_on'],
    ['optedOut', 'opted_out'],
    ['hasReplied', 'has_replied'],
    ['convoId', 'convo_id'],
    ['followUpConfig', 'follow_up_config'],
    ['followUpStep', 'follow_up_step'],
    ['nextFollowUpAt', 'next_follow_up_at'],
    ['followUpDeferredUntil', 'follow_up_deferred_until'],
    ['useStrategiesForFollowUps', 'use_strategies_for_follow_ups'],
  ];
  for (const [field, name] of direct) {
    if (fields[field] !== undefined) (columns as Record<string, unknown>)[name] = fields[field];
  }
  await checkReferences(db, organizationId, fields);
  return columns;
}

const displayName = (first: string | null | undefined, last: string | null | undefined) =>
  [first, last].filter((part) => part && part.trim()).join(' ') || null;

/** The resolved stage, or the 400 that says which reference did not resolve. */
function checkStage(stage: StageRef | null | undefined, move: { stage: string | null; pipelineId: string | null }): StageRef {
  if (!stage) throw invalidField(move.stage === null ? 'pipelineId' : 'stageId', move.stage === null ? 'has no stages' : 'does not exist');
  if (move.pipelineId !== null && stage.pipeline_id !== move.pipelineId) throw invalidField('stageId', 'does not belong to pipelineId');
  return stage;
}

/** 409 with the id of the live lead that already holds the key. */
async function duplicateError(db: Queryable, organizationId: string, dedupeKey: string): Promise<AppError> {
  const existing = await findLeadByDedupeKey(db, organizationId, dedupeKey);
  return new AppError(409, 'CONFLICT', LEAD_EXISTS, [], { id: existing?.id ?? null });
}

export function customFieldsBoundsError(error: unknown): AppError | undefined {
  const pgError = error as { code?: string; constraint?: string };
  if (pgError?.code === '23514' && pgError.constraint === 'leads_additional_info_bounds') {
    return invalidField('additionalInfo', `may have at most ${CUSTOM_FIELD_LIMITS.keys} keys and ${CUSTOM_FIELD_LIMITS.bytes} bytes of JSON`);
  }
  return undefined;
}

// ---------------------------------------------------------------- create / read

export async function createLead(ctx: AppContext, actor: LeadActor, input: NewLead, options: CreateLeadOptions = {}): Promise<Lead> {
  const organizationId = actor.organizationId;
  const now = ctx.clock.now();
  const columns = {
    ...(await columnsFor(ctx, ctx.db, organizationId, input, options.system ?? false)),
    ...(options.system ? {} : await newLeadFollowUpColumns(ctx.db, organizationId, input, now)),
  };
  if (input.additionalInfo !== undefined) checkCustomFields(input.additionalInfo);
  const move = { stage: input.stageId ?? null, pipelineId: input.pipelineId ?? null };
  const stageWithin = options.stageWithin ?? (async () => move.stage);
  const dedupeKey =
    options.dedupeKey !== undefined ? options.dedupeKey : options.dedupe === 'allow' ? null : defaultDedupeKey(columns.phone, columns.email);
  try {
    return toLead(
      await ctx.db.transaction(async (tx) => {
        const stage = checkStage(await findStage(tx, organizationId, await stageWithin(tx), move.pipelineId), move);
        const hotScore =
          columns.hot_score ?? newLeadHeat(stage, { replied: input.hasReplied ?? false, lastActivityAt: columns.last_activity_date ?? null }, now);
        const lead = await insertLead(tx, {
          id: newId(now),
          organizationId,
          now,
          stageName: stage.name,
          ...columns,
          name: columns.name ?? displayName(columns.first_name, columns.last_name),
          owner_id: input.ownerId ?? actor.userId ?? null,
          pipeline_id: stage.pipeline_id,
          stage_id: stage.id,
          additional_info: input.additionalInfo ?? {},
          hot_score: hotScore,
          hot_label: heatLabel(hotScore),
          dedupe_key: dedupeKey,
        });
        await recordLeadCreated(tx, lead, actorOf(actor), newId(now), lead.source);
        await options.alsoWrite?.(tx, lead.id);
        return lead;
      }),
    );
  } catch (error) {
    if (isUniqueViolation(error, 'leads_dedupe_key') && dedupeKey) throw await duplicateError(ctx.db, organizationId, dedupeKey);
    throw customFieldsBoundsError(error) ?? error;
  }
}

export async function getLead(ctx: AppContext, actor: LeadActor, id: string): Promise<Lead> {
  const row = isId(id) ? await findLead(ctx.db, actor.organizationId, id) : undefined;
  if (!row) throw notFound(LEAD_NOT_FOUND);
  return toLead(row);
}

/** The lead with this integer id (Autocalls), or a 404. */
export async function findLeadBySeq(ctx: AppContext, actor: LeadActor, seq: number): Promise<Lead> {
  const row = Number.isSafeInteger(seq) && seq > 0 ? await findLeadBySeqRow(ctx.db, actor.organizationId, seq) : undefined;
  if (!row) throw notFound(LEAD_NOT_FOUND);
  return toLead(row);
}

/** The live lead with this phone (any format the organization's default country reads), if any. */
export async function findLeadByPhone(ctx: AppContext, organizationId: string, phone: string): Promise<Lead | undefined> {
  return findLeadByContact(ctx, organizationId, { phone });
}

/** Dedupe lookup: the live lead with this phone, else (no phone given) with this email. */
export async function findLeadByContact(
  ctx: AppContext,
  organizationId: string,
  contact: { phone?: string | null; email?: string | null },
): Promise<Lead | undefined> {
  let phone: string | null = null;
  if (contact.phone) {
    phone = (await phoneInE164(ctx, organizationId, contact.phone)) ?? null;
    if (phone === null && !contact.email) return undefined;
  }
  if (phone === null && !contact.email) return undefined;
  const row = await findLeadByContactRow(ctx.db, organizationId, { phone, email: contact.email });
  return row && toLead(row);
}

// ---------------------------------------------------------------- update

const FIELD_OF_COLUMN: Record<string, string> = {
  first_name: 'firstName',
  last_name: 'lastName',
  name: 'name',
  email: 'email',
  phone: 'phone',
  timezone: 'timezone',
  source: 'source',
  status: 'status',
  pipeline_id: 'pipelineId',
  stage_id: 'stageId',
  agent_id: 'agentId',
  campaign_id: 'campaignId',
  process_id: 'processId',
  configuration_id: 'configurationId',
  assigned_to: 'assignedTo',
  hot_score: 'hotScore',
  hot_label: 'hotLabel',
  last_activity_date: 'lastActivityDate',
  is_ai_on: 'isAiOn',
  opted_out: 'optedOut',
  has_replied: 'hasReplied',
  convo_id: 'convoId',
  follow_up_config: 'followUpConfig',
  follow_up_step: 'followUpStep',
  next_follow_up_at: 'nextFollowUpAt',
  follow_up_deferred_until: 'followUpDeferredUntil',
  use_strategies_for_follow_ups: 'useStrategiesForFollowUps',
  dedupe_key: 'dedupeKey',
};

const comparable = (value: unknown) => (value instanceof Date ? value.toISOString() : JSON.stringify(value ?? null));

/** The columns whose value actually changes, as the event's {field: {from, to}}. */
export function changedFields(before: Partial<LeadRow>, columns: LeadColumns): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const [name, value] of Object.entries(columns)) {
    if (value === undefined) continue;
    const old = (before as unknown as Record<string, unknown>)[name];
    if (comparable(old) !== comparable(value)) changes[FIELD_OF_COLUMN[name] ?? name] = { from: old ?? null, to: value };
  }
  return changes;
}

/** The additionalInfo part of the event: old and new values of the keys the patch touches. */
export function customFieldChanges(before: Record<string, unknown>, patch: Record<string, unknown>) {
  const from: Record<string, unknown> = Object.create(null);
  const to: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(patch)) {
    from[key] = Object.hasOwn(before, key) ? before[key] : null;
    to[key] = patch[key];
  }
  return { from: { ...from }, to: { ...to } };
}

export async function updateLead(
  ctx: AppContext,
  actor: LeadActor,
  id: string,
  patch: LeadPatch,
  options: UpdateLeadOptions = {},
): Promise<Lead> {
  if (!isId(id)) throw notFound(LEAD_NOT_FOUND);
  // First without a transaction: read, plan, and write only if the row is still at the
  // version read, which is two statements and no BEGIN/COMMIT. A concurrent change in
  // between, or a contact change (whose 409 needs a savepoint), takes the locking
  // transaction instead.
  const unlocked = await changeLead(ctx, ctx.db, actor, id, patch, options, false);
  return unlocked ?? ctx.db.transaction((tx) => updateLeadWithin(ctx, tx, actor, id, patch, options));
}

/**
 * updateLead inside a transaction the caller already holds (e.g. activities, which add a
 * row and then let the lead recompute its heat in the same transaction).
 */
export async function updateLeadWithin(
  ctx: AppContext,
  tx: Queryable,
  actor: LeadActor,
  id: string,
  patch: LeadPatch,
  options: UpdateLeadOptions = {},
): Promise<Lead> {
  return (await changeLead(ctx, tx, actor, id, patch, options, true))!;
}

/**
 * One update: with `locked`, on a row locked in the caller's transaction; without, planned
 * on a plain read and written only if the version is unchanged, answering undefined (and
 * writing nothing) when it changed or when the write needs the locked path.
 */
async function changeLead(
  ctx: AppContext,
  db: Queryable,
  actor: LeadActor,
  id: string,
  patch: LeadPatch,
  options: UpdateLeadOptions,
  locked: boolean,
): Promise<Lead | undefined> {
  const organizationId = actor.organizationId;
  const now = ctx.clock.now();
  const columns = await columnsFor(ctx, db, organizationId, patch, options.system ?? false);
  if (patch.additionalInfo !== undefined) checkCustomFields(patch.additionalInfo);
  const move = { stage: patch.stageId ?? null, pipelineId: patch.pipelineId ?? null };
  const before = isId(id) ? await readLeadForChange(db, organizationId, id, move, locked) : undefined;
  if (!before) throw notFound(LEAD_NOT_FOUND);
  if (options.expectedVersion !== undefined && options.expectedVersion !== before.version) {
    throw preconditionFailed(`Lead has changed (version ${before.version}, expected ${options.expectedVersion})`);
  }
  const stage = move.stage !== null || move.pipelineId !== null ? checkStage(before.target_stage, move) : undefined;
  // the follow-up rules judge client updates; the system (dispatcher) writes its own schedule
  const followUp = options.system ? {} : await followUpColumns(db, organizationId, before, patch, now);
  const write = planUpdate(before, { ...columns, ...followUp }, stage, patch, options, now, actor);
  const dedupeKey = write.columns.dedupe_key;
  if (!locked && dedupeKey) return undefined;
  const leadWrite = { ...write, organizationId, id, now, actor: actorOf(actor), atVersion: locked ? undefined : before.version };
  // in a transaction the write is the transaction's; otherwise it may share a statement with other requests' writes
  const apply = async () => (locked ? (await writeLeadUpdates(db, [leadWrite]))[0] : leadWritesOf(db).submit(leadWrite));
  try {
    const row = dedupeKey ? await withDuplicateCheck(db, organizationId, dedupeKey, apply) : await apply();
    return row && toLead(row);
  } catch (error) {
    throw customFieldsBoundsError(error) ?? error;
  }
}

/**
 * Runs a write that may collide on the dedupe index inside a savepoint, so a collision can
 * still read which lead holds the key in the same transaction and answer 409 with its id.
 */
async function withDuplicateCheck<T>(tx: Queryable, organizationId: string, dedupeKey: string, write: () => Promise<T>): Promise<T> {
  await tx.query('SAVEPOINT lead_dedupe');
  try {
    const result = await write();
    await tx.query('RELEASE SAVEPOINT lead_dedupe');
    return result;
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT lead_dedupe');
    if (isUniqueViolation(error, 'leads_dedupe_key')) throw await duplicateError(tx, organizationId, dedupeKey);
    throw error;
  }
}

/** Everything an update writes besides the row's identity: columns, event, activities, heat. */
function planUpdate(
  before: LockedLeadRow,
  given: LeadColumns,
  stage: StageRef | undefined,
  patch: LeadPatch,
  options: UpdateLeadOptions,
  now: Date,
  actor: LeadActor,
) {
  const columns: LeadColumns = { ...given };
  if (columns.agent_id !== undefined && before.agent_id !== null && columns.agent_id !== before.agent_id) {
    throw invalidField('agentId', 'cannot be changed once set; create a new lead instead');
  }
  if (patch.name === undefined && (columns.first_name !== undefined || columns.last_name !== undefined)) {
    const derivedBefore = displayName(before.first_name, before.last_name);
    if (before.name === null || before.name === derivedBefore) {
      columns.name = displayName(columns.first_name ?? before.first_name, columns.last_name ?? before.last_name);
    }
  }
  if (stage) {
    columns.stage_id = stage.id;
    columns.pipeline_id = stage.pipeline_id;
  } else if (patch.stageId === null) {
    throw invalidField('stageId', 'cannot be removed; move the lead to another stage');
  }
  if (columns.phone !== undefined || columns.email !== undefined || columns.campaign_id !== undefined) {
    const phone = columns.phone !== undefined ? columns.phone : before.phone;
    const email = columns.email !== undefined ? columns.email : before.email;
    const dedupeKey = options.dedupeKey !== undefined ? options.dedupeKey : movedDedupeKey(before, { phone, email, campaign_id: columns.campaign_id });
    if (dedupeKey !== undefined) columns.dedupe_key = dedupeKey;
  }

  if (options.activityAt && columns.last_activity_date === undefined && (!before.last_activity_date || options.activityAt > before.last_activity_date)) {
    columns.last_activity_date = options.activityAt;
  }

  const activities: SystemActivity[] = [];
  const stageChanged = stage !== undefined && stage.id !== before.stage_id;
  if (stageChanged) {
    activities.push({
      id: newId(now),
      type: 'Stage Change',
      title: `Stage changed from ${before.stage_name ?? 'none'} to ${stage.name}`,
      metadata: { fromStageId: before.stage_id, fromStage: before.stage_name, toStageId: stage.id, toStage: stage.name, by: actorOf(actor).label },
    });
  }
  const assignee = columns.assigned_to as Assignment | null | undefined;
  const previousAssignee = before.assigned_to as Assignment | null;
  if (assignee !== undefined && (assignee?.userId ?? null) !== (previousAssignee?.userId ?? null)) {
    activities.push({
      id: newId(now),
      type: 'Handoff',
      title: assignee ? `Assigned to ${assignee.name ?? assignee.userId}` : 'Unassigned',
      metadata: { from: previousAssignee, to: assignee, note: assignee?.note ?? null, by: actorOf(actor).label },
    });
  }

  // The score follows engagement: it is recomputed when an input changes (the stage, the
  // last activity, a reply, an activity written), so a score a client set stays until then.
  const engagementChanged =
    stageChanged ||
    options.activityAt !== undefined ||
    (columns.last_activity_date !== undefined && comparable(columns.last_activity_date) !== comparable(before.last_activity_date)) ||
    (columns.has_replied !== undefined && columns.has_replied !== before.has_replied);
  if (columns.hot_score === undefined && engagementChanged) {
    const score = heatScore({
      replies: Math.max(before.replies, (columns.has_replied ?? before.has_replied) ? 1 : 0),
      lastActivityAt: columns.last_activity_date !== undefined ? columns.last_activity_date : before.last_activity_date,
      now,
      stageProgress: stage
        ? stageProgress(stage)
        : stageProgress(before.stage_name === null ? null : { name: before.stage_name, position: before.stage_position ?? 0, count: before.stage_count ?? 0 }),
      completedMeetings: before.completed_meetings,
    });
    columns.hot_score = score;
    columns.hot_label = heatLabel(score);
  }

  const changes = changedFields(before, columns);
  if (patch.additionalInfo !== undefined) changes.additionalInfo = customFieldChanges(before.additional_info, patch.additionalInfo);
  return {
    columns,
    additionalInfoPatch: patch.additionalInfo,
    changes,
    activities,
    stageChange: stageChanged ? { fromStageId: before.stage_id, toStageId: stage.id, source: columns.source ?? before.source } : undefined,
    stopsFollowUps: columns.follow_up_step === STOPPED && before.follow_up_step !== STOPPED ? (options.stopReason ?? 'the follow-ups were stopped') : undefined,
  };
}

// ---------------------------------------------------------------- delete / list

export async function deleteLead(ctx: AppContext, actor: LeadActor, id: string): Promise<void> {
  const deleted = isId(id) && (await softDeleteLead(ctx.db, actor.organizationId, id, ctx.clock.now(), actorOf(actor)));
  if (!deleted) throw notFound(LEAD_NOT_FOUND);
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface LeadPage {
  leads: Lead[];
  /** opaque; pass it back as `cursor` for the next page; null on the last page */
  nextCursor: string | null;
}

function encodeCursor(lead: Lead): string {
  return Buffer.from(JSON.stringify([lead.createdAt.toISOString(), lead.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (typeof createdAt === 'string' && !Number.isNaN(date.getTime()) && isId(id)) return { createdAt: date, id };
  } catch {
    // falls through to the 400
  }
  throw invalidField('cursor', 'is not a cursor this API returned');
}

/** One page of live leads, newest first, keyset-paginated over (createdAt, id). */
export async function listLeads(
  ctx: AppContext,
  actor: LeadActor,
  filters: LeadFilters,
  cursor?: string,
  limit = DEFAULT_PAGE_SIZE,
): Promise<LeadPage> {
  const size = Math.min(Math.max(1, Math.floor(limit)), MAX_PAGE_SIZE);
  const rows = await listLeadRows(ctx.db, actor.organizationId, filters, cursor ? decodeCursor(cursor) : undefined, size + 1);
  const leads = rows.slice(0, size).map(toLead);
  return { leads, nextCursor: rows.length > size ? encodeCursor(leads[leads.length - 1]) : null };
}

export interface OwnedLeadPage {
  leads: Array<{ lead: Lead; campaignSeq: number | null }>;
  total: number;
}

/**
 * A numbered page of the principal's own live leads, oldest first, each with its
 * campaign's integer id, and how many leads the filters match in all.
 */
export async function listOwnedLeads(
  ctx: AppContext,
  principal: Pick<Principal, 'organizationId' | 'userId'>,
  filters: OwnedLeadFilters,
  page: number,
  perPage: number,
): Promise<OwnedLeadPage> {
  const list = (at: number, size: number) => listOwnedLeadRows(ctx.db, principal.organizationId, principal.userId, filters, at, size);
  const rows = await list(page, perPage);
  // a page past the end has no row to carry the total: page one's first row does
  const counted = rows.length > 0 || page === 1 ? rows : await list(1, 1);
  return {
    leads: rows.map((row) => ({ lead: toLead(row), campaignSeq: row.campaign_seq === null ? null : Number(row.campaign_seq) })),
    total: counted.length === 0 ? 0 : Number(counted[0].total),
  };
}

/** The lead's change log, oldest first. */
export async function listEvents(
  ctx: AppContext,
  actor: LeadActor,
  leadId: string,
  page: { after?: number; limit?: number } = {},
): Promise<LeadEventRow[]> {
  await getLead(ctx, actor, leadId);
  return listLeadEvents(ctx.db, actor.organizationId, leadId, { after: page.after ?? 0, limit: page.limit ?? 100 });
}

export function toEventDto(row: LeadEventRow) {
  return { id: row.id, leadId: row.lead_id, actor: row.actor, actorUserId: row.actor_user_id, kind: row.kind, changes: row.changes, at: row.at };
}

export type { LeadFilters, OwnedLeadFilters };

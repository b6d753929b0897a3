import type { AppContext } from '../../context.ts';
import { isTransientConflict, isUniqueViolation } from '../../db/database.ts';
import { AppError, badRequest, conflict, invalidField, nulCharacterRefusal } from '../../http/errors.ts';
import { newId } from '../../lib/ids.ts';
import { toE164 } from '../../lib/phone.ts';
import { renderTemplate, type TemplateLead } from '../../lib/template.ts';
import { composeMessage } from '../ai/composer.ts';
import { conversationOf } from '../ai/conversation.ts';
import { sendOrHold, type OutgoingMessage } from '../approvals/service.ts';
import { dueAt, firstStep, resolveCadence, type FollowUpConfig } from '../followups/schedule.ts';
import type { RoutingConfiguration } from '../lead-management/service.ts';
import { heatLabel, newLeadHeat } from '../leads/heat.ts';
import {
  CONTACT_RULES,
  CUSTOM_FIELD_LIMITS,
  changedFields,
  checkCustomFields,
  customFieldChanges,
  customFieldsBoundsError,
  defaultDedupeKey,
  isEmailAddress,
  movedDedupeKey,
} from '../leads/service.ts';
import { applyLeadUpdates, findStage, type LeadWrite, type StageRef } from '../leads/store.ts';
import { findOrganization, type OrganizationRow } from '../organizations/store.ts';
import { findPrompt } from '../prompts/store.ts';
import { insertApplications, type ApplicationRecord } from '../applications/store.ts';
import { holdsNul, type IncomingContact } from './contact.ts';
import {
  customFieldsPastBounds,
  deleteTraces,
  findLeadsByContacts,
  insertIntakes,
  insertLeads,
  insertTimeline,
  lockLeadsForRefresh,
  recordLeadsCreated,
  type ExistingLead,
  type NewLeadRecord,
  type RefreshedLead,
  type TimelineRecord,
} from './store.ts';

export type IntakeOrigin = 'webhook' | 'email' | 'import';

export interface RoutingResult {
  lead: { id: string; convo_id: string | null };
  created: boolean;
  contacted: boolean;
  applicationId: string | null;
  approvalId: string | null;
  messageId: string | null;
}

/** One input of a batch: its routing result, or why it was refused. */
export type RowOutcome = { ok: true; result: RoutingResult } | { ok: false; error: AppError };

/** What the first message falls back to when the configuration has no starter message and the model is not asked or fails. */
export const DEFAULT_FIRST_TOUCH = 'Hi {{firstName}}, thanks for your interest! When would be a good time to talk?';

/** The custom fields would take the lead past what the leads table keeps (an existing lead's own fields count). */
const pastBoundsError = () =>
  invalidField('customFields', `may have at most ${CUSTOM_FIELD_LIMITS.keys} keys and ${CUSTOM_FIELD_LIMITS.bytes} bytes of JSON, counting those the lead already has`);

interface CleanContact {
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  customFields: Record<string, unknown>;
}

/**
 * Phone to E.164 and email checked, and no NUL character (PostgreSQL stores none: refused
 * here, the row alone is refused, not the batch it would be written with). A lead from an
 * email is never refused for a bad value (the sender cannot fix it): the raw value is kept
 * as a custom field instead.
 */
function cleanContact(contact: IncomingContact, organization: OrganizationRow, lenient: boolean): CleanContact {
  if (holdsNul(contact)) throw nulCharacterRefusal();
  const customFields = { ...contact.customFields };
  const keepOrRefuse = (field: 'phone' | 'email', value: string) => {
    const message = `${field} ${CONTACT_RULES[field]}`;
    if (!lenient) throw badRequest(message, [{ field, message }]);
    customFields[field] = value;
    return null;
  };
  const phone = contact.phone ? (toE164(contact.phone, organization.default_country) ?? keepOrRefuse('phone', contact.phone)) : null;
  const email = contact.email ? (isEmailAddress(contact.email) ? contact.email : keepOrRefuse('email', contact.email)) : null;
  if (!phone && !email) throw badRequest('A phone number or an email address is required', [{ field: 'phone', message: 'phone or email is required' }]);
  checkCustomFields(customFields, 'customFields');
  return { firstName: contact.firstName ?? null, lastName: contact.lastName ?? null, name: contact.name ?? null, email, phone, customFields };
}

/** One person of the batch: the rows that name them (same phone, or same email) folded into one contact. */
interface Person {
  rows: number[];
  contact: CleanContact;
  existing?: ExistingLead;
}

function fold(into: CleanContact, next: CleanContact): void {
  into.firstName ??= next.firstName;
  into.lastName ??= next.lastName;
  into.name ??= next.name;
  into.email ??= next.email;
  into.phone ??= next.phone;
  Object.assign(into.customFields, next.customFields);
}

/**
 * Groups the batch by person and finds who is already a lead, in one query. A row is matched
 * by its phone (a lead with it, else an earlier row with it), then by its email the same
 * way: the order a lead sent alone is matched in, so a row whose phone is a lead's joins that
 * lead even when its email also appears on another row of the batch.
 */
async function people(ctx: AppContext, organizationId: string, contacts: Array<{ row: number; contact: CleanContact }>): Promise<Person[]> {
  const lower = (email: string | null) => email?.toLowerCase();
  const phones = [...new Set(contacts.flatMap(({ contact }) => (contact.phone ? [contact.phone] : [])))];
  const emails = [...new Set(contacts.flatMap(({ contact }) => (contact.email ? [lower(contact.email)!] : [])))];
  const existing = await findLeadsByContacts(ctx.db, organizationId, phones, emails);
  const leadByPhone = new Map(existing.filter((l) => l.phone).map((l) => [l.phone!, l]));
  const leadByEmail = new Map<string, ExistingLead>();
  for (const lead of existing) if (lead.email && !leadByEmail.has(lead.email.toLowerCase())) leadByEmail.set(lead.email.toLowerCase(), lead);

  const all: Person[] = [];
  const byLead = new Map<string, Person>();
  const byPhone = new Map<string, Person>();
  const byEmail = new Map<string, Person>();
  const personOf = (lead: ExistingLead | undefined) => {
    if (!lead) return undefined;
    let person = byLead.get(lead.id);
    if (!person) {
      person = { rows: [], contact: { firstName: null, lastName: null, name: null, email: null, phone: null, customFields: {} }, existing: lead };
      byLead.set(lead.id, person);
      all.push(person);
    }
    return person;
  };
  for (const { row, contact } of contacts) {
    const email = lower(contact.email);
    let person =
      (contact.phone ? (personOf(leadByPhone.get(contact.phone)) ?? byPhone.get(contact.phone)) : undefined) ??
      (email ? (personOf(leadByEmail.get(email)) ?? byEmail.get(email)) : undefined);
    if (!person) {
      person = { rows: [], contact: { firstName: null, lastName: null, name: null, email: null, phone: null, customFields: {} } };
      all.push(person);
    }
    person.rows.push(row);
    fold(person.contact, contact);
    if (contact.phone && !byPhone.has(contact.phone)) byPhone.set(contact.phone, person);
    if (email && !byEmail.has(email)) byEmail.set(email, person);
  }
  return all;
}

/** The persons (by index) whose custom fields would take their lead past the leads table's bounds. */
function pastBounds(ctx: AppContext, organizationId: string, persons: Person[]): Promise<Set<number>> {
  return customFieldsPastBounds(
    ctx.db,
    organizationId,
    persons.flatMap((person, i) =>
      Object.keys(person.contact.customFields).length === 0 ? [] : [{ person: i, leadId: person.existing?.id ?? null, fields: person.contact.customFields }],
    ),
  );
}

async function organizationOf(ctx: AppContext, configuration: RoutingConfiguration): Promise<OrganizationRow> {
  const organization = await findOrganization(ctx.db, configuration.organizationId);
  if (!organization) throw new Error(`organization ${configuration.organizationId} of configuration ${configuration.id} is missing`);
  return organization;
}

async function entryStageOf(ctx: AppContext, configuration: RoutingConfiguration): Promise<StageRef> {
  const stage = await findStage(ctx.db, configuration.organizationId, configuration.entryStageId, configuration.pipelineId);
  if (!stage) throw new Error(`entry stage ${configuration.entryStageId} of configuration ${configuration.id} is missing`);
  return stage;
}

function templateLead(contact: CleanContact, existing: ExistingLead | undefined): TemplateLead {
  return {
    first_name: contact.firstName ?? existing?.first_name ?? null,
    last_name: contact.lastName ?? existing?.last_name ?? null,
    name: contact.name ?? existing?.name ?? null,
    additional_info: { ...existing?.additional_info, ...contact.customFields },
  };
}

interface FirstMessage {
  content: string;
  composedBy: 'ai' | 'template';
  traceId: string | null;
}

/**
 * The starter message with placeholders filled; without one, the AI composer's first touch
 * from the process (when `useAi`), else the default template.
 */
async function firstMessage(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  processInstructions: string,
  leadId: string,
  person: Person,
  channel: 'text' | 'email',
  useAi: boolean,
): Promise<FirstMessage> {
  const facts = templateLead(person.contact, person.existing);
  if (configuration.starterMessage?.trim()) {
    return { content: renderTemplate(configuration.starterMessage, facts), composedBy: 'template', traceId: null };
  }
  const fallback = renderTemplate(DEFAULT_FIRST_TOUCH, facts);
  if (!useAi) return { content: fallback, composedBy: 'template', traceId: null };
  const composition = await composeMessage(ctx, {
    organizationId: configuration.organizationId,
    leadId,
    instructions: processInstructions,
    lead: {
      firstName: facts.first_name,
      lastName: facts.last_name,
      name: facts.name,
      email: person.contact.email ?? person.existing?.email,
      phone: person.contact.phone ?? person.existing?.phone,
      source: configuration.source,
      customFields: facts.additional_info ?? {},
    },
    conversation: person.existing ? await conversationOf(ctx, configuration.organizationId, person.existing.id) : [],
    task: { kind: 'first_touch', channel },
    fallback,
  });
  return { content: composition.content, composedBy: composition.source === 'ai' ? 'ai' : 'template', traceId: composition.traceId };
}

const ENROLLED = 'Enrolled in the follow-up cadence';

type Enrollment = { follow_up_step: number; next_follow_up_at: Date | null; follow_up_deferred_until: null };

/**
 * forwardToOutreach: the first step of the cadence the lead follows (its own, else its
 * agent's, else the organization's), timed from now; a deferral of the old timer goes with it.
 */
function enrollment(
  organization: OrganizationRow,
  lead: { follow_up_config: unknown; agent_follow_up_config: unknown } | undefined,
  now: Date,
): Enrollment {
  const cadence = resolveCadence(
    (lead?.follow_up_config ?? null) as FollowUpConfig | null,
    (lead?.agent_follow_up_config ?? null) as FollowUpConfig | null,
    organization.default_follow_up_config as FollowUpConfig | null,
  );
  const step = firstStep(cadence);
  return { follow_up_step: step, next_follow_up_at: dueAt(cadence, step, now, organization.long_term_interval_hours), follow_up_deferred_until: null };
}

/** What routing gives an existing lead: its contact as it came in, and whether it enrolls again. */
interface RefreshOffer {
  /** the person's place in the batch */
  index: number;
  id: string;
  contact: CleanContact;
  enroll: boolean;
}

/**
 * An existing lead's refresh, planned on its locked row: names as given, a phone or email
 * only where it has none, the cadence restarted when it enrolls. The update's rules are the
 * native ones: a default dedupe key follows the phone the lead gains, and the event holds
 * the old and new value of every field that changes.
 */
function refreshOf(lead: RefreshedLead, offer: RefreshOffer, organization: OrganizationRow, now: Date): Pick<LeadWrite, 'id' | 'columns' | 'additionalInfoPatch' | 'changes'> {
  const { contact } = offer;
  const columns = {
    first_name: contact.firstName ?? lead.first_name,
    last_name: contact.lastName ?? lead.last_name,
    name: contact.name ?? lead.name,
    email: lead.email ?? contact.email,
    phone: lead.phone ?? contact.phone,
    dedupe_key: lead.dedupe_key,
    ...(offer.enroll
      ? enrollment(organization, lead, now)
      : { follow_up_step: lead.follow_up_step, next_follow_up_at: lead.next_follow_up_at, follow_up_deferred_until: lead.follow_up_deferred_until }),
  };
  const dedupeKey = movedDedupeKey(lead, columns);
  if (dedupeKey !== undefined) columns.dedupe_key = dedupeKey;
  const changes = changedFields(lead, columns);
  if (Object.keys(contact.customFields).length > 0) changes.additionalInfo = customFieldChanges(lead.additional_info, contact.customFields);
  return { id: lead.id, columns, additionalInfoPatch: contact.customFields, changes };
}

/**
 * A concurrent write changed what this batch was planned on: it took a dedupe key the batch
 * needs first (a new lead's, or the phone an existing lead gains), deleted a lead the batch
 * updates, or deadlocked with it. The batch is routed again from what the database holds
 * now (the key's holder, a new lead in place of the deleted one).
 */
class LostRace extends Error {}

/**
 * Routes incoming leads through a lead-management configuration, the same way whichever way
 * they came in (webhook, email, import; one lead or a batch of thousands): dedupe by phone,
 * then email; a new lead is placed in the configuration's pipeline stage with its source,
 * process and cost; an existing one is updated, and re-contacted only when the configuration
 * allows it. The first message is the rendered starter message, else the AI composer's
 * (`useAi`; imports use the default template instead of a model call per row), queued on
 * autopilot or held for approval. One transaction writes the batch, one statement per
 * table, and every decision goes on the lead's timeline. Refused inputs are reported per row.
 */
export async function routeLeads(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  incoming: IncomingContact[],
  origin: IntakeOrigin,
  options: { useAi: boolean },
): Promise<RowOutcome[]> {
  const organization = await organizationOf(ctx, configuration);
  const outcomes: RowOutcome[] = new Array(incoming.length);
  const accepted: Array<{ row: number; contact: CleanContact }> = [];
  incoming.forEach((contact, row) => {
    try {
      accepted.push({ row, contact: cleanContact(contact, organization, origin === 'email') });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      outcomes[row] = { ok: false, error };
    }
  });
  for (let attempt = 1; ; attempt++) {
    try {
      const routed = await routeOnce(ctx, configuration, organization, accepted, origin, options.useAi);
      for (const [row, outcome] of routed) outcomes[row] = outcome;
      return outcomes;
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      if (attempt < 3) continue;
      throw conflict('A concurrent change got in the way; send the request again');
    }
  }
}

/** One lead: its result, or the error that refused it. */
export async function routeLead(ctx: AppContext, configuration: RoutingConfiguration, contact: IncomingContact, origin: IntakeOrigin): Promise<RoutingResult> {
  const [outcome] = await routeLeads(ctx, configuration, [contact], origin, { useAi: true });
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}

/**
 * Why routing would refuse this contact now (no phone or email, custom fields past the
 * bounds), found without writing anything: for a caller that must commit something else for
 * the same input first and wants the input refused whole.
 */
export async function routingRefusal(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  contact: IncomingContact,
  origin: IntakeOrigin,
): Promise<AppError | undefined> {
  let clean: CleanContact;
  try {
    clean = cleanContact(contact, await organizationOf(ctx, configuration), origin === 'email');
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  const persons = await people(ctx, configuration.organizationId, [{ row: 0, contact: clean }]);
  return (await pastBounds(ctx, configuration.organizationId, persons)).size > 0 ? pastBoundsError() : undefined;
}

async function routeOnce(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  organization: OrganizationRow,
  accepted: Array<{ row: number; contact: CleanContact }>,
  origin: IntakeOrigin,
  useAi: boolean,
): Promise<Map<number, RowOutcome>> {
  const organizationId = configuration.organizationId;
  const byRow = new Map<number, RowOutcome>();
  // Custom fields past the leads table's bounds (an existing lead's own counted) refuse the
  // person here, before the model is asked: a refused input leaves nothing, not even a trace.
  const everyone = await people(ctx, organizationId, accepted);
  const refused = await pastBounds(ctx, organizationId, everyone);
  const persons = everyone.filter((person, i) => {
    if (!refused.has(i)) return true;
    for (const row of person.rows) byRow.set(row, { ok: false, error: pastBoundsError() });
    return false;
  });
  const contacts = (person: Person) => !person.existing || configuration.allowRecontact;
  const sends = (person: Person) => contacts(person) && !configuration.useWorkflowOnly;
  const leadIds = persons.map((person) => person.existing?.id ?? newId(ctx.clock.now()));

  // The model is asked before the transaction opens: no lock is held while it thinks.
  const needsProcess = useAi && !configuration.starterMessage?.trim() && persons.some(sends);
  const process = needsProcess ? await findPrompt(ctx.db, organizationId, configuration.defaultProcessId) : undefined;
  const firstMessages = new Map<number, FirstMessage & { channel: 'text' | 'email' }>();
  for (const [i, person] of persons.entries()) {
    if (!sends(person)) continue;
    const channel = (person.contact.phone ?? person.existing?.phone) ? 'text' : 'email';
    const message = await firstMessage(ctx, configuration, process?.content ?? '', leadIds[i], person, channel, useAi);
    firstMessages.set(i, { ...message, channel });
  }

  const now = ctx.clock.now();
  const actor = { userId: configuration.userId, label: `intake:${origin}` };
  const newLeadEnrollment = enrollment(organization, undefined, now);
  // a new lead starts with the score a native create gives a lead in its stage
  const entryScore = persons.every((person) => person.existing)
    ? 0
    : newLeadHeat(await entryStageOf(ctx, configuration), { replied: false, lastActivityAt: null }, now);
  // Each lead gets one timeline entry listing every routing decision taken for it.
  const decisions = persons.map(() => ({ titles: [] as string[], metadata: { configurationId: configuration.id, origin } as Record<string, unknown> }));
  const note = (i: number, title: string, metadata: Record<string, unknown> = {}) => {
    decisions[i].titles.push(title);
    Object.assign(decisions[i].metadata, metadata);
  };

  const newLeads: NewLeadRecord[] = [];
  const offers: RefreshOffer[] = [];
  const applications: ApplicationRecord[] = [];
  const outgoing: Array<{ index: number; message: OutgoingMessage }> = [];
  const results = persons.map((person, i): RoutingResult => {
    const leadId = leadIds[i];
    const { contact, existing } = person;
    const enroll = contacts(person) && configuration.forwardToOutreach;
    if (existing) {
      note(i, contacts(person) ? 'Lead came in again; re-contact allowed by the configuration' : 'Lead came in again; not re-contacted (allowRecontact is off)', {
        configurationName: configuration.configurationName,
      });
      offers.push({ index: i, id: leadId, contact, enroll });
    } else {
      newLeads.push({
        id: leadId,
        first_name: contact.firstName,
        last_name: contact.lastName,
        name: contact.name,
        email: contact.email,
        phone: contact.phone,
        source: configuration.source,
        owner_id: configuration.userId,
        pipeline_id: configuration.pipelineId,
        stage_id: configuration.entryStageId,
        process_id: configuration.defaultProcessId,
        configuration_id: configuration.id,
        additional_info: contact.customFields,
        convo_id: newId(now),
        dedupe_key: defaultDedupeKey(contact.phone, contact.email),
        hot_score: entryScore,
        hot_label: heatLabel(entryScore),
        follow_up_step: enroll ? newLeadEnrollment.follow_up_step : null,
        next_follow_up_at: enroll ? newLeadEnrollment.next_follow_up_at : null,
        created_at: now,
        updated_at: now,
      });
      note(i, `New lead routed by configuration "${configuration.configurationName}"`, {
        source: configuration.source,
        pipelineId: configuration.pipelineId,
        stageId: configuration.entryStageId,
        processId: configuration.defaultProcessId,
        costPerLead: configuration.costPerLead,
      });
    }
    if (enroll && !existing) note(i, ENROLLED, { followUpStep: newLeadEnrollment.follow_up_step, nextFollowUpAt: newLeadEnrollment.next_follow_up_at });
    let applicationId: string | null = null;
    if (configuration.createApplication) {
      applicationId = newId(now);
      applications.push({
        id: applicationId,
        organization_id: organizationId,
        lead_id: leadId,
        configuration_id: configuration.id,
        name: configuration.applicationName ?? configuration.configurationName,
        status: configuration.applicationStatus,
        pipeline_id: configuration.applicationPipelineId,
        stage_id: configuration.applicationPipelineStageId,
        created_at: now,
        updated_at: now,
      });
      note(i, 'Application created', { applicationId });
    }
    const message = firstMessages.get(i);
    if (message) {
      outgoing.push({
        index: i,
        message: {
          organizationId,
          leadId,
          configurationId: configuration.id,
          purpose: 'first_touch',
          channel: message.channel,
          content: message.content,
          composedBy: message.composedBy,
          traceId: message.traceId,
          now,
          idempotencyKey: `intake:${configuration.id}:${leadId}:${now.getTime()}`,
        },
      });
    } else if (contacts(person) && configuration.useWorkflowOnly) {
      note(i, 'Workflow only: the autopilot first message was skipped');
    }
    return {
      lead: { id: leadId, convo_id: existing ? existing.convo_id : (newLeads.at(-1)?.convo_id ?? null) },
      created: !existing,
      contacted: message !== undefined,
      applicationId,
      approvalId: null,
      messageId: null,
    };
  });

  try {
    await ctx.db.transaction(async (tx) => {
      // Existing leads are locked before anything is inserted: every intake takes its locks in
      // one order (leads by id, then the organization's number counter), and a batch holding
      // a new, uncommitted dedupe key never waits for a lead held by a refresh that is waiting
      // for that key.
      const locked = await lockLeadsForRefresh(tx, organizationId, offers.map((offer) => offer.id));
      // a lead deleted since it was found: its person is routed again, as a new lead
      if (locked.length !== offers.length) throw new LostRace();
      const inserted = await insertLeads(tx, organizationId, newLeads);
      if (inserted.size !== newLeads.length) throw new LostRace();
      await recordLeadsCreated(tx, organizationId, newLeads, actor, now);
      const lockedById = new Map(locked.map((lead) => [lead.id, lead]));
      const refreshes = offers.map((offer) => {
        const refresh: LeadWrite = { ...refreshOf(lockedById.get(offer.id)!, offer, organization, now), organizationId, now, actor, activities: [] };
        if (offer.enroll) note(offer.index, ENROLLED, { followUpStep: refresh.columns.follow_up_step, nextFollowUpAt: refresh.columns.next_follow_up_at });
        return refresh;
      });
      // every refresh sets the same columns, so the batch is one statement of the native update
      await applyLeadUpdates(tx, refreshes);
      await insertApplications(tx, applications);
      const sent = await sendOrHold(tx, outgoing.map((o) => o.message), configuration.isAutopilot);
      outgoing.forEach(({ index, message }, k) => {
        Object.assign(results[index], sent[k]);
        note(index, configuration.isAutopilot ? 'First message queued (autopilot)' : 'First message waiting for approval', {
          composedBy: message.composedBy,
          traceId: message.traceId,
          ...sent[k],
        });
      });
      const timeline: TimelineRecord[] = decisions.map((d, i) => ({
        id: newId(now),
        lead_id: leadIds[i],
        title: d.titles.join('; '),
        metadata: { ...d.metadata, decisions: d.titles },
      }));
      await insertTimeline(tx, organizationId, timeline, now);
      await insertIntakes(
        tx,
        persons.flatMap((person, i) =>
          person.rows.map((_, k) => ({
            id: newId(now),
            organization_id: organizationId,
            lead_id: leadIds[i],
            configuration_id: configuration.id,
            origin,
            created: !person.existing && k === 0,
            contacted: k === 0 && results[i].contacted,
            cost: !person.existing && k === 0 ? configuration.costPerLead : 0,
            at: now,
          })),
        ),
      );
    });
  } catch (error) {
    // nothing the model wrote was kept: its traces go too (a retry asks it again), unless the
    // database is what failed, and then the error to report is the first one
    await deleteTraces(ctx.db, organizationId, [...firstMessages.values()].flatMap((m) => (m.traceId ? [m.traceId] : []))).catch(() => {});
    // An existing lead gaining a phone that a concurrent write gave another lead first, or
    // locks taken in another order by a concurrent update of the same leads.
    if (isUniqueViolation(error, 'leads_dedupe_key') || isTransientConflict(error)) throw new LostRace();
    // A concurrent intake merged custom fields into one of these leads since the check above.
    if (customFieldsBoundsError(error)) throw pastBoundsError();
    throw error;
  }
  persons.forEach((person, i) =>
    person.rows.forEach((row, k) =>
      byRow.set(row, { ok: true, result: k === 0 ? results[i] : { ...results[i], created: false, contacted: false, applicationId: null } }),
    ),
  );
  return byRow;
}

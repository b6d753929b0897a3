import type { AppContext } from '../../context.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { badRequest } from '../../http/errors.ts';
import { newId } from '../../lib/ids.ts';
import { toE164 } from '../../lib/phone.ts';
import { renderTemplate, type TemplateLead } from '../../lib/template.ts';
import { composeMessage, type Composition } from '../ai/composer.ts';
import type { ConversationTurn } from '../ai/prompt.ts';
import { sendOrHold } from '../approvals/service.ts';
import { dueAt, firstStep, resolveCadence, type FollowUpConfig } from '../followups/schedule.ts';
import type { RoutingConfiguration } from '../lead-management/service.ts';
import { checkCustomFields, defaultDedupeKey } from '../leads/service.ts';
import { insertLead, recordLeadCreated, writeLeadUpdate, type LeadColumns, type LeadRow } from '../leads/store.ts';
import { listLeadMessages } from '../messages/store.ts';
import { findOrganization, type OrganizationRow } from '../organizations/store.ts';
import { findPrompt } from '../prompts/store.ts';
import type { IncomingContact } from './contact.ts';
import { findLeadForRouting, insertApplication, insertIntake, insertTimelineEntries, type TimelineEntry } from './store.ts';

export type IntakeOrigin = 'webhook' | 'email' | 'import';

export interface RoutingResult {
  lead: LeadRow;
  created: boolean;
  contacted: boolean;
  applicationId: string | null;
  approvalId: string | null;
  messageId: string | null;
}

/** What the composer falls back to when the configuration has no starter message and the model fails. */
export const DEFAULT_FIRST_TOUCH = 'Hi {{firstName}}, thanks for your interest! When would be a good time to talk?';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface CleanContact {
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  customFields: Record<string, unknown>;
}

/**
 * Phone to E.164 and email checked. A lead from an email is never refused for a bad value
 * (the sender cannot fix it): the raw value is kept as a custom field instead.
 */
function cleanContact(contact: IncomingContact, organization: OrganizationRow, lenient: boolean): CleanContact {
  const customFields = { ...contact.customFields };
  const keepOrRefuse = (field: 'phone' | 'email', value: string, rule: string) => {
    if (!lenient) throw badRequest(`${field} ${rule}`, [{ field, message: `${field} ${rule}` }]);
    customFields[field] = value;
    return null;
  };
  const phone = contact.phone
    ? (toE164(contact.phone, organization.default_country) ?? keepOrRefuse('phone', contact.phone, 'is not a valid phone number'))
    : null;
  const email = contact.email
    ? EMAIL_PATTERN.test(contact.email)
      ? contact.email
      : keepOrRefuse('email', contact.email, 'must be a valid email address')
    : null;
  if (!phone && !email) throw badRequest('A phone number or an email address is required', [{ field: 'phone', message: 'phone or email is required' }]);
  checkCustomFields(customFields, 'customFields');
  return {
    firstName: contact.firstName ?? null,
    lastName: contact.lastName ?? null,
    name: contact.name ?? null,
    email,
    phone,
    customFields,
  };
}

function templateLead(contact: CleanContact, existing: LeadRow | undefined): TemplateLead {
  return {
    first_name: contact.firstName ?? existing?.first_name ?? null,
    last_name: contact.lastName ?? existing?.last_name ?? null,
    name: contact.name ?? existing?.name ?? null,
    additional_info: { ...existing?.additional_info, ...contact.customFields },
  };
}

async function conversationOf(ctx: AppContext, organizationId: string, lead: LeadRow | undefined): Promise<ConversationTurn[]> {
  if (!lead) return [];
  const messages = await listLeadMessages(ctx.db, organizationId, lead.id);
  return messages.slice(-20).map((m) => ({ from: m.direction === 'inbound' ? 'lead' : 'agent', content: m.content }));
}

/** The starter message with placeholders filled, or the AI composer's first touch from the process. */
async function firstMessage(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  leadId: string,
  contact: CleanContact,
  existing: LeadRow | undefined,
  channel: 'text' | 'email',
): Promise<{ content: string; composedBy: 'ai' | 'template'; traceId: string | null }> {
  const facts = templateLead(contact, existing);
  if (configuration.starterMessage?.trim()) {
    return { content: renderTemplate(configuration.starterMessage, facts), composedBy: 'template', traceId: null };
  }
  const process = await findPrompt(ctx.db, configuration.organizationId, configuration.defaultProcessId);
  const composition: Composition = await composeMessage(ctx, {
    organizationId: configuration.organizationId,
    leadId,
    instructions: process?.content ?? '',
    lead: {
      firstName: facts.first_name,
      lastName: facts.last_name,
      name: facts.name,
      email: contact.email ?? existing?.email,
      phone: contact.phone ?? existing?.phone,
      source: configuration.source,
      customFields: facts.additional_info ?? {},
    },
    conversation: await conversationOf(ctx, configuration.organizationId, existing),
    task: { kind: 'first_touch', channel },
    fallback: renderTemplate(DEFAULT_FIRST_TOUCH, facts),
  });
  return { content: composition.content, composedBy: composition.source === 'ai' ? 'ai' : 'template', traceId: composition.traceId };
}

/** forwardToOutreach: the first step of the lead's cadence, timed from now. */
function enrollment(organization: OrganizationRow, now: Date): Pick<LeadColumns, 'follow_up_step' | 'next_follow_up_at'> {
  const cadence = resolveCadence(null, null, organization.default_follow_up_config as FollowUpConfig | null);
  const step = firstStep(cadence);
  return { follow_up_step: step, next_follow_up_at: dueAt(cadence, step, now, organization.long_term_interval_hours) };
}

/** Contact fields an existing lead gains: names as given, a phone or email only where it has none. */
function updatedContactColumns(existing: LeadRow, contact: CleanContact): LeadColumns {
  const columns: LeadColumns = {};
  if (contact.firstName) columns.first_name = contact.firstName;
  if (contact.lastName) columns.last_name = contact.lastName;
  if (contact.name) columns.name = contact.name;
  if (contact.email && !existing.email) columns.email = contact.email;
  if (contact.phone && !existing.phone) columns.phone = contact.phone;
  return columns;
}

function changesOf(existing: LeadRow, columns: LeadColumns): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const [name, value] of Object.entries(columns)) {
    const old = (existing as unknown as Record<string, unknown>)[name];
    const comparable = (v: unknown) => (v instanceof Date ? v.toISOString() : JSON.stringify(v ?? null));
    if (comparable(old) !== comparable(value)) changes[name] = { from: old ?? null, to: value };
  }
  return changes;
}

/**
 * Routes one incoming lead through a lead-management configuration, the same way whichever
 * way it came in (webhook, email, import): dedupe by phone then email; a new lead is placed
 * in the configuration's pipeline stage with its source, process and cost; an existing one
 * is updated and re-contacted only when the configuration allows it. The first message is
 * the rendered starter message or the AI composer's, queued on autopilot or held for
 * approval. Everything is written in one transaction, each decision on the lead's timeline.
 */
export async function routeLead(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  incoming: IncomingContact,
  origin: IntakeOrigin,
): Promise<RoutingResult> {
  const organization = await findOrganization(ctx.db, configuration.organizationId);
  if (!organization) throw new Error(`organization ${configuration.organizationId} of configuration ${configuration.id} is missing`);
  const contact = cleanContact(incoming, organization, origin === 'email');
  // A concurrent intake of the same person may create the lead between our lookup and our
  // insert: the unique dedupe key refuses the second insert, and the retry finds the lead.
  for (let attempt = 1; ; attempt++) {
    try {
      return await routeOnce(ctx, configuration, organization, contact, origin);
    } catch (error) {
      if (attempt < 2 && isUniqueViolation(error, 'leads_dedupe_key')) continue;
      throw error;
    }
  }
}

async function routeOnce(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  organization: OrganizationRow,
  contact: CleanContact,
  origin: IntakeOrigin,
): Promise<RoutingResult> {
  const organizationId = configuration.organizationId;
  const existing = await findLeadForRouting(ctx.db, organizationId, contact);
  const created = !existing;
  const leadId = existing?.id ?? newId(ctx.clock.now());
  const contacts = created || configuration.allowRecontact;
  const sendsFirstMessage = contacts && !configuration.useWorkflowOnly;
  const channel: 'text' | 'email' = (contact.phone ?? existing?.phone) ? 'text' : 'email';
  // The model is asked before the transaction opens: no lock is held while it thinks.
  const message = sendsFirstMessage ? await firstMessage(ctx, configuration, leadId, contact, existing, channel) : undefined;

  const now = ctx.clock.now();
  const actor = { userId: configuration.userId, label: `intake:${origin}` };
  const timeline: TimelineEntry[] = [];
  const note = (title: string, metadata: Record<string, unknown> = {}) =>
    timeline.push({ id: newId(now), title, metadata: { configurationId: configuration.id, origin, ...metadata } });

  return ctx.db.transaction(async (tx) => {
    const followUp = contacts && configuration.forwardToOutreach ? enrollment(organization, now) : {};
    let lead: LeadRow;
    if (existing) {
      note(contacts ? 'Lead came in again; re-contact allowed by the configuration' : 'Lead came in again; not re-contacted (allowRecontact is off)', {
        configurationName: configuration.configurationName,
      });
      const columns = { ...updatedContactColumns(existing, contact), ...followUp };
      lead = await writeLeadUpdate(tx, {
        organizationId,
        id: existing.id,
        columns,
        additionalInfoPatch: Object.keys(contact.customFields).length > 0 ? contact.customFields : undefined,
        now,
        actor,
        changes: changesOf(existing, columns),
        activities: [],
      });
    } else {
      lead = await insertLead(tx, {
        id: leadId,
        organizationId,
        now,
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
        ...followUp,
      });
      await recordLeadCreated(tx, lead, actor, newId(now), configuration.source);
      note(`Routed by configuration "${configuration.configurationName}"`, {
        source: configuration.source,
        pipelineId: configuration.pipelineId,
        stageId: configuration.entryStageId,
        processId: configuration.defaultProcessId,
        costPerLead: configuration.costPerLead,
      });
    }
    if (followUp.follow_up_step !== undefined) {
      note('Enrolled in the follow-up cadence', { followUpStep: followUp.follow_up_step, nextFollowUpAt: followUp.next_follow_up_at });
    }

    let applicationId: string | null = null;
    if (configuration.createApplication) {
      applicationId = newId(now);
      await insertApplication(tx, {
        id: applicationId,
        organizationId,
        leadId: lead.id,
        configurationId: configuration.id,
        name: configuration.applicationName ?? configuration.configurationName,
        status: configuration.applicationStatus,
        pipelineId: configuration.applicationPipelineId,
        stageId: configuration.applicationPipelineStageId,
        now,
      });
      note('Application created', { applicationId });
    }

    let sent: { messageId: string | null; approvalId: string | null } = { messageId: null, approvalId: null };
    if (message) {
      sent = await sendOrHold(
        tx,
        {
          organizationId,
          leadId: lead.id,
          configurationId: configuration.id,
          purpose: 'first_touch',
          channel,
          ...message,
          now,
          idempotencyKey: `intake:${configuration.id}:${lead.id}:${now.getTime()}`,
        },
        configuration.isAutopilot,
      );
      note(configuration.isAutopilot ? 'First message queued (autopilot)' : 'First message waiting for approval', {
        composedBy: message.composedBy,
        traceId: message.traceId,
        ...sent,
      });
    } else if (contacts && configuration.useWorkflowOnly) {
      note('Workflow only: the autopilot first message was skipped');
    }

    await insertTimelineEntries(tx, organizationId, lead.id, timeline, now);
    await insertIntake(tx, {
      id: newId(now),
      organizationId,
      leadId: lead.id,
      configurationId: configuration.id,
      origin,
      created,
      contacted: message !== undefined,
      cost: created ? configuration.costPerLead : 0,
      now,
    });
    return { lead, created, contacted: message !== undefined, applicationId, ...sent };
  });
}


import type { AppContext } from '../../context.ts';
import { isForeignKeyViolation, isUniqueViolation, type Queryable } from '../../db/database.ts';
import { badRequest, conflict, invalidField, notFound } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { validateFollowUpConfig } from '../followups/schedule.ts';
import { findOrganization } from '../organizations/store.ts';
import { findPrompt } from '../prompts/store.ts';
import { isTimeZone, toClockTime } from './schedule-window.ts';
import {
  AGENT_NAME_KEY,
  deleteAgent,
  findAgent,
  findAgentByName,
  insertAgent,
  updateAgent,
  type AgentFields,
  type AgentRow,
  type AgentWindow,
} from './store.ts';

export const AGENT_NOT_FOUND = 'Agent not found';

export function toAgentDto(row: AgentRow) {
  const hasHours = row.timezone !== null && row.send_window_start !== null && row.send_window_end !== null && row.send_days !== null;
  return {
    _id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    processId: row.process_id,
    voiceEnabled: row.voice_enabled,
    emailEnabled: row.email_enabled,
    followUpConfig: row.follow_up_config,
    businessHours: hasHours
      ? { timezone: row.timezone!, start: toClockTime(row.send_window_start!), end: toClockTime(row.send_window_end!), days: row.send_days! }
      : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function existingAgent(db: Queryable, principal: Principal, id: string, lock = false): Promise<AgentRow> {
  const agent = isId(id) ? await findAgent(db, principal.organizationId, id, lock) : undefined;
  if (!agent) throw notFound(AGENT_NOT_FOUND);
  return agent;
}

export function getAgent(ctx: AppContext, principal: Principal, id: string): Promise<AgentRow> {
  return existingAgent(ctx.db, principal, id);
}

/** The agent with this name (Apten's "customer profile"), or undefined. */
export function agentNamed(ctx: AppContext, principal: Principal, name: string): Promise<AgentRow | undefined> {
  return findAgentByName(ctx.db, principal.organizationId, name.trim());
}

function checkBusinessHours(hours: AgentWindow | null | undefined): void {
  if (!hours) return;
  if (!isTimeZone(hours.timezone)) throw invalidField('businessHours.timezone', 'must be a tz database time zone (e.g. America/New_York)');
  if (hours.start >= hours.end) throw invalidField('businessHours.end', 'must be later than businessHours.start');
}

async function checkProcess(db: Queryable, principal: Principal, processId: string | null | undefined): Promise<void> {
  if (processId === null || processId === undefined) return;
  if (!isId(processId) || !(await findPrompt(db, principal.organizationId, processId))) {
    throw invalidField('processId', 'must be a prompt (AI process) of your organization');
  }
}

/**
 * An agent's default cadence may only use the channels the agent itself can use. Strategies
 * are allowed here: whether they apply is decided per lead (useStrategiesForFollowUps).
 */
async function checkCadence(
  db: Queryable,
  principal: Principal,
  config: Record<string, unknown> | null | undefined,
  agent: { voiceEnabled: boolean; emailEnabled: boolean },
): Promise<void> {
  if (!config) return;
  const organization = await findOrganization(db, principal.organizationId);
  validateFollowUpConfig(config, {
    useStrategiesForFollowUps: true,
    agentVoiceEnabled: agent.voiceEnabled,
    agentEmailEnabled: agent.emailEnabled,
    organizationEmailEnabled: organization?.email_enabled ?? false,
  });
}

async function saveUniquely<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, AGENT_NAME_KEY)) throw conflict('An agent with this name already exists');
    throw error;
  }
}

export async function createAgent(
  ctx: AppContext,
  principal: Principal,
  input: {
    name: string;
    processId?: string | null;
    voiceEnabled?: boolean;
    emailEnabled?: boolean;
    followUpConfig?: Record<string, unknown> | null;
    businessHours?: AgentWindow | null;
  },
): Promise<AgentRow> {
  const fields: AgentFields = {
    name: input.name.trim(),
    processId: input.processId ?? null,
    voiceEnabled: input.voiceEnabled ?? false,
    emailEnabled: input.emailEnabled ?? false,
    followUpConfig: input.followUpConfig ?? null,
    businessHours: input.businessHours ?? null,
  };
  if (!fields.name) throw invalidField('name', 'must not be blank');
  checkBusinessHours(fields.businessHours);
  await checkProcess(ctx.db, principal, fields.processId);
  await checkCadence(ctx.db, principal, input.followUpConfig, fields);
  const now = ctx.clock.now();
  return saveUniquely(() => insertAgent(ctx.db, { ...fields, id: newId(now), organizationId: principal.organizationId, now }));
}

/**
 * The cadence is checked against the stored channels and the channels against the stored
 * cadence, so the row is locked from that read to the write: of a concurrent change of the
 * cadence and one of the channels, the second is checked against the first one's result.
 */
export function changeAgent(ctx: AppContext, principal: Principal, id: string, changes: Partial<AgentFields>): Promise<AgentRow> {
  return ctx.db.transaction(async (tx) => {
    const current = await existingAgent(tx, principal, id, true);
    const name = changes.name?.trim();
    if (name === '') throw invalidField('name', 'must not be blank');
    checkBusinessHours(changes.businessHours);
    await checkProcess(tx, principal, changes.processId);
    // the cadence that will apply must fit the channels that will be enabled
    await checkCadence(tx, principal, changes.followUpConfig === undefined ? current.follow_up_config : changes.followUpConfig, {
      voiceEnabled: changes.voiceEnabled ?? current.voice_enabled,
      emailEnabled: changes.emailEnabled ?? current.email_enabled,
    });
    return saveUniquely(() => updateAgent(tx, principal.organizationId, current.id, { ...changes, name }, ctx.clock.now()));
  });
}

export async function removeAgent(ctx: AppContext, principal: Principal, id: string): Promise<void> {
  if (!isId(id)) throw notFound(AGENT_NOT_FOUND);
  try {
    if (!(await deleteAgent(ctx.db, principal.organizationId, id))) throw notFound(AGENT_NOT_FOUND);
  } catch (error) {
    if (isForeignKeyViolation(error)) throw badRequest('Agent is used by leads or campaigns and cannot be deleted');
    throw error;
  }
}

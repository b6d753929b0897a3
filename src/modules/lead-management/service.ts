import type { AppContext } from '../../context.ts';
import { isForeignKeyViolation, isUniqueViolation, type Queryable } from '../../db/database.ts';
import { badRequest, forbidden, invalidField, notFound } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { findStage } from '../pipelines/rules.ts';
import { findDefaultPipeline, findPipeline, findPipelineOfStage, type PipelineRow, type PipelineType } from '../pipelines/store.ts';
import { findPrompt } from '../prompts/store.ts';
import { CREATE_DEFAULTS, type ConfigurationInput, type CreateConfigurationInput } from './schemas.ts';
import {
  deleteConfiguration,
  findActiveConfiguration,
  findActiveConfigurationByInboundEmail as findActiveByInboundEmail,
  findConfiguration,
  insertConfiguration,
  listConfigurations,
  updateConfiguration,
  type ActiveConfigurationRow,
  type ConfigurationRow,
  type ConfigurationValues,
} from './store.ts';

export const CONFIGURATION_NOT_FOUND = 'Lead management configuration not found';

export function toConfigurationDto(row: ConfigurationRow) {
  return {
    _id: row.id,
    organizationId: row.organization_id,
    userId: row.user_id,
    configurationName: row.configuration_name,
    name: row.name,
    description: row.description,
    source: row.source,
    inboundEmail: row.inbound_email,
    initialStage: row.initial_stage,
    initialStageId: row.initial_stage_id,
    defaultProcess: row.default_process_id,
    isAutopilot: row.is_autopilot,
    allowRecontact: row.allow_recontact,
    starterMessage: row.starter_message,
    costPerLead: row.cost_per_lead,
    status: row.status,
    pipelineId: row.pipeline_id,
    pipelineStage: row.pipeline_stage,
    pipelineStageId: row.pipeline_stage_id,
    createApplication: row.create_application,
    applicationName: row.application_name,
    applicationStatus: row.application_status,
    applicationPipelineId: row.application_pipeline_id,
    applicationPipelineStage: row.application_pipeline_stage,
    applicationPipelineStageId: row.application_pipeline_stage_id,
    forwardToOutreach: row.forward_to_outreach,
    useWorkflowOnly: row.use_workflow_only,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What a new configuration's optional references and texts are when not given. */
const UNSET_COLUMNS = {
  name: null,
  description: null,
  inbound_email: null,
  starter_message: null,
  pipeline_id: null,
  pipeline_stage: null,
  pipeline_stage_id: null,
  application_name: null,
  application_status: null,
  application_pipeline_id: null,
  application_pipeline_stage: null,
  application_pipeline_stage_id: null,
} as const satisfies Partial<ConfigurationValues>;

/** Client fields that are stored as given (no reference to resolve), with their column. */
const PLAIN_FIELDS = {
  name: 'name',
  description: 'description',
  source: 'source',
  isAutopilot: 'is_autopilot',
  allowRecontact: 'allow_recontact',
  starterMessage: 'starter_message',
  costPerLead: 'cost_per_lead',
  status: 'status',
  createApplication: 'create_application',
  applicationName: 'application_name',
  applicationStatus: 'application_status',
  forwardToOutreach: 'forward_to_outreach',
  useWorkflowOnly: 'use_workflow_only',
} as const satisfies Partial<Record<keyof ConfigurationInput, keyof ConfigurationValues>>;

async function pipelineOfType(
  db: Queryable,
  organizationId: string,
  field: 'pipelineId' | 'applicationPipelineId',
  id: string,
  type: PipelineType,
): Promise<PipelineRow> {
  const pipeline = isId(id) ? await findPipeline(db, organizationId, id) : undefined;
  if (!pipeline) throw invalidField(field, 'must be the _id of an existing pipeline');
  if (pipeline.type !== type) throw invalidField(field, `must be ${type === 'Contact' ? 'a Contact' : 'an Application'} pipeline`);
  return pipeline;
}

type ColumnValues = Partial<Record<keyof ConfigurationValues, unknown>>;

/** A stage field's value (`_id` or name) resolved in a pipeline; null clears it. */
function resolveStage(
  field: string,
  value: string | null,
  pipeline: PipelineRow | undefined,
  missingPipelineHint: string,
): { raw: string | null; id: string | null } {
  if (value === null) return { raw: null, id: null };
  if (!pipeline) throw invalidField(field, `has no pipeline to resolve in: ${missingPipelineHint}`);
  const stage = findStage(pipeline.stages, value);
  if (!stage) throw invalidField(field, `"${value}" is not a stage _id or name of pipeline "${pipeline.name}"`);
  return { raw: value.trim(), id: stage.id };
}

/** The value a stage field ends up with: the one supplied, else the stored one when its pipeline changes (to re-resolve it). */
function stageToResolve(supplied: string | null | undefined, stored: string | null | undefined, pipelineChanged: boolean) {
  return supplied !== undefined ? supplied : pipelineChanged ? (stored ?? null) : undefined;
}

/**
 * Contact side: stages resolve in pipelineId, else the organization's default Contact
 * pipeline; when the pipeline does not change it is the one the stored initial stage is in.
 */
async function resolveContactSide(db: Queryable, organizationId: string, input: ConfigurationInput, current: ConfigurationRow | undefined, values: ColumnValues) {
  const pipelineChanged = !current || (input.pipelineId !== undefined && input.pipelineId !== current.pipeline_id);
  const initialStage = stageToResolve(input.initialStage, current?.initial_stage, pipelineChanged);
  const pipelineStage = stageToResolve(input.pipelineStage, current?.pipeline_stage, pipelineChanged);
  if (initialStage === undefined && pipelineStage === undefined) return;
  const pipelineId = pipelineChanged ? (input.pipelineId ?? null) : undefined;
  const pipeline = pipelineId
    ? await pipelineOfType(db, organizationId, 'pipelineId', pipelineId, 'Contact')
    : pipelineId === null
      ? await findDefaultPipeline(db, organizationId, 'Contact')
      : await findPipelineOfStage(db, organizationId, current!.initial_stage_id);
  const hint = 'set pipelineId to a Contact pipeline';
  if (pipelineId !== undefined) values.pipeline_id = pipelineId;
  if (initialStage) {
    const stage = resolveStage('initialStage', initialStage, pipeline, hint);
    values.initial_stage = stage.raw;
    values.initial_stage_id = stage.id;
  }
  if (pipelineStage !== undefined) {
    const stage = resolveStage('pipelineStage', pipelineStage, pipeline, hint);
    values.pipeline_stage = stage.raw;
    values.pipeline_stage_id = stage.id;
  }
}

/**
 * Application side: applicationPipelineId, else (when an application is to be created) the
 * organization's default Application pipeline, which is then stored. Only looked at when
 * the input concerns it, so an unrelated PUT never picks up a pipeline made default since.
 */
async function resolveApplicationSide(db: Queryable, organizationId: string, input: ConfigurationInput, current: ConfigurationRow | undefined, values: ColumnValues) {
  const concerned =
    !current || input.createApplication !== undefined || input.applicationPipelineId !== undefined || input.applicationPipelineStage !== undefined;
  if (!concerned) return;
  const createApplication = input.createApplication ?? current?.create_application ?? false;
  const storedPipelineId = current?.application_pipeline_id ?? null;
  const chosenPipelineId = input.applicationPipelineId !== undefined ? input.applicationPipelineId : storedPipelineId;
  const pipeline = chosenPipelineId
    ? await pipelineOfType(db, organizationId, 'applicationPipelineId', chosenPipelineId, 'Application')
    : createApplication
      ? await findDefaultPipeline(db, organizationId, 'Application')
      : undefined;
  const pipelineId = pipeline?.id ?? null;
  const pipelineChanged = pipelineId !== storedPipelineId;
  if (pipelineChanged) values.application_pipeline_id = pipelineId;
  const stageValue = stageToResolve(input.applicationPipelineStage, current?.application_pipeline_stage, pipelineChanged);
  if (stageValue === undefined) return;
  const stage = resolveStage(
    'applicationPipelineStage',
    stageValue,
    pipeline,
    'set applicationPipelineId (or createApplication with a default Application pipeline)',
  );
  values.application_pipeline_stage = stage.raw;
  values.application_pipeline_stage_id = stage.id;
}

/**
 * Validates the input against the organization's prompts and pipelines and turns it into
 * column values (stages resolved to ids). `current` is the stored row on update; on create
 * every reference is resolved. Nothing is written here, so a refusal leaves no trace.
 */
async function resolveInput(
  db: Queryable,
  organizationId: string,
  input: ConfigurationInput,
  current: ConfigurationRow | undefined,
): Promise<Partial<ConfigurationValues>> {
  const values: ColumnValues = {};
  for (const [field, column] of Object.entries(PLAIN_FIELDS) as [keyof typeof PLAIN_FIELDS, keyof ConfigurationValues][]) {
    if (input[field] !== undefined) values[column] = input[field];
  }
  if (input.configurationName !== undefined) {
    const configurationName = input.configurationName.trim();
    if (!configurationName) throw invalidField('configurationName', 'must not be empty');
    values.configuration_name = configurationName;
  }
  if (input.inboundEmail !== undefined) values.inbound_email = input.inboundEmail?.trim() || null;
  if (input.defaultProcess !== undefined) {
    const prompt = isId(input.defaultProcess) ? await findPrompt(db, organizationId, input.defaultProcess) : undefined;
    if (!prompt) throw invalidField('defaultProcess', 'must be the _id of an existing prompt');
    values.default_process_id = prompt.id;
  }
  await resolveContactSide(db, organizationId, input, current, values);
  await resolveApplicationSide(db, organizationId, input, current, values);
  return values as Partial<ConfigurationValues>;
}

/** Maps the database's refusals of a write to the client's field errors. */
function refusedWrite(error: unknown, configurationName: string | undefined): never {
  if (isUniqueViolation(error, 'lead_management_configs_name_key')) {
    throw invalidField('configurationName', `"${configurationName}" is already taken`);
  }
  if (isUniqueViolation(error, 'lead_management_configs_inbound_email_key')) {
    throw invalidField('inboundEmail', 'is already used by another active configuration');
  }
  // a prompt, pipeline or stage was deleted between our check and the write
  if (isForeignKeyViolation(error)) throw badRequest('A referenced prompt, pipeline or stage no longer exists; try again');
  throw error;
}

export async function createConfiguration(ctx: AppContext, principal: Principal, input: CreateConfigurationInput): Promise<ConfigurationRow> {
  const resolved = await resolveInput(ctx.db, principal.organizationId, { ...CREATE_DEFAULTS, ...input }, undefined);
  const values = { ...UNSET_COLUMNS, ...resolved } as ConfigurationValues;
  const now = ctx.clock.now();
  return insertConfiguration(ctx.db, { id: newId(now), organizationId: principal.organizationId, userId: principal.userId, now, values }).catch(
    (error: unknown) => refusedWrite(error, values.configuration_name),
  );
}

/** The owner or an ADMIN of the organization may use a configuration; another organization's id is a missing one. */
async function ownedConfiguration(db: Queryable, principal: Principal, id: string, lock = false): Promise<ConfigurationRow> {
  const row = isId(id) ? await findConfiguration(db, principal.organizationId, id, lock) : undefined;
  if (!row) throw notFound(CONFIGURATION_NOT_FOUND);
  if (row.user_id !== principal.userId && principal.role !== 'ADMIN') throw forbidden('Permission denied');
  return row;
}

export function getConfiguration(ctx: AppContext, principal: Principal, id: string): Promise<ConfigurationRow> {
  return ownedConfiguration(ctx.db, principal, id);
}

/** A rep sees their own configurations; an ADMIN sees all of the organization's. */
export function listVisibleConfigurations(ctx: AppContext, principal: Principal): Promise<ConfigurationRow[]> {
  return listConfigurations(ctx.db, principal.organizationId, principal.role === 'ADMIN' ? undefined : principal.userId);
}

/**
 * Stages are resolved against the stored row (its pipeline, its stage values), so the row is
 * locked from that read to the write: a concurrent PUT then resolves against this one's
 * result instead of writing back stages of a pipeline this one moved away from.
 */
export function changeConfiguration(ctx: AppContext, principal: Principal, id: string, input: ConfigurationInput): Promise<ConfigurationRow> {
  return ctx.db.transaction(async (tx) => {
    const current = await ownedConfiguration(tx, principal, id, true);
    const changes = await resolveInput(tx, principal.organizationId, input, current);
    return updateConfiguration(tx, principal.organizationId, id, changes, ctx.clock.now()).catch((error: unknown) =>
      refusedWrite(error, changes.configuration_name),
    );
  });
}

export async function removeConfiguration(ctx: AppContext, principal: Principal, id: string): Promise<void> {
  await ownedConfiguration(ctx.db, principal, id);
  const deleted = await deleteConfiguration(ctx.db, principal.organizationId, id).catch((error: unknown) => {
    if (isForeignKeyViolation(error)) {
      throw badRequest('Lead management configuration has routed leads and cannot be deleted; set its status to inactive instead');
    }
    throw error;
  });
  if (!deleted) throw notFound(CONFIGURATION_NOT_FOUND);
}

/** What lead routing needs from an active configuration: every reference resolved to an id. */
export interface RoutingConfiguration {
  id: string;
  organizationId: string;
  /** the configuration's owner */
  userId: string;
  configurationName: string;
  source: string;
  inboundEmail: string | null;
  /** prompt that drives the AI on matched leads */
  defaultProcessId: string;
  isAutopilot: boolean;
  allowRecontact: boolean;
  starterMessage: string | null;
  costPerLead: number;
  /** the Contact pipeline new leads go into (pipelineId, else the default one at configuration time) */
  pipelineId: string;
  initialStageId: string;
  pipelineStageId: string | null;
  /** where a new lead is placed: pipelineStage when set, else initialStage */
  entryStageId: string;
  createApplication: boolean;
  applicationName: string | null;
  applicationStatus: string | null;
  applicationPipelineId: string | null;
  applicationPipelineStageId: string | null;
  forwardToOutreach: boolean;
  useWorkflowOnly: boolean;
}

function toRoutingConfiguration(row: ActiveConfigurationRow): RoutingConfiguration {
  return {
    id: row.id,
    organizationId: row.organization_id,
    userId: row.user_id,
    configurationName: row.configuration_name,
    source: row.source,
    inboundEmail: row.inbound_email,
    defaultProcessId: row.default_process_id,
    isAutopilot: row.is_autopilot,
    allowRecontact: row.allow_recontact,
    starterMessage: row.starter_message,
    costPerLead: row.cost_per_lead,
    pipelineId: row.contact_pipeline_id,
    initialStageId: row.initial_stage_id,
    pipelineStageId: row.pipeline_stage_id,
    entryStageId: row.pipeline_stage_id ?? row.initial_stage_id,
    createApplication: row.create_application,
    applicationName: row.application_name,
    applicationStatus: row.application_status,
    applicationPipelineId: row.application_pipeline_id,
    applicationPipelineStageId: row.application_pipeline_stage_id,
    forwardToOutreach: row.forward_to_outreach,
    useWorkflowOnly: row.use_workflow_only,
  };
}

/** An active configuration of the organization, for routing a lead; undefined when missing or inactive. */
export async function getActiveConfiguration(ctx: AppContext, organizationId: string, id: string): Promise<RoutingConfiguration | undefined> {
  const row = isId(id) ? await findActiveConfiguration(ctx.db, organizationId, id) : undefined;
  return row && toRoutingConfiguration(row);
}

/** The active configuration an inbound address belongs to, deployment-wide (case-insensitive). */
export async function findActiveConfigurationByInboundEmail(ctx: AppContext, address: string): Promise<RoutingConfiguration | undefined> {
  const row = await findActiveByInboundEmail(ctx.db, address);
  return row && toRoutingConfiguration(row);
}

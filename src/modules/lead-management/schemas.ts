import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';

export type ConfigurationStatus = 'active' | 'inactive';

// Plain JSON-Schema shapes (a type list, an enum) rather than unions, so Ajv's error for a
// wrong value is one message that names the field ("status must be one of: active, inactive").
const NullableString = (options: { maxLength: number; format?: string; description?: string }) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], ...options });
const Status = Type.Unsafe<ConfigurationStatus>({
  type: 'string',
  enum: ['active', 'inactive'],
  description: 'Whether this config is currently routing leads.',
});
const Flag = (description: string) => Type.Boolean({ description });

const fields = {
  configurationName: Type.String({ minLength: 1, maxLength: 200, description: 'Internal identifier, unique per user (case-insensitive).' }),
  name: NullableString({ maxLength: 200, description: 'Human-friendly display name surfaced in the UI.' }),
  description: NullableString({ maxLength: 5000, description: 'Free-form notes describing this lead routing setup.' }),
  source: Type.String({ maxLength: 200, description: 'Lead source label attached to contacts matched by this config.' }),
  inboundEmail: NullableString({
    maxLength: 320,
    format: 'email',
    description: 'Inbox address that ingests external emails for this configuration; unique among active configurations.',
  }),
  initialStage: Type.String({ minLength: 1, maxLength: 200, description: 'Pipeline stage `_id` or name (case-insensitive) new leads enter.' }),
  defaultProcess: Type.String({ minLength: 1, maxLength: 64, description: 'Prompt `_id` used to drive the AI on matched leads.' }),
  isAutopilot: Flag('When true, the AI runs autonomously without rep approval on new leads.'),
  allowRecontact: Flag('When true, allow re-contacting leads already in the system.'),
  starterMessage: NullableString({ maxLength: 5000, description: 'First outbound message sent on lead match; supports placeholders.' }),
  costPerLead: Type.Number({ minimum: 0, description: 'Cost (USD) attributed to each lead.' }),
  status: Status,
  pipelineId: NullableString({ maxLength: 64, description: "Contact pipeline `_id`; the organization's default Contact pipeline when unset." }),
  pipelineStage: NullableString({ maxLength: 200, description: 'Stage `_id` or name in that pipeline.' }),
  createApplication: Flag('When true, also creates an `Application` alongside the contact.'),
  applicationName: NullableString({ maxLength: 200, description: 'Display name for the auto-created application.' }),
  applicationStatus: NullableString({ maxLength: 200, description: 'Initial status for the auto-created application.' }),
  applicationPipelineId: NullableString({
    maxLength: 64,
    description: "Application pipeline `_id`; with createApplication and none given, the organization's default Application pipeline.",
  }),
  applicationPipelineStage: NullableString({ maxLength: 200, description: 'Stage `_id` or name in the application pipeline.' }),
  forwardToOutreach: Flag('When true, forwards leads to the outreach trigger pipeline.'),
  useWorkflowOnly: Flag('When true, only execute matching workflows; skip the legacy autopilot path.'),
};

// The seeds allow additional properties: unknown fields are accepted and ignored, known ones are strictly typed.
export const UpdateLeadManagementBody = Type.Partial(Type.Object(fields), { additionalProperties: true });
/** The documented defaults of POST /api/lead-management: shown in the OpenAPI document and applied on create. */
export const CREATE_DEFAULTS = {
  source: 'Unassigned',
  isAutopilot: false,
  allowRecontact: false,
  costPerLead: 0,
  status: 'active',
  createApplication: false,
  forwardToOutreach: true,
  useWorkflowOnly: false,
} as const;

const withDefault = <T extends TSchema>(schema: T, value: unknown): T => ({ ...schema, default: value });

export const CreateLeadManagementBody = Type.Object(
  {
    ...UpdateLeadManagementBody.properties,
    configurationName: fields.configurationName,
    initialStage: fields.initialStage,
    defaultProcess: fields.defaultProcess,
    source: Type.Optional(withDefault(fields.source, CREATE_DEFAULTS.source)),
    isAutopilot: Type.Optional(withDefault(fields.isAutopilot, CREATE_DEFAULTS.isAutopilot)),
    allowRecontact: Type.Optional(withDefault(fields.allowRecontact, CREATE_DEFAULTS.allowRecontact)),
    costPerLead: Type.Optional(withDefault(fields.costPerLead, CREATE_DEFAULTS.costPerLead)),
    status: Type.Optional(withDefault(fields.status, CREATE_DEFAULTS.status)),
    createApplication: Type.Optional(withDefault(fields.createApplication, CREATE_DEFAULTS.createApplication)),
    forwardToOutreach: Type.Optional(withDefault(fields.forwardToOutreach, CREATE_DEFAULTS.forwardToOutreach)),
    useWorkflowOnly: Type.Optional(withDefault(fields.useWorkflowOnly, CREATE_DEFAULTS.useWorkflowOnly)),
  },
  { additionalProperties: true },
);
export type ConfigurationInput = Static<typeof UpdateLeadManagementBody>;
export type CreateConfigurationInput = Static<typeof CreateLeadManagementBody>;

export const LeadManagementDto = Type.Object(
  {
    _id: Type.String(),
    organizationId: Type.String(),
    userId: Type.String(),
    configurationName: Type.String(),
    name: Nullable(Type.String()),
    description: Nullable(Type.String()),
    source: Type.String(),
    inboundEmail: Nullable(Type.String()),
    initialStage: Type.String(),
    initialStageId: Type.String({ description: 'The stage `initialStage` resolved to' }),
    defaultProcess: Type.String(),
    isAutopilot: Type.Boolean(),
    allowRecontact: Type.Boolean(),
    starterMessage: Nullable(Type.String()),
    costPerLead: Type.Number({ minimum: 0 }),
    status: Status,
    pipelineId: Nullable(Type.String()),
    pipelineStage: Nullable(Type.String()),
    pipelineStageId: Nullable(Type.String({ description: 'The stage `pipelineStage` resolved to' })),
    createApplication: Type.Boolean(),
    applicationName: Nullable(Type.String()),
    applicationStatus: Nullable(Type.String()),
    applicationPipelineId: Nullable(Type.String()),
    applicationPipelineStage: Nullable(Type.String()),
    applicationPipelineStageId: Nullable(Type.String({ description: 'The stage `applicationPipelineStage` resolved to' })),
    forwardToOutreach: Type.Boolean(),
    useWorkflowOnly: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: true },
);

export const LeadManagementResponse = Envelope(LeadManagementDto);
export const LeadManagementListResponse = Envelope(Type.Array(LeadManagementDto));
export const DeletedLeadManagementResponse = Envelope(Type.Object({ _id: Type.String() }));

/**
 * Follow-up cadence rules as pure functions (no I/O), shared by every surface that updates a
 * lead (native PATCH /api/leads/{id}, the Apten dialect) and by the dispatcher.
 *
 * Stable interface:
 * - `STOPPED` (-1), `LONG_TERM` (-2): the special `followUpStep` values.
 * - `FollowUpConfigSchema`: TypeBox schema of a `followUpConfig` (steps keyed "1", "2", …),
 *   embeddable in a route's body schema.
 * - `validateFollowUpConfig(value, context, field?)`: the schema plus the cross-field rules
 *   (voicemailEnabled only on call steps, strategyIds only when the lead's
 *   useStrategiesForFollowUps is true, call needs voice on the lead's agent, email needs
 *   email on the agent and on the organization). Returns the typed config or throws a 400
 *   AppError whose issues name the field (`followUpConfig.2.channel`).
 * - `followUpConfigIssues(...)`: the same checks, returning the issues instead of throwing.
 * - `planFollowUpUpdate(input)`: seed 002's scheduling rules. Given the lead's current step
 *   and own config and the patch, returns the follow-up columns to write, or undefined when
 *   the patch touches neither followUpStep nor followUpConfig. Throws a 400 AppError when a
 *   positive step does not exist in the cadence that will apply.
 * - `resolveCadence(own, agent, organization)`: the effective cadence (lead's own config,
 *   else its agent's, else the organization's, else `BUILT_IN_FOLLOW_UP_CONFIG`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { AppError, badRequest, toAppError, type FieldIssue } from '../../http/errors.ts';

export const STOPPED = -1;
export const LONG_TERM = -2;
export const DEFAULT_LONG_TERM_INTERVAL_HOURS = 720;

const HOUR_MS = 3_600_000;
/** A step's longest wait, a century: every timer a step sets stays a date PostgreSQL and JSON can hold. */
export const MAX_STEP_HOURS = 876_000;
/** The last instant a timer may hold (ISO 8601 and PostgreSQL both take it as written). */
const LATEST_TIMER_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

// literals (not an Unsafe enum) so every TypeBox-based type provider infers the union
export const FollowUpChannelSchema = Type.Union([Type.Literal('text'), Type.Literal('call'), Type.Literal('email')]);
export type FollowUpChannel = Static<typeof FollowUpChannelSchema>;

export const FollowUpStepSchema = Type.Object(
  {
    hours: Type.Number({
      exclusiveMinimum: 0,
      maximum: MAX_STEP_HOURS,
      description: 'hours after the previous touch (or the reset) when this step runs (at most 876000, a century)',
    }),
    channel: FollowUpChannelSchema,
    voicemailEnabled: Type.Optional(Type.Boolean({ description: 'call steps only: leave a voicemail when the call is not answered' })),
    strategyIds: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100 })], {
        description: '"auto", a strategy id, or a list of ids; needs useStrategiesForFollowUps on the lead',
      }),
    ),
    template: Type.Optional(
      Type.String({ maxLength: 5000, description: 'message text with {{firstName}}, {{lastName}}, {{name}} and additionalInfo placeholders' }),
    ),
  },
  { additionalProperties: false },
);
export type FollowUpStep = Static<typeof FollowUpStepSchema>;

export const FollowUpConfigSchema = Type.Record(Type.String({ pattern: '^[1-9][0-9]{0,5}$' }), FollowUpStepSchema, {
  minProperties: 1,
  additionalProperties: false,
  description: 'steps keyed "1", "2", …: {hours, channel, voicemailEnabled?, strategyIds?, template?}',
});
export type FollowUpConfig = Record<string, FollowUpStep>;

/** Used when neither the lead, its agent nor its organization defines a cadence. */
export const BUILT_IN_FOLLOW_UP_CONFIG: FollowUpConfig = {
  '1': { hours: 24, channel: 'text' },
  '2': { hours: 72, channel: 'text' },
  '3': { hours: 168, channel: 'text' },
};

/** What the cross-field rules need to know about the lead, its agent and its organization. */
export interface FollowUpConfigContext {
  useStrategiesForFollowUps: boolean;
  agentVoiceEnabled: boolean;
  agentEmailEnabled: boolean;
  organizationEmailEnabled: boolean;
}

// Same options as request bodies: no coercion, every error reported.
const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

/** Schema errors, with paths rooted at `field` (the wrapper object gives toAppError the prefix). */
function schemaIssues(value: unknown, field: string): FieldIssue[] {
  let validate = validators.get(field);
  if (!validate) {
    validate = ajv.compile(Type.Object({ [field]: FollowUpConfigSchema }));
    validators.set(field, validate);
  }
  if (validate({ [field]: value })) return [];
  return toAppError({ validation: validate.errors ?? [] }).issues;
}

function ruleIssues(config: FollowUpConfig, context: FollowUpConfigContext, field: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const issue = (path: string, rule: string) => issues.push({ field: path, message: `${path} ${rule}` });
  for (const key of stepKeys(config)) {
    const step = config[String(key)];
    const path = `${field}.${key}`;
    if (step.voicemailEnabled !== undefined && step.channel !== 'call') {
      issue(`${path}.voicemailEnabled`, 'is only valid for the call channel');
    }
    if (step.strategyIds !== undefined && !context.useStrategiesForFollowUps) {
      issue(`${path}.strategyIds`, 'requires useStrategiesForFollowUps to be true on the lead');
    }
    if (step.channel === 'call' && !context.agentVoiceEnabled) {
      issue(`${path}.channel`, "call requires voice to be enabled on the lead's agent");
    }
    if (step.channel === 'email' && !(context.agentEmailEnabled && context.organizationEmailEnabled)) {
      issue(`${path}.channel`, "email requires email to be enabled on the lead's agent and the organization");
    }
  }
  return issues;
}

export function followUpConfigIssues(value: unknown, context: FollowUpConfigContext, field = 'followUpConfig'): FieldIssue[] {
  const issues = schemaIssues(value, field);
  return issues.length > 0 ? issues : ruleIssues(value as FollowUpConfig, context, field);
}

export function validateFollowUpConfig(value: unknown, context: FollowUpConfigContext, field = 'followUpConfig'): FollowUpConfig {
  const issues = followUpConfigIssues(value, context, field);
  if (issues.length > 0) throw badRequest(issues.map((i) => i.message).join('; '), issues);
  return value as FollowUpConfig;
}

/** The config's step numbers in ascending order. */
export function stepKeys(config: FollowUpConfig): number[] {
  return Object.keys(config)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The step that runs after `step`, or LONG_TERM after the last one. */
export function stepAfter(config: FollowUpConfig, step: number): number {
  return stepKeys(config).find((key) => key > step) ?? LONG_TERM;
}

export function firstStep(config: FollowUpConfig): number {
  return stepKeys(config)[0] ?? LONG_TERM;
}

/**
 * When `step` is due if scheduled at `now`: null for STOPPED, long-term interval for LONG_TERM.
 * Throws a RangeError for a time no timer can hold (only a cadence stored before steps had a
 * maximum can ask for one).
 */
export function dueAt(config: FollowUpConfig, step: number, now: Date, longTermIntervalHours: number): Date | null {
  if (step === STOPPED) return null;
  const hours = step === LONG_TERM ? longTermIntervalHours : config[String(step)].hours;
  const at = now.getTime() + hours * HOUR_MS;
  if (!(at <= LATEST_TIMER_MS)) throw new RangeError(`step ${step} waits ${hours} hours: beyond any time a timer can hold`);
  return new Date(at);
}

export function resolveCadence(
  own: FollowUpConfig | null | undefined,
  agent: FollowUpConfig | null | undefined,
  organization: FollowUpConfig | null | undefined,
): FollowUpConfig {
  return own ?? agent ?? organization ?? BUILT_IN_FOLLOW_UP_CONFIG;
}

export interface FollowUpPlanInput {
  /** the lead's follow_up_step (null when no cadence has started) */
  currentStep: number | null;
  /** the lead's own follow_up_config (null when it inherits one) */
  currentConfig: FollowUpConfig | null;
  /** followUpStep from the request, when given */
  patchStep?: number;
  /** followUpConfig from the request, when given (null clears the lead's own config) */
  patchConfig?: FollowUpConfig | null;
  now: Date;
  /** the cadence the lead inherits when it has no config of its own: its agent's, else the organization's, else the built-in one */
  effectiveConfig: FollowUpConfig;
  /** the organization's long_term_interval_hours (720 when omitted) */
  longTermIntervalHours?: number;
}

/** The follow-up columns to write on the lead. */
export interface FollowUpPlan {
  followUpStep: number | null;
  followUpConfig: FollowUpConfig | null;
  nextFollowUpAt: Date | null;
  /** a new schedule clears any business-hours deferral of the old one */
  followUpDeferredUntil: null;
}

function stepIssue(field: string, message: string): AppError {
  return badRequest(`${field} ${message}`, [{ field, message: `${field} ${message}` }]);
}

/**
 * Seed 002: updating followUpStep and/or followUpConfig resets the timer to now + hours of
 * the step that will run. Step only: schedule that step. Config only: keep the current step,
 * re-timed with the new config. Both: full reset with the new config at the given step.
 */
export function planFollowUpUpdate(input: FollowUpPlanInput): FollowUpPlan | undefined {
  const { patchStep, patchConfig, now } = input;
  if (patchStep === undefined && patchConfig === undefined) return undefined;
  const ownConfig = patchConfig === undefined ? input.currentConfig : patchConfig;
  const cadence = ownConfig ?? input.effectiveConfig;
  const longTerm = input.longTermIntervalHours ?? DEFAULT_LONG_TERM_INTERVAL_HOURS;

  let step: number;
  let field: string;
  if (patchStep !== undefined) {
    step = patchStep;
    field = 'followUpStep';
  } else {
    // a lead whose cadence never started begins at the first step of the new config
    step = input.currentStep ?? firstStep(cadence);
    field = 'followUpConfig';
  }
  if (!Number.isInteger(step) || (step <= 0 && step !== STOPPED && step !== LONG_TERM)) {
    throw stepIssue('followUpStep', 'must be a positive step, -1 (STOPPED) or -2 (LONG_TERM)');
  }
  if (step > 0 && cadence[String(step)] === undefined) {
    throw field === 'followUpStep'
      ? stepIssue(field, `${step} does not exist in the follow-up config`)
      : stepIssue(field, `does not contain the lead's current step ${step}`);
  }
  return {
    followUpStep: step,
    followUpConfig: ownConfig,
    nextFollowUpAt: dueAt(cadence, step, now, longTerm),
    followUpDeferredUntil: null,
  };
}

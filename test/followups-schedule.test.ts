import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../src/http/errors.ts';
import {
  BUILT_IN_FOLLOW_UP_CONFIG,
  LONG_TERM,
  STOPPED,
  followUpConfigIssues,
  planFollowUpUpdate,
  resolveCadence,
  stepAfter,
  validateFollowUpConfig,
  type FollowUpConfig,
} from '../src/modules/followups/schedule.ts';

const now = new Date('2026-06-01T12:00:00.000Z');
const hoursLater = (hours: number) => new Date(now.getTime() + hours * 3_600_000);
const everything = { useStrategiesForFollowUps: true, agentVoiceEnabled: true, agentEmailEnabled: true, organizationEmailEnabled: true };
const config: FollowUpConfig = { '1': { hours: 2, channel: 'text' }, '2': { hours: 24, channel: 'call' }, '3': { hours: 48, channel: 'email' } };
const inherited: FollowUpConfig = { '1': { hours: 5, channel: 'text' }, '2': { hours: 50, channel: 'text' } };

function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.status, 400);
    return error.issues.map((i) => i.field);
  }
  assert.fail('expected a 400');
}

describe('followUpConfig validation', () => {
  test('accepts steps with hours and channel, voicemail on calls and strategies when enabled', () => {
    const value = { '1': { hours: 1.5, channel: 'text', strategyIds: 'auto' }, '2': { hours: 3, channel: 'call', voicemailEnabled: true, strategyIds: ['a', 'b'] } };
    assert.deepEqual(validateFollowUpConfig(value, everything), value);
  });

  test('names the field of every schema violation', () => {
    const issues = followUpConfigIssues({ '1': { hours: 0, channel: 'fax' }, '2': { channel: 'text' }, x: { hours: 1, channel: 'text' } }, everything);
    const fields = issues.map((i) => i.field).sort();
    assert.deepEqual(fields, ['followUpConfig.1.channel', 'followUpConfig.1.hours', 'followUpConfig.2.hours', 'followUpConfig.x']);
    assert.match(issues.find((i) => i.field === 'followUpConfig.1.channel')!.message, /text, call, email/);
  });

  test('refuses an empty config, a non-object and unknown step properties', () => {
    assert.equal(followUpConfigIssues({}, everything).length, 1);
    assert.equal(followUpConfigIssues('soon', everything).length, 1);
    assert.deepEqual(followUpConfigIssues({ '1': { hours: 1, channel: 'text', colour: 'red' } }, everything).map((i) => i.field), ['followUpConfig.1.colour']);
  });

  test('voicemailEnabled is only valid on call steps', () => {
    assert.deepEqual(fieldsOf(() => validateFollowUpConfig({ '1': { hours: 1, channel: 'text', voicemailEnabled: true } }, everything)), ['followUpConfig.1.voicemailEnabled']);
  });

  test('strategyIds needs useStrategiesForFollowUps on the lead', () => {
    const context = { ...everything, useStrategiesForFollowUps: false };
    assert.deepEqual(fieldsOf(() => validateFollowUpConfig({ '1': { hours: 1, channel: 'text', strategyIds: 'auto' } }, context)), ['followUpConfig.1.strategyIds']);
  });

  test('call needs voice on the agent; email needs email on the agent and on the organization', () => {
    assert.deepEqual(fieldsOf(() => validateFollowUpConfig(config, { ...everything, agentVoiceEnabled: false })), ['followUpConfig.2.channel']);
    assert.deepEqual(fieldsOf(() => validateFollowUpConfig(config, { ...everything, agentEmailEnabled: false })), ['followUpConfig.3.channel']);
    assert.deepEqual(fieldsOf(() => validateFollowUpConfig(config, { ...everything, organizationEmailEnabled: false })), ['followUpConfig.3.channel']);
  });

  test('the field prefix follows the caller', () => {
    assert.deepEqual(followUpConfigIssues({ '1': { hours: -1, channel: 'text' } }, everything, 'steps').map((i) => i.field), ['steps.1.hours']);
  });
});

describe('planFollowUpUpdate (seed 002)', () => {
  const base = { currentStep: 2, currentConfig: config, now, effectiveConfig: inherited, longTermIntervalHours: 720 };

  test('nothing to plan when neither the step nor the config is patched', () => {
    assert.equal(planFollowUpUpdate(base), undefined);
  });

  test('step only: schedules that step at now + its hours', () => {
    assert.deepEqual(planFollowUpUpdate({ ...base, patchStep: 3 }), { followUpStep: 3, followUpConfig: config, nextFollowUpAt: hoursLater(48), followUpDeferredUntil: null });
  });

  test('config only: keeps the current step, re-timed with the new config', () => {
    const next: FollowUpConfig = { '1': { hours: 1, channel: 'text' }, '2': { hours: 7, channel: 'text' } };
    assert.deepEqual(planFollowUpUpdate({ ...base, patchConfig: next }), { followUpStep: 2, followUpConfig: next, nextFollowUpAt: hoursLater(7), followUpDeferredUntil: null });
  });

  test('both: full reset with the new config at the given step', () => {
    const next: FollowUpConfig = { '1': { hours: 1, channel: 'text' }, '4': { hours: 9, channel: 'text' } };
    assert.deepEqual(planFollowUpUpdate({ ...base, patchStep: 1, patchConfig: next })?.nextFollowUpAt, hoursLater(1));
    assert.deepEqual(planFollowUpUpdate({ ...base, patchStep: 4, patchConfig: next })?.nextFollowUpAt, hoursLater(9));
  });

  test('-1 STOPPED clears the timer; -2 LONG_TERM waits the long-term interval', () => {
    assert.equal(planFollowUpUpdate({ ...base, patchStep: STOPPED })?.nextFollowUpAt, null);
    assert.deepEqual(planFollowUpUpdate({ ...base, patchStep: LONG_TERM, longTermIntervalHours: 100 })?.nextFollowUpAt, hoursLater(100));
    assert.deepEqual(planFollowUpUpdate({ ...base, patchStep: LONG_TERM, longTermIntervalHours: undefined })?.nextFollowUpAt, hoursLater(720));
  });

  test('config only on a stopped or long-term lead keeps that state', () => {
    assert.equal(planFollowUpUpdate({ ...base, currentStep: STOPPED, patchConfig: config })?.nextFollowUpAt, null);
    assert.deepEqual(planFollowUpUpdate({ ...base, currentStep: LONG_TERM, patchConfig: config })?.nextFollowUpAt, hoursLater(720));
  });

  test('a lead without a step starts the new config at its first step', () => {
    assert.deepEqual(planFollowUpUpdate({ ...base, currentStep: null, patchConfig: config })?.followUpStep, 1);
  });

  test('a positive step must exist in the cadence that will apply', () => {
    assert.deepEqual(fieldsOf(() => planFollowUpUpdate({ ...base, patchStep: 7 })), ['followUpStep']);
    assert.deepEqual(fieldsOf(() => planFollowUpUpdate({ ...base, patchConfig: { '1': { hours: 1, channel: 'text' } } })), ['followUpConfig']);
    assert.deepEqual(fieldsOf(() => planFollowUpUpdate({ ...base, patchStep: 0 })), ['followUpStep']);
    assert.deepEqual(fieldsOf(() => planFollowUpUpdate({ ...base, patchStep: -3 })), ['followUpStep']);
  });

  test('without a config of its own the lead follows the inherited cadence', () => {
    assert.deepEqual(planFollowUpUpdate({ ...base, currentConfig: null, patchStep: 2 })?.nextFollowUpAt, hoursLater(50));
    assert.deepEqual(fieldsOf(() => planFollowUpUpdate({ ...base, currentConfig: null, patchStep: 3 })), ['followUpStep']);
    assert.deepEqual(planFollowUpUpdate({ ...base, patchConfig: null })?.nextFollowUpAt, hoursLater(50));
  });
});

describe('cadence', () => {
  test('lead config, else agent, else organization, else built-in', () => {
    assert.equal(resolveCadence(config, inherited, inherited), config);
    assert.equal(resolveCadence(null, inherited, config), inherited);
    assert.equal(resolveCadence(null, null, config), config);
    assert.equal(resolveCadence(null, undefined, null), BUILT_IN_FOLLOW_UP_CONFIG);
  });

  test('the step after the last one is LONG_TERM, gaps in keys are skipped', () => {
    const gappy: FollowUpConfig = { '1': { hours: 1, channel: 'text' }, '5': { hours: 1, channel: 'text' } };
    assert.equal(stepAfter(gappy, 1), 5);
    assert.equal(stepAfter(gappy, 5), LONG_TERM);
  });
});

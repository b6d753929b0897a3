import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderTemplate } from '../src/lib/template.ts';
import { isValidTwilioSignature, twilioSignature } from '../src/modules/channels/signature.ts';
import { twilioRequestFields } from '../src/modules/channels/twilio.ts';
import { chooseStrategy } from '../src/modules/strategies/rules.ts';
import { callRetryKey, isOptOut, statusFromCarrier } from '../src/modules/webhooks-twilio/rules.ts';
import { backoffMs } from '../src/worker/delivery.ts';

const lead = { first_name: 'Ada', last_name: 'Lovelace', name: null, additional_info: { company: 'Engines', seats: 3, nothing: null, nested: { a: 1 } } };

describe('renderTemplate', () => {
  test('fills firstName, lastName, name and additionalInfo keys; missing renders empty', () => {
    assert.equal(renderTemplate('{{firstName}} {{ lastName }} ({{name}}) at {{company}} x{{seats}}', lead), 'Ada Lovelace (Ada Lovelace) at Engines x3');
    assert.equal(renderTemplate('[{{unknown}}][{{nothing}}]', lead), '[][]');
    assert.equal(renderTemplate('{{nested}}', lead), '{"a":1}');
    assert.equal(renderTemplate('Hi {{firstName}}', { first_name: null, last_name: null, name: null, additional_info: null }), 'Hi ');
    assert.equal(renderTemplate('{{name}}', { ...lead, name: 'Countess' }), 'Countess');
  });

  test('additionalInfo cannot shadow the built-in names, and text without placeholders is unchanged', () => {
    assert.equal(renderTemplate('{{firstName}}', { ...lead, additional_info: { firstName: 'Eve' } }), 'Ada');
    assert.equal(renderTemplate('50% off {not a placeholder}', lead), '50% off {not a placeholder}');
  });
});

describe('strategy choice', () => {
  const available = ['a', 'b', 'c'];
  test('"auto" takes the least used, ties to the earliest', () => {
    assert.equal(chooseStrategy('auto', available, new Map()), 'a');
    assert.equal(chooseStrategy('auto', available, new Map([['a', 1]])), 'b');
    assert.equal(chooseStrategy('auto', available, new Map([['a', 2], ['b', 1], ['c', 1]])), 'b');
  });
  test('a list is taken in its own order; unknown ids are ignored; nothing available gives null', () => {
    assert.equal(chooseStrategy(['c', 'b'], available, new Map()), 'c');
    assert.equal(chooseStrategy(['zz', 'b'], available, new Map()), 'b');
    assert.equal(chooseStrategy('b', available, new Map([['b', 9]])), 'b');
    assert.equal(chooseStrategy('zz', available, new Map()), null);
    assert.equal(chooseStrategy('auto', [], new Map()), null);
  });
});

describe('carrier rules', () => {
  test('opt-out keywords, whole message only, any case', () => {
    for (const word of ['STOP', 'stop', ' StopAll ', 'UNSUBSCRIBE', 'cancel', 'END', 'quit!']) assert.equal(isOptOut(word), true, word);
    for (const text of ['stop it please', 'STOPPED', 'the end is near', '']) assert.equal(isOptOut(text), false, text);
  });

  test('carrier statuses map onto message statuses; intermediate ones change nothing', () => {
    assert.equal(statusFromCarrier({ MessageSid: 'SM1', MessageStatus: 'delivered' }), 'delivered');
    assert.equal(statusFromCarrier({ MessageSid: 'SM1', MessageStatus: 'failed' }), 'undelivered');
    assert.equal(statusFromCarrier({ SmsSid: 'SM1', SmsStatus: 'undelivered' }), 'undelivered');
    assert.equal(statusFromCarrier({ MessageSid: 'SM1', MessageStatus: 'queued' }), undefined);
    assert.equal(statusFromCarrier({ CallSid: 'CA1', CallStatus: 'completed' }), 'delivered');
    for (const unanswered of ['busy', 'no-answer', 'failed', 'canceled']) assert.equal(statusFromCarrier({ CallSid: 'CA1', CallStatus: unanswered }), 'no_answer');
    assert.equal(statusFromCarrier({ CallSid: 'CA1', CallStatus: 'ringing' }), undefined);
  });

  test('call retries share their root key', () => {
    assert.equal(callRetryKey('followup:x:1:t', 2), 'followup:x:1:t:call-retry:2');
    assert.equal(callRetryKey('followup:x:1:t:call-retry:2', 3), 'followup:x:1:t:call-retry:3');
  });

  test('Twilio signatures: HMAC-SHA1 over the URL and the sorted parameters', () => {
    // the example from Twilio's signature-validation snippets (TwilioDevEd/api-snippets)
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = Object.entries({ CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' });
    assert.equal(twilioSignature('12345', url, params), 'GvWf1cFY/Q7PnoempGyD5oXAezc=');
    assert.equal(isValidTwilioSignature('12345', url, params, 'GvWf1cFY/Q7PnoempGyD5oXAezc='), true);
    const tampered = params.map(([name, value]) => [name, name === 'Digits' ? '9' : value] as const);
    assert.equal(isValidTwilioSignature('12345', url, tampered, 'GvWf1cFY/Q7PnoempGyD5oXAezc='), false);
    assert.equal(isValidTwilioSignature('other', url, params, 'GvWf1cFY/Q7PnoempGyD5oXAezc='), false);
    assert.equal(isValidTwilioSignature('12345', url, params, undefined), false);
    // a repeated name: twilio-python's test_compute_signature_duplicate_multi_dict ("Sid" sorts before "SidAccount")
    const repeated: [string, string][] = [['Sid', 'CA123'], ['SidAccount', 'AC123'], ['Digits', '5678'], ['Digits', '1234']];
    assert.equal(twilioSignature('12345', url, repeated), 'IK+Dwps556ElfBT0I3Rgjkr1wJU=');
    assert.equal(isValidTwilioSignature('12345', url, repeated.slice(0, 3), 'IK+Dwps556ElfBT0I3Rgjkr1wJU='), false);
  });

  test('call requests carry TwiML, and answering-machine detection only for voicemail', () => {
    const settings = { accountSid: 'AC1', authToken: 't', from: '+1555', baseUrl: 'http://x' };
    const call = { messageId: 'm', idempotencyKey: 'k', channel: 'call' as const, to: '+1666', subject: null, content: 'Hi & bye', voicemailEnabled: false };
    assert.deepEqual(twilioRequestFields(call, settings), { To: '+1666', From: '+1555', Twiml: '<Response><Say>Hi &amp; bye</Say></Response>' });
    assert.equal(twilioRequestFields({ ...call, voicemailEnabled: true }, settings).MachineDetection, 'DetectMessageEnd');
    assert.deepEqual(twilioRequestFields({ ...call, channel: 'text' }, { ...settings, statusCallbackUrl: 'https://h/cb' }), { To: '+1666', From: '+1555', StatusCallback: 'https://h/cb?message=m', Body: 'Hi & bye' });
  });
});

describe('delivery backoff', () => {
  test('doubles from 30 seconds and stops growing at an hour', () => {
    assert.deepEqual([1, 2, 3, 4].map(backoffMs), [30_000, 60_000, 120_000, 240_000]);
    assert.equal(backoffMs(20), 3_600_000);
  });
});

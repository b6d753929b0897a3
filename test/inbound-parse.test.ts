import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contactFromFields } from '../src/modules/intake/contact.ts';
import { keyValueLines, parseLeadEmail } from '../src/modules/inbound/parse.ts';

describe('contact fields', () => {
  test('known keys in any spelling map onto the contact; the rest become custom fields', () => {
    const contact = contactFromFields([
      ['First Name', ' Ada '],
      ['LAST_NAME', 'Lovelace'],
      ['E-mail', 'ada@example.com'],
      ['Mobile', '(212) 555-0123'],
      ['Budget', '20k'],
      ['empty', ''],
    ]);
    assert.deepEqual(contact, {
      firstName: 'Ada',
      lastName: 'Lovelace',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '(212) 555-0123',
      customFields: { Budget: '20k' },
    });
  });

  test('a full name alone is split into first and last', () => {
    const contact = contactFromFields([['name', 'Grace Brewster Hopper']]);
    assert.equal(contact.firstName, 'Grace');
    assert.equal(contact.lastName, 'Brewster Hopper');
  });
});

describe('lead-notification emails', () => {
  test('Key: value lines are read; a bare URL and forwarded headers are not', () => {
    const pairs = keyValueLines('New lead!\nName: Ada\nSee https://example.com/x\nLink: https://example.com/y\nFrom: someone@x.com\nBudget: 20k');
    assert.deepEqual(pairs, [
      ['Name', 'Ada'],
      ['Link', 'https://example.com/y'],
      ['Budget', '20k'],
    ]);
  });

  test('body pairs win; Reply-To fills the email, then the sender', async () => {
    const raw = [
      'From: Zillow Leads <leads@zillow.example>',
      'Reply-To: Grace Hopper <grace@example.com>',
      'To: inbox@acme.example',
      'Subject: New lead',
      'Message-ID: <abc@zillow.example>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Phone: +1 212 555 0199',
      'Property: 12 Elm St',
      '',
    ].join('\r\n');
    const parsed = await parseLeadEmail(raw);
    assert.equal(parsed.subject, 'New lead');
    assert.equal(parsed.messageId, '<abc@zillow.example>');
    assert.deepEqual(parsed.contact, {
      phone: '+1 212 555 0199',
      email: 'grace@example.com',
      name: 'Grace Hopper',
      firstName: 'Grace',
      lastName: 'Hopper',
      customFields: { Property: '12 Elm St' },
    });
  });

  test('an HTML-only email is read through its text', async () => {
    const raw = [
      'From: ada@example.com',
      'To: inbox@acme.example',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>First Name: Ada</p><p>Last Name: Lovelace</p>',
      '',
    ].join('\r\n');
    const parsed = await parseLeadEmail(raw);
    assert.equal(parsed.contact.firstName, 'Ada');
    assert.equal(parsed.contact.lastName, 'Lovelace');
    assert.equal(parsed.contact.email, 'ada@example.com');
  });
});

describe('what a lead email holds, however it is written', () => {
  test('a lone CR or a Unicode line separator ends a field as a line feed does', () => {
    for (const eol of ['\r', '\u2028', '\u2029', '\r\n', '\n']) {
      assert.deepEqual(keyValueLines(`Name: John Smith${eol}Phone: +1 212 555 0100${eol}Email: john@example.com`), [
        ['Name', 'John Smith'],
        ['Phone', '+1 212 555 0100'],
        ['Email', 'john@example.com'],
      ], JSON.stringify(eol));
    }
  });

  test('a NUL character is dropped wherever the mail holds one (encoded in the sender name, the subject, the text)', async () => {
    const parsed = await parseLeadEmail(
      ['From: =?UTF-8?Q?Jo=00hn_Smith?= <john@example.com>', 'To: leads@in.example.com', 'Subject: =?UTF-8?Q?new=00lead?=', 'Content-Transfer-Encoding: quoted-printable', '', 'Note: a=00b'].join('\r\n'),
    );
    assert.equal(parsed.contact.name, 'John Smith');
    assert.equal(parsed.subject, 'newlead');
    assert.deepEqual(parsed.contact.customFields, { Note: 'ab' });
    assert.ok(!JSON.stringify(parsed).includes('\\u0000'));
  });
});

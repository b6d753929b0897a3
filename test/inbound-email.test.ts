import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import type { Database } from '../src/db/database.ts';
import { startInboundSmtp, type InboundSmtp } from '../src/modules/inbound/smtp.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { approvalsOf, createConfiguration, leadRow, messagesOf } from './support/intake.ts';

let app: TestApp;
let fake: FakeOpenAI;
let smtp: InboundSmtp;
let admin: Account;
let apiKey: string;

before(async () => {
  fake = await startFakeOpenAI();
  app = await startApp({ openai: { baseUrl: fake.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 300 } });
  smtp = await startInboundSmtp(app.ctx, { host: '127.0.0.1', port: 0 });
  admin = await registerOrganization(app);
  apiKey = await apiKeyFor(app, admin);
});
after(async () => {
  await smtp.stop();
  await app.close();
  await fake.close();
});

const transportTo = (port: number) => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });

function leadEmail(to: string, phone: string, extra: Record<string, string> = {}) {
  const lines = ['You have a new lead!', '', 'First Name: Ada', 'Last Name: Lovelace', `Phone: ${phone}`, 'Property: 12 Elm St'];
  for (const [key, value] of Object.entries(extra)) lines.push(`${key}: ${value}`);
  return { from: 'Zillow <leads@zillow.example>', replyTo: `ada.${phone.slice(-4)}@example.com`, to, subject: 'New lead', text: lines.join('\n') };
}

async function leadIdByPhone(phone: string): Promise<string | undefined> {
  const [row] = await app.db.query<{ id: string }>('SELECT id FROM leads WHERE phone = $1', [phone]);
  return row?.id;
}

let phoneCounter = 500;
const nextPhone = () => `+1212555${String(phoneCounter++).padStart(4, '0')}`;

describe('inbound email over real SMTP', () => {
  test('mail to a configuration\'s address (any case) makes a placed lead and an approval item with rendered placeholders', async () => {
    await createConfiguration(app, admin, {
      inboundEmail: 'Leads+FB@inbound.example.com',
      starterMessage: 'Hi {{firstName}}, thanks for asking about {{Property}}!',
    });
    const phone = nextPhone();
    const started = performance.now();
    await transportTo(smtp.port).sendMail(leadEmail('leads+fb@INBOUND.example.com', phone));
    const latencyMs = performance.now() - started;
    const leadId = await leadIdByPhone(phone);
    assert.ok(leadId, 'the lead exists once the message is accepted');
    const lead = await leadRow(app, leadId);
    assert.equal(lead.first_name, 'Ada');
    assert.equal(lead.last_name, 'Lovelace');
    assert.equal(lead.email, `ada.${phone.slice(-4)}@example.com`, 'Reply-To gives the email');
    assert.equal(lead.stage_name, 'New Lead');
    assert.equal(lead.source, 'Facebook Lead Ad');
    assert.equal(lead.additional_info.Property, '12 Elm St');
    const [approval] = await approvalsOf(app, leadId);
    assert.equal(approval.status, 'pending');
    assert.equal(approval.content, 'Hi Ada, thanks for asking about 12 Elm St!');
    console.log(`# email-to-first-message latency (SMTP accept, lead + approval committed): ${latencyMs.toFixed(1)} ms`);
  });

  test('on autopilot the first message is queued for sending', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'auto@inbound.example.com', starterMessage: 'Hello {{firstName}}', isAutopilot: true });
    const phone = nextPhone();
    await transportTo(smtp.port).sendMail(leadEmail('auto@inbound.example.com', phone));
    const [message] = await messagesOf(app, (await leadIdByPhone(phone))!);
    assert.equal(message.status, 'queued');
    assert.equal(message.content, 'Hello Ada');
  });

  test('an unknown recipient and an inactive configuration\'s address are refused with 550 at RCPT', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'paused@inbound.example.com', status: 'inactive' });
    for (const to of ['nobody@inbound.example.com', 'paused@inbound.example.com']) {
      await assert.rejects(transportTo(smtp.port).sendMail(leadEmail(to, nextPhone())), (error: any) => {
        assert.equal(error.responseCode, 550);
        assert.equal(error.command, 'RCPT TO');
        return true;
      });
    }
  });

  test('a database failure answers 451 so the sender retries; the retry makes the lead', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'flaky@inbound.example.com', starterMessage: 'Hi' });
    const broken: Database = {
      ...app.db,
      transaction: async () => {
        throw new Error('connection terminated');
      },
    };
    const flaky = await startInboundSmtp({ ...app.ctx, db: broken }, { host: '127.0.0.1', port: 0 });
    const phone = nextPhone();
    try {
      await assert.rejects(transportTo(flaky.port).sendMail(leadEmail('flaky@inbound.example.com', phone)), (error: any) => {
        assert.equal(error.responseCode, 451);
        return true;
      });
    } finally {
      await flaky.stop();
    }
    assert.equal(await leadIdByPhone(phone), undefined, 'nothing half-written');
    await transportTo(smtp.port).sendMail(leadEmail('flaky@inbound.example.com', phone));
    assert.ok(await leadIdByPhone(phone));
  });

  test('no starter message: the AI writes the first message; when the model fails the template is used', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'ai@inbound.example.com' });
    fake.script({ answer: 'Hi Ada! Is 12 Elm St your home?' });
    const phone = nextPhone();
    await transportTo(smtp.port).sendMail(leadEmail('ai@inbound.example.com', phone));
    const [approval] = await approvalsOf(app, (await leadIdByPhone(phone))!);
    assert.equal(approval.content, 'Hi Ada! Is 12 Elm St your home?');
    assert.equal(approval.composed_by, 'ai');

    fake.script({ fail: 503 }, { fail: 503 });
    const phone2 = nextPhone();
    await transportTo(smtp.port).sendMail(leadEmail('ai@inbound.example.com', phone2));
    const [fallback] = await approvalsOf(app, (await leadIdByPhone(phone2))!);
    assert.equal(fallback.composed_by, 'template');
    assert.match(fallback.content, /^Hi Ada, thanks for your interest/);
  });
});

describe('POST /api/inbound/email', () => {
  const rawMessage = (to: string, phone: string) =>
    [`From: Grace <grace.${phone.slice(-4)}@example.com>`, `To: ${to}`, 'Subject: lead', 'Content-Type: text/plain; charset=utf-8', '', `Phone: ${phone}`, 'Budget: 20k', ''].join('\r\n');

  test('raw MIME routes by the To address', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'http@inbound.example.com', starterMessage: 'Hi {{firstName}}' });
    const phone = nextPhone();
    const res = await app.request('POST', '/api/inbound/email', {
      token: apiKey,
      raw: rawMessage('HTTP@inbound.example.com', phone),
      headers: { 'content-type': 'message/rfc822' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.length, 1);
    const lead = await leadRow(app, res.body.data[0].contactId);
    assert.equal(lead.phone, phone);
    assert.equal(lead.first_name, 'Grace');
    assert.equal(lead.additional_info.Budget, '20k');
    const [approval] = await approvalsOf(app, lead.id);
    assert.equal(approval.content, 'Hi Grace');
  });

  test('a SendGrid-style multipart form (parsed fields, envelope recipients) is read the same way', async () => {
    const phone = nextPhone();
    const form = new FormData();
    form.set('from', `Sam Sender <sam.${phone.slice(-4)}@example.com>`);
    form.set('to', 'someone-else@example.com');
    form.set('envelope', JSON.stringify({ to: ['http@inbound.example.com'], from: 'sam@example.com' }));
    form.set('subject', 'lead');
    form.set('text', `Phone: ${phone}\nCity: Boston`);
    const response = await fetch(`${app.url}/api/inbound/email`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form });
    const body = (await response.json()) as any;
    assert.equal(response.status, 200, JSON.stringify(body));
    const lead = await leadRow(app, body.data[0].contactId);
    assert.equal(lead.first_name, 'Sam');
    assert.equal(lead.email, `sam.${phone.slice(-4)}@example.com`);
    assert.equal(lead.additional_info.City, 'Boston');

    const rawForm = new FormData();
    const phone2 = nextPhone();
    rawForm.set('email', rawMessage('http@inbound.example.com', phone2));
    const raw = await fetch(`${app.url}/api/inbound/email`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: rawForm });
    assert.equal(raw.status, 200);
    assert.ok(await leadIdByPhone(phone2));

    // the message as a file part, as `curl -F email=@message.eml` sends it
    const fileForm = new FormData();
    const phone3 = nextPhone();
    fileForm.set('email', new Blob([rawMessage('http@inbound.example.com', phone3)], { type: 'message/rfc822' }), 'message.eml');
    const asFile = await fetch(`${app.url}/api/inbound/email`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: fileForm });
    assert.equal(asFile.status, 200, await asFile.text());
    assert.ok(await leadIdByPhone(phone3));

    // its bytes reach the MIME parser as sent: a Latin-1 body is decoded by its declared charset
    const latin1Form = new FormData();
    const phone4 = nextPhone();
    const latin1 = Buffer.from(
      ['From: lead@example.com', 'To: http@inbound.example.com', 'Subject: lead', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit', '', `Phone: ${phone4}`, 'City: Montr\u00e9al'].join('\r\n'),
      'latin1',
    );
    latin1Form.set('email', new Blob([latin1], { type: 'message/rfc822' }), 'latin1.eml');
    const decoded = await fetch(`${app.url}/api/inbound/email`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: latin1Form });
    assert.equal(decoded.status, 200, await decoded.text());
    assert.equal((await leadRow(app, (await leadIdByPhone(phone4))!)).additional_info.City, 'Montr\u00e9al');
  });

  test('API key only (JWT 401); another organization\'s address 404; JSON 415', async () => {
    const raw = rawMessage('http@inbound.example.com', nextPhone());
    const headers = { 'content-type': 'message/rfc822' };
    assert.equal((await app.request('POST', '/api/inbound/email', { token: admin.token, raw, headers })).status, 401);
    assert.equal((await app.request('POST', '/api/inbound/email', { raw, headers })).status, 401);
    const other = await registerOrganization(app, 'Other');
    const otherKey = await apiKeyFor(app, other);
    assert.equal((await app.request('POST', '/api/inbound/email', { token: otherKey, raw, headers })).status, 404);
    const json = await app.request('POST', '/api/inbound/email', { token: apiKey, body: { text: 'hi' } });
    assert.equal(json.status, 415);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { startInboundSmtp, type InboundSmtp } from '../src/modules/inbound/smtp.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createConfiguration } from './support/intake.ts';

// Refused inbound input (webhook, hosted inbound mail, SMTP) gets a client error and writes
// nothing; nothing one request or connection sends is held without bound.

let app: TestApp;
let fake: FakeOpenAI;
let smtp: InboundSmtp;
let admin: Account;
let apiKey: string;

before(async () => {
  fake = await startFakeOpenAI();
  app = await startApp({ openai: { baseUrl: fake.baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 300 }, replyEmailDomain: 'reply.example.com' });
  smtp = await startInboundSmtp(app.ctx, { host: '127.0.0.1', port: 0 });
  admin = await registerOrganization(app);
  apiKey = await apiKeyFor(app, admin);
});
after(async () => {
  await smtp.stop();
  await app.close();
  await fake.close();
});

const TABLES = ['leads', 'lead_events', 'lead_activities', 'stage_history', 'lead_intakes', 'applications', 'approvals', 'messages', 'ai_traces'];

/** Row counts of every table routing writes, and every lead's custom fields and version. */
async function written(): Promise<unknown> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) counts[table] = (await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
  const leads = await app.db.query('SELECT id, version, additional_info FROM leads ORDER BY id');
  return { counts, leads };
}

/** Asserts that `act` changes nothing routing writes. */
async function writesNothing(act: () => Promise<void>): Promise<void> {
  const before = await written();
  const modelCalls = fake.requests.length;
  await act();
  assert.deepEqual(await written(), before, 'nothing written');
  assert.equal(fake.requests.length, modelCalls, 'the model was not asked');
}

const inbound = (raw: string | Buffer, query = '') =>
  app.request('POST', `/api/inbound/email${query}`, { token: apiKey, raw, headers: { 'content-type': 'message/rfc822' } });
const transportTo = (port: number) => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
const mime = (headers: string[], body: string) => [...headers, '', body].join('\r\n');

let phoneCounter = 100;
const nextPhone = () => `+1212556${String(phoneCounter++).padStart(4, '0')}`;

describe('malformed MIME', () => {
  let nested = 'Phone: +12125550115';
  for (let i = 2000; i > 0; i--) nested = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${nested}\r\n--b${i}--`;
  const deep = `From: deep@example.com\r\nTo: mime@inbound.example.com\r\n${nested}`;

  test('a message the parser refuses (2,000 nested parts, a 3 MB header) is 400 over HTTP and 550 over SMTP; nothing is written', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'mime@inbound.example.com', starterMessage: 'Hi' });
    const hugeHeader = mime(['From: big@example.com', 'To: mime@inbound.example.com', `X-Big: ${'h'.repeat(3_000_000)}`], `Phone: ${nextPhone()}`);
    await writesNothing(async () => {
      for (const raw of [deep, hugeHeader]) {
        const res = await inbound(raw);
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.error, /^The message cannot be parsed: Max (allowed child nodes|header size)/);
      }
      await assert.rejects(transportTo(smtp.port).sendMail({ envelope: { from: 'deep@example.com', to: ['mime@inbound.example.com'] }, raw: deep }), (error: any) => {
        assert.equal(error.responseCode, 550);
        return true;
      });
    });
  });
});

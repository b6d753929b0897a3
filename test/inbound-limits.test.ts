import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import nodemailer from 'nodemailer';
import type { Database } from '../src/db/database.ts';
import { newId } from '../src/lib/ids.ts';
import { SMTP_LIMITS, startInboundSmtp, type InboundSmtp } from '../src/modules/inbound/smtp.ts';
import { MAX_RECIPIENTS } from '../src/modules/inbound/service.ts';
import { MAX_RECORD_CHARACTERS } from '../src/modules/imports/csv.ts';
import { replyAddressOf } from '../src/modules/replies/service.ts';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { createConfiguration, leadRow } from './support/intake.ts';

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

const webhook = (body: Record<string, unknown>) => app.request('POST', '/api/webhook/outreach', { token: apiKey, body });
const inbound = (raw: string | Buffer, query = '') =>
  app.request('POST', `/api/inbound/email${query}`, { token: apiKey, raw, headers: { 'content-type': 'message/rfc822' } });
const inboundForm = async (form: FormData) => {
  const response = await fetch(`${app.url}/api/inbound/email`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form });
  return { status: response.status, body: (await response.json()) as any };
};
const transportTo = (port: number) => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
const fields = (prefix: string, count: number, value = 'v') => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, value]));
const mime = (headers: string[], body: string) => [...headers, '', body].join('\r\n');

/** Reply addresses of emails sent to one new lead, as REPLY_EMAIL_DOMAIN gives them. */
async function replyAddresses(count: number): Promise<string[]> {
  const lead = await app.request('POST', '/api/leads', { token: admin.token, body: { firstName: 'Rory', email: `rory.${newId(new Date())}@example.com` } });
  assert.equal(lead.status, 201, lead.text);
  const messageIds = Array.from({ length: count }, () => newId(new Date()));
  await app.db.query(
    `INSERT INTO messages (id, organization_id, lead_id, direction, channel, origin, status, content, to_address, idempotency_key, sent_at, created_at, updated_at)
     SELECT id, $2, $3, 'outbound', 'email', 'manual', 'sent', 'hi', $4, 'limits:' || id, now(), now(), now() FROM unnest($1::text[]) AS id`,
    [messageIds, admin.organizationId, lead.body.data._id, lead.body.data.email],
  );
  return messageIds.map((id) => replyAddressOf(app.ctx, id)!);
}

let phoneCounter = 100;
const nextPhone = () => `+1212556${String(phoneCounter++).padStart(4, '0')}`;

/** A bare SMTP client: each call answers the server's next complete (possibly multi-line) reply. */
function smtpClient(port: number): { socket: Socket; reply: () => Promise<string>; command: (line: string) => Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffer = '';
  const waiting: Array<(reply: string) => void> = [];
  const settle = () => {
    const end = /(?:^|\r\n)\d{3} [^\r\n]*\r\n/.exec(buffer);
    if (!end || waiting.length === 0) return;
    const length = end.index + end[0].length;
    const reply = buffer.slice(0, length).trim();
    buffer = buffer.slice(length);
    waiting.shift()!(reply);
    settle();
  };
  socket.on('data', (data: string) => {
    buffer += data;
    settle();
  });
  const reply = () =>
    new Promise<string>((resolve) => {
      waiting.push(resolve);
      settle();
    });
  return {
    socket,
    reply,
    command: (line) => {
      socket.write(`${line}\r\n`);
      return reply();
    },
  };
}

describe('custom fields past the bounds of a lead', () => {
  test('a webhook merging fields into an existing lead past 200 keys or 64 KiB is 400 naming customFields; nothing is written, not even a model trace', async () => {
    // no starter message and re-contact allowed: the model would write a first message for the existing lead
    const config = await createConfiguration(app, admin, { allowRecontact: true });
    const first = await webhook({ configurationId: config._id, email: 'keys@example.com', ...fields('a', 150) });
    assert.equal(first.status, 200, first.text);
    await writesNothing(async () => {
      const res = await webhook({ configurationId: config._id, email: 'keys@example.com', ...fields('b', 100) });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.success, false);
      assert.match(res.body.error, /^customFields may have at most 200 keys/);
      assert.equal(res.body.details[0].field, 'customFields');
    });

    assert.equal((await webhook({ configurationId: config._id, email: 'bytes@example.com', x1: 'z'.repeat(40_000) })).status, 200);
    await writesNothing(async () => {
      const res = await webhook({ configurationId: config._id, email: 'bytes@example.com', x2: 'z'.repeat(40_000) });
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, /customFields/);
    });
  });

  test('a new lead whose fields fit as JSON text but not as the stored JSONB text is 400, not 500', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi' });
    // 65,441 bytes of JSON.stringify; the JSONB text spends two more bytes per key (": " and ", ")
    const body = { configurationId: config._id, email: 'wide@example.com', ...fields('k', 190, 'v'.repeat(335)) };
    await writesNothing(async () => {
      const res = await webhook(body);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, /customFields/);
    });
  });

  test('over SMTP the mail that would take its lead past the bounds is refused for good (550), not retried (451)', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'bounds@inbound.example.com', starterMessage: 'Hi {{firstName}}' });
    const mail = (round: number) => ({
      from: 'Pat <pat@example.com>',
      to: 'bounds@inbound.example.com',
      subject: 'lead',
      text: Array.from({ length: 100 }, (_, i) => `Field ${round} ${i}: value`).join('\n'),
    });
    await transportTo(smtp.port).sendMail(mail(1));
    await transportTo(smtp.port).sendMail(mail(2)); // 200 keys: the most a lead keeps
    await writesNothing(() =>
      assert.rejects(transportTo(smtp.port).sendMail(mail(3)), (error: any) => {
        assert.equal(error.responseCode, 550);
        assert.match(error.response, /customFields/);
        return true;
      }),
    );
  });

  test('fields merged by a concurrent intake after the check: the CHECK refuses the write, 550, and the trace of the model call is removed', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'race@inbound.example.com', allowRecontact: true });
    const phone = nextPhone();
    const first = await webhook({ configurationId: (await createConfiguration(app, admin, { starterMessage: 'Hi' }))._id, phoneNumber: phone, ...fields('a', 100) });
    assert.equal(first.status, 200, first.text);
    const leadId = first.body.data.contactId;
    let raced = false;
    const racing: Database = {
      ...app.db,
      transaction: async (work) => {
        if (!raced) {
          raced = true;
          await app.db.query('UPDATE leads SET additional_info = additional_info || $2::jsonb WHERE id = $1', [leadId, JSON.stringify(fields('c', 60))]);
        }
        return app.db.transaction(work);
      },
    };
    const listener = await startInboundSmtp({ ...app.ctx, db: racing }, { host: '127.0.0.1', port: 0 });
    const traces = async () => (await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ai_traces'))[0].n;
    const tracesBefore = await traces();
    const modelCalls = fake.requests.length;
    try {
      const text = [`Phone: ${phone}`, ...Array.from({ length: 60 }, (_, i) => `Extra ${i}: value`)].join('\n');
      await assert.rejects(transportTo(listener.port).sendMail({ from: 'race@example.com', to: 'race@inbound.example.com', subject: 'lead', text }), (error: any) => {
        assert.equal(error.responseCode, 550);
        return true;
      });
    } finally {
      await listener.stop();
    }
    assert.equal(fake.requests.length, modelCalls + 1, 'the model was asked before the write');
    assert.equal(await traces(), tracesBefore, 'its trace did not stay');
    assert.equal(Object.keys((await leadRow(app, leadId)).additional_info).length, 160, 'only the concurrent merge is kept');
  });
});

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

describe('POST /api/inbound/email bounds', () => {
  before(async () => {
    await createConfiguration(app, admin, { inboundEmail: 'form@inbound.example.com', starterMessage: 'Hi' });
  });

  test('a multipart form over 10 MiB in all is 413 in the native envelope, however small each field', async () => {
    const form = new FormData();
    for (let i = 0; i < 12; i++) form.set(`filler${i}`, 'q'.repeat(900_000));
    form.set('email', mime(['From: filler@example.com', 'To: form@inbound.example.com'], `Phone: ${nextPhone()}`));
    await writesNothing(async () => {
      const res = await inboundForm(form);
      assert.equal(res.status, 413);
      assert.deepEqual(res.body, { success: false, error: 'Request body is too large' });
    });
  });

  test('a form of more than 100 parts is 413 before it is parsed', async () => {
    const form = new FormData();
    for (let i = 0; i < 101; i++) form.set(`p${i}`, 'x');
    form.set('email', mime(['From: parts@example.com', 'To: form@inbound.example.com'], `Phone: ${nextPhone()}`));
    await writesNothing(async () => {
      const res = await inboundForm(form);
      assert.equal(res.status, 413);
      assert.equal(res.body.error, 'The form may have at most 100 parts');
    });
  });

  test('an email field over 1 MB is read whole, not cut short', async () => {
    const phone = nextPhone();
    const form = new FormData();
    // no From: the phone after the first megabyte is the only contact point
    form.set('email', mime(['To: form@inbound.example.com', 'Subject: long'], `${'-'.repeat(1_200_000)}\r\nPhone: ${phone}\r\nFirst Name: Long`));
    form.set('headers', 'X-Ignored: yes'); // a SendGrid field routing does not read
    const res = await inboundForm(form);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const lead = await leadRow(app, res.body.data[0].contactId);
    assert.equal(lead.phone, phone);
    assert.equal(lead.first_name, 'Long');
  });

  test('envelope recipients are compared in any case and at most 100 distinct ones are looked up (400 above)', async () => {
    const raw = mime(['From: env@example.com', 'Subject: lead'], `Phone: ${nextPhone()}`);
    const sameInManyCases = Array.from({ length: 150 }, (_, i) => (i % 2 ? 'FORM@inbound.example.com' : 'form@INBOUND.example.com'));
    const viaQuery = await inbound(raw, `?to=${encodeURIComponent(sameInManyCases.join(','))}`);
    assert.equal(viaQuery.status, 200, viaQuery.text);
    assert.equal(viaQuery.body.data.length, 1);

    const tooMany = [...Array.from({ length: MAX_RECIPIENTS }, (_, i) => `nobody${i}@example.com`), 'form@inbound.example.com'];
    const form = new FormData();
    form.set('envelope', JSON.stringify({ to: tooMany, from: 'env@example.com' }));
    form.set('email', mime(['From: env2@example.com'], `Phone: ${nextPhone()}`));
    await writesNothing(async () => {
      const res = await inboundForm(form);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'to may have at most 100 distinct addresses');
      assert.equal((await inbound(raw, `?to=${tooMany.join(',')}`)).status, 400);
    });
  });
});

describe('SMTP listener bounds', () => {
  test('a message over the size limit is drained, not kept, and answered 552', async () => {
    const gc = (v8.setFlagsFromString('--expose-gc'), vm.runInNewContext('gc')) as () => void;
    await createConfiguration(app, admin, { inboundEmail: 'size@inbound.example.com', starterMessage: 'Hi' });
    const listener = await startInboundSmtp(app.ctx, { host: '127.0.0.1', port: 0 }, { ...SMTP_LIMITS, messageBytes: 64 * 1024 });
    const client = smtpClient(listener.port);
    try {
      assert.match(await client.reply(), /^220/);
      assert.match(await client.command('EHLO test'), /SIZE 65536/);
      assert.match(await client.command('MAIL FROM:<big@example.com>'), /^250/);
      assert.match(await client.command('RCPT TO:<size@inbound.example.com>'), /^250/);
      assert.match(await client.command('DATA'), /^354/);
      gc();
      const held = process.memoryUsage().arrayBuffers;
      const line = Buffer.alloc(64 * 1024, 'a');
      line.write('\r\n', line.length - 2);
      for (let sent = 0; sent < 32 * 1024 * 1024; sent += line.length) {
        if (!client.socket.write(line)) await new Promise((resolve) => client.socket.once('drain', resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      gc();
      const grown = process.memoryUsage().arrayBuffers - held;
      assert.ok(grown < 8 * 1024 * 1024, `the listener kept ${(grown / 1024 / 1024).toFixed(1)} MiB of a message over its limit`);
      assert.match(await client.command('\r\n.'), /^552/);
    } finally {
      client.socket.destroy();
      await listener.stop();
    }
  });

  test('connections past maxClients are answered 421 and closed', async () => {
    const listener = await startInboundSmtp(app.ctx, { host: '127.0.0.1', port: 0 }, { ...SMTP_LIMITS, clients: 2 });
    const clients = [1, 2, 3].map(() => smtpClient(listener.port));
    try {
      const greetings = await Promise.all(clients.map((client) => client.reply()));
      assert.deepEqual(greetings.map((greeting) => greeting.slice(0, 3)).sort(), ['220', '220', '421']);
    } finally {
      for (const client of clients) client.socket.destroy();
      await listener.stop();
    }
  });

  test('recipients past 100 distinct ones are answered 452 at RCPT; the same address in another case does not count again', async () => {
    const addresses = await replyAddresses(MAX_RECIPIENTS + 1);
    const client = smtpClient(smtp.port);
    try {
      await client.reply();
      await client.command('EHLO test');
      await client.command('MAIL FROM:<lead@example.com>');
      for (const address of addresses.slice(0, MAX_RECIPIENTS)) assert.match(await client.command(`RCPT TO:<${address}>`), /^250/);
      assert.match(await client.command(`RCPT TO:<${addresses[0].toUpperCase()}>`), /^250/);
      assert.match(await client.command(`RCPT TO:<${addresses[MAX_RECIPIENTS]}>`), /^452/);
    } finally {
      client.socket.destroy();
    }
  });
});

describe('a mail that is a reply and a lead at once', () => {
  test('when the lead part is refused the reply is not recorded either: 400 over HTTP, 550 over SMTP', async () => {
    await createConfiguration(app, admin, { inboundEmail: 'both@inbound.example.com', starterMessage: 'Hi' });
    const [overHttp, overSmtp] = await replyAddresses(2);
    // no From, no phone, no email: the lead part has no contact point
    const raw = (replyTo: string) => mime([`To: ${replyTo}, both@inbound.example.com`, 'Subject: Re: hi', `Message-ID: <${newId(new Date())}@example.com>`], 'Sounds good');
    await writesNothing(async () => {
      const res = await inbound(raw(overHttp));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, 'A phone number or an email address is required');
      await assert.rejects(
        transportTo(smtp.port).sendMail({ envelope: { from: 'lead@example.com', to: [overSmtp, 'both@inbound.example.com'] }, raw: raw(overSmtp) }),
        (error: any) => {
          assert.equal(error.responseCode, 550);
          return true;
        },
      );
    });
  });
});

describe('values no column or index can hold are refused with the row that carries them', () => {
  const importCsv = (configurationId: string, csv: string) =>
    app.request('POST', `/api/leads/import?configurationId=${configurationId}`, { token: admin.token, raw: csv, headers: { 'content-type': 'text/csv' } });
  // a btree index entry holds at most ~2.7 kB: an address this long would fail the write of its whole batch
  const longEmail = `${'a'.repeat(3000)}@example.com`;

  test('an email address past 320 characters is 400 on the webhook and the Apten surface, and one refused row of an import', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: '' });
    await writesNothing(async () => {
      const res = await webhook({ configurationId: config._id, email: longEmail });
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, /email must be a valid email address/);
    });
    const lead = await app.request('POST', '/api/leads', { token: admin.token, body: { firstName: 'Ava', phone: nextPhone() } });
    assert.equal(lead.status, 201, lead.text);
    const patched = await app.request('PATCH', `/apten/v1/leads/${lead.body.data._id}`, { body: { email: longEmail }, headers: { 'x-api-key': apiKey } });
    assert.equal(patched.status, 400, patched.text);

    const good = nextPhone();
    const imported = await importCsv(config._id, `name,phone,email\nGood,${good},good@example.com\nLong,${nextPhone()},${longEmail}\n`);
    assert.equal(imported.status, 200, imported.text);
    assert.deepEqual([imported.body.data.created, imported.body.data.failed], [1, 1]);
    assert.equal(imported.body.data.errors[0].line, 3);
    assert.ok(await leadRow(app, (await app.db.query<{ id: string }>('SELECT id FROM leads WHERE phone = $1', [good]))[0].id));
  });

  test('a NUL character refuses its CSV row alone; in a lead email it is dropped over HTTP and SMTP alike', async () => {
    const config = await createConfiguration(app, admin, { inboundEmail: 'nul@inbound.example.com', starterMessage: 'Hi' });
    const imported = await importCsv(config._id, `name,phone,note\nGood,${nextPhone()},fine\nBad,${nextPhone()},a\u0000b\n`);
    assert.equal(imported.status, 200, imported.text);
    assert.deepEqual([imported.body.data.created, imported.body.data.failed], [1, 1]);
    assert.deepEqual(imported.body.data.errors, [{ line: 3, error: 'Text may not contain the NUL character (\\u0000)' }]);

    // quoted-printable =00 decodes to NUL inside the text the lead's fields are read from
    const mail = (phone: string) =>
      mime([`From: Nula <nula.${phone.slice(1)}@example.com>`, 'To: nul@inbound.example.com', 'Subject: lead', 'Content-Transfer-Encoding: quoted-printable'], `Phone: ${phone}\r\nNote: a=00b`);
    const overHttp = nextPhone();
    const res = await inbound(mail(overHttp));
    assert.equal(res.status, 200, res.text);
    const overSmtp = nextPhone();
    await transportTo(smtp.port).sendMail({ envelope: { from: 'nula@example.com', to: ['nul@inbound.example.com'] }, raw: mail(overSmtp) });
    for (const phone of [overHttp, overSmtp]) {
      const [row] = await app.db.query<{ additional_info: Record<string, unknown> }>('SELECT additional_info FROM leads WHERE phone = $1', [phone]);
      assert.equal(row?.additional_info.Note, 'ab');
    }
  });

  test('import rows are matched phone first: a row whose phone is a lead updates that lead, though its email is on another row', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi' });
    const carolPhone = nextPhone();
    const carol = await app.request('POST', '/api/leads', { token: admin.token, body: { firstName: 'Carol', phone: carolPhone } });
    assert.equal(carol.status, 201, carol.text);
    const shared = `shared.${newId(new Date())}@example.com`;
    const imported = await importCsv(config._id, `name,phone,email,note\nPat,${nextPhone()},${shared},row1\nQuinn,${carolPhone},${shared},row2\n`);
    assert.equal(imported.status, 200, imported.text);
    assert.deepEqual([imported.body.data.created, imported.body.data.updated], [1, 1]);
    const carolNow = (await app.request('GET', `/api/leads/${carol.body.data._id}`, { token: admin.token })).body.data;
    assert.equal(carolNow.additionalInfo.note, 'row2');
    const [pat] = await app.db.query<{ additional_info: Record<string, unknown> }>('SELECT additional_info FROM leads WHERE lower(email) = $1', [shared]);
    assert.equal(pat.additional_info.note, 'row1');
  });
});

describe('input built to make a pattern backtrack is answered at once', () => {
  // each would hold the event loop (every tenant, the worker, inbound mail) for minutes with a
  // pattern that backtracks once per character for each character; the bound is a liveness
  // guard a hundred times what the answer takes, not a measure of speed
  const spaces = ' '.repeat(900_000);

  test('a phone number of a million characters is refused as not a phone number', { timeout: 60_000 }, async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi' });
    await writesNothing(async () => {
      const res = await webhook({ configurationId: config._id, phoneNumber: `1${spaces}1a` });
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, /phone is not a valid phone number/);
    });
  });

  test("a lead email's field line of a million characters is read as a field (and refused past the custom fields' bounds)", { timeout: 60_000 }, async () => {
    await createConfiguration(app, admin, { inboundEmail: 'wide-line@inbound.example.com', starterMessage: 'Hi' });
    const raw = (note: string) => mime(['From: Wade <wade@example.com>', 'To: wide-line@inbound.example.com', 'Subject: lead'], `Phone: ${nextPhone()}\r\nNote: ${note}`);
    await writesNothing(async () => {
      const res = await inbound(raw(`x${spaces}y`));
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, /customFields may be at most/);
    });
    const fits = await inbound(raw(`x${' '.repeat(30_000)}y`));
    assert.equal(fits.status, 200, fits.text);
    const [row] = await app.db.query<{ additional_info: Record<string, string> }>('SELECT additional_info FROM leads WHERE id = $1', [fits.body.data[0].contactId]);
    assert.equal(row.additional_info.Note, `x${' '.repeat(30_000)}y`);
  });

  test('a CSV row past a million characters (an unclosed quote) is one refused row; the rows before it are kept', async () => {
    const config = await createConfiguration(app, admin, { starterMessage: 'Hi' });
    const good = nextPhone();
    const csv = `phone,note\n${good},fine\n${nextPhone()},"${'q'.repeat(3 * MAX_RECORD_CHARACTERS)}\n`;
    const res = await app.request('POST', `/api/leads/import?configurationId=${config._id}`, { token: admin.token, raw: csv, headers: { 'content-type': 'text/csv' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.body.data.created, res.body.data.failed], [1, 1]);
    assert.equal(res.body.data.errors.length, 1);
    assert.equal(res.body.data.errors[0].line, 3);
    assert.match(res.body.data.errors[0].error, new RegExp(`maximum number of tolerated bytes of ${MAX_RECORD_CHARACTERS}`));
    assert.equal((await app.db.query('SELECT 1 FROM leads WHERE phone = $1', [good])).length, 1);
  });

  test('an email address holding a list separator or brackets is refused, so mail goes where the lead row says', async () => {
    for (const email of ['evil.com,victim@example.com', 'a@x.com;b@y.com', '<b@y.com>', 'Ann <ann@example.com>']) {
      const res = await app.request('POST', '/api/leads', { token: admin.token, body: { firstName: 'Ann', email } });
      assert.equal(res.status, 400, `${email}: ${res.text}`);
    }
  });
});

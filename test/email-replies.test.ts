import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { startInboundSmtp, type InboundSmtp } from '../src/modules/inbound/smtp.ts';
import { parseReplyAddress, replyText } from '../src/modules/replies/rules.ts';
import { deliverOnce, releaseChannels } from '../src/worker/delivery.ts';
import { runDispatcherOnce } from '../src/worker/dispatcher.ts';
import { createLead, leadRow, messagesOf, scheduleLead } from './support/followups.ts';
import { approvalsOf } from './support/intake.ts';
import { apiKeyFor, registerOrganization, startApp, type Account, type TestApp } from './support/harness.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

const REPLY_DOMAIN = 'reply.acme.test';
let app: TestApp;
let outbound: SmtpSink;
let inbound: InboundSmtp;
let acme: Account;
let agentId: string;

before(async () => {
  outbound = await startSmtpSink();
  app = await startApp({ smtpUrl: outbound.url, smtpFrom: 'Acme <sales@acme.test>', replyEmailDomain: REPLY_DOMAIN });
  inbound = await startInboundSmtp(app.ctx, { host: '127.0.0.1', port: 0 });
  acme = await registerOrganization(app, 'Acme');
  agentId = (await app.request('POST', '/api/agents', { token: acme.token, body: { name: 'Mailer', emailEnabled: true } })).body.data._id;
});
after(async () => {
  await releaseChannels(app.ctx);
  await inbound.stop();
  await app.close();
  await outbound.close();
});

let emailCounter = 0;

/** A lead whose first step (email) has just gone out, and the Reply-To that email carried. */
async function leadEmailed(cadence: Record<string, unknown> = { '1': { hours: 1, channel: 'email' }, '2': { hours: 24, channel: 'email' } }) {
  app.clock.set('2026-06-01T12:00:00Z');
  const email = `lead${(emailCounter += 1)}@example.com`;
  const lead = await createLead(app, acme, { email, agentId, followUpConfig: cadence });
  await scheduleLead(app, lead._id, 1, app.clock.now());
  while ((await runDispatcherOnce(app.ctx)) > 0);
  while ((await deliverOnce(app.ctx)) > 0);
  const mail = [...outbound.received].reverse().find((m) => m.to && !Array.isArray(m.to) && m.to.value[0].address === email);
  assert.ok(mail, 'the email went out');
  const replyTo = mail.replyTo?.value[0].address;
  assert.ok(replyTo, 'it asks to be answered at a reply address');
  return { lead, email, replyTo, subject: mail.subject ?? '' };
}

const send = (message: SendMailOptions) =>
  nodemailer.createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true }).sendMail(message);

describe('email replies', () => {
  test('an outbound email asks to be answered at a tagged reply address naming that message', async () => {
    const { lead, replyTo } = await leadEmailed();
    const [message] = (await messagesOf(app, acme, lead._id)).filter((m) => m.direction === 'outbound');
    assert.match(replyTo, /^reply\+[0-9a-f]{24}\.[0-9a-f]{16}@reply\.acme\.test$/);
    assert.equal(parseReplyAddress(replyTo, REPLY_DOMAIN)?.messageId, message._id);
  });

  test('a reply stops the cadence, marks the lead replied and is stored with the quoted text cut off', async () => {
    const { lead, email, replyTo, subject } = await leadEmailed();
    assert.equal((await leadRow(app, lead._id)).follow_up_step, 2, 'the next step was scheduled');
    await send({
      from: `Ada <${email}>`,
      to: replyTo,
      subject: `Re: ${subject}`,
      text: 'Yes, call me tomorrow at 10.\n\nOn Mon, 1 Jun 2026 at 12:00, Acme <sales@acme.test> wrote:\n> Hi Ada, shall we talk?\n',
      messageId: '<reply-1@client.example.com>',
    });
    const row = await leadRow(app, lead._id);
    assert.equal(row.has_replied, true);
    assert.equal(row.follow_up_step, -1);
    assert.equal(row.next_follow_up_at, null);
    assert.equal(row.opted_out, false);
    const reply = (await messagesOf(app, acme, lead._id)).find((m) => m.direction === 'inbound');
    assert.ok(reply);
    assert.equal(reply.channel, 'email');
    assert.equal(reply.status, 'received');
    assert.equal(reply.content, 'Yes, call me tomorrow at 10.');
    const got = await app.request('GET', `/api/leads/${lead._id}`, { token: acme.token });
    assert.equal(got.body.data.hasReplied, true);
    assert.equal(got.body.data.followUpStep, -1);
    // not on autopilot: the answer waits for a rep, by email like the reply
    await app.ctx.background.drain();
    const answer = (await approvalsOf(app, lead._id)).find((a) => a.purpose === 'reply');
    assert.equal(answer?.channel, 'email');
  });

  test('a redelivered reply (same Message-ID) is stored once', async () => {
    const { lead, email, replyTo } = await leadEmailed();
    const reply = { from: email, to: replyTo, subject: 'Re', text: 'Interested.', messageId: '<same@client.example.com>' };
    await send(reply);
    await send(reply);
    assert.equal((await messagesOf(app, acme, lead._id)).filter((m) => m.direction === 'inbound').length, 1);
  });

  test('a reply with a Message-ID of any length is accepted, and its redelivery is still stored once', async () => {
    const { lead, email, replyTo } = await leadEmailed();
    const reply = { from: email, to: replyTo, subject: 'Re', text: 'Tell me more.', messageId: `<${randomBytes(4_000).toString('hex')}@client.example.com>` };
    await send(reply);
    await send(reply);
    const replies = (await messagesOf(app, acme, lead._id)).filter((m) => m.direction === 'inbound');
    assert.deepEqual(replies.map((m) => m.content), ['Tell me more.']);
    assert.equal((await leadRow(app, lead._id)).has_replied, true);
  });

  test('UNSUBSCRIBE as the reply opts the lead out and cancels everything pending', async () => {
    const { lead, email, replyTo } = await leadEmailed();
    const manual = await app.request('POST', `/api/leads/${lead._id}/messages`, {
      token: acme.token,
      body: { content: 'Later', channel: 'email', scheduledTime: '2026-06-03T15:00:00Z' },
    });
    assert.equal(manual.status, 201, manual.text);
    await send({ from: email, to: replyTo, subject: 'Re', text: 'UNSUBSCRIBE\n\n> Hi Ada' });
    const row = await leadRow(app, lead._id);
    assert.equal(row.opted_out, true);
    assert.equal(row.follow_up_step, -1);
    const pending = (await messagesOf(app, acme, lead._id)).filter((m) => m.direction === 'outbound' && m.status === 'queued');
    assert.deepEqual(pending, []);
  });

  test('a forged or unknown reply address is refused at RCPT with 550 and changes nothing', async () => {
    const { lead, email, replyTo } = await leadEmailed();
    const { messageId } = parseReplyAddress(replyTo, REPLY_DOMAIN)!;
    for (const to of [
      `reply+${messageId}.0000000000000000@${REPLY_DOMAIN}`, // wrong tag
      `reply+${'f'.repeat(24)}.${replyTo.split('.')[1].slice(0, 16)}@${REPLY_DOMAIN}`, // another id under this tag
      replyTo.replace(REPLY_DOMAIN, 'elsewhere.test'), // not our reply domain
    ]) {
      await assert.rejects(send({ from: email, to, subject: 'Re', text: 'STOP' }), (error: any) => {
        assert.equal(error.responseCode, 550, to);
        return true;
      });
    }
    const row = await leadRow(app, lead._id);
    assert.equal(row.has_replied, false);
    assert.equal(row.opted_out, false);
    assert.equal(row.follow_up_step, 2);
  });

  test('the reply address is case-insensitive, as mail servers may change its case', async () => {
    const { lead, email, replyTo } = await leadEmailed();
    await send({ from: email, to: replyTo.toUpperCase(), subject: 'Re', text: 'ok' });
    assert.equal((await leadRow(app, lead._id)).has_replied, true);
  });
});

describe('email replies through POST /api/inbound/email (a hosted mail service)', () => {
  const raw = (from: string, to: string, text: string, messageId: string) =>
    [`From: ${from}`, `To: ${to}`, 'Subject: Re: following up', `Message-ID: ${messageId}`, 'Content-Type: text/plain; charset=utf-8', '', text].join('\r\n');

  test("the organization's own reply address makes the mail that lead's reply", async () => {
    const { lead, email, replyTo } = await leadEmailed();
    const apiKey = await apiKeyFor(app, acme);
    const res = await app.request('POST', '/api/inbound/email', {
      token: apiKey,
      raw: raw(email, replyTo, 'Happy to talk.\r\n\r\n> Hi Ada', '<http-reply@client.example.com>'),
      headers: { 'content-type': 'message/rfc822' },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data, [{ contactId: lead._id, created: false, contacted: false, approvalId: null, messageId: null, reply: true }]);
    const row = await leadRow(app, lead._id);
    assert.equal(row.has_replied, true);
    assert.equal(row.follow_up_step, -1);
    assert.equal((await messagesOf(app, acme, lead._id)).find((m) => m.direction === 'inbound')?.content, 'Happy to talk.');
  });

  test("another organization's key cannot post a reply to this organization's email: 404, nothing changes", async () => {
    const { lead, email, replyTo } = await leadEmailed();
    const globex = await registerOrganization(app, 'Globex');
    const res = await app.request('POST', '/api/inbound/email', {
      token: await apiKeyFor(app, globex),
      raw: raw(email, replyTo, 'STOP', '<foreign@client.example.com>'),
      headers: { 'content-type': 'message/rfc822' },
    });
    assert.equal(res.status, 404, res.text);
    const row = await leadRow(app, lead._id);
    assert.equal(row.has_replied, false);
    assert.equal(row.opted_out, false);
  });
});

describe('without REPLY_EMAIL_DOMAIN', () => {
  test('outbound emails carry no Reply-To and reply addresses are not accepted', async () => {
    const sink = await startSmtpSink();
    const plain = await startApp({ smtpUrl: sink.url, smtpFrom: 'Acme <sales@acme.test>' });
    const listener = await startInboundSmtp(plain.ctx, { host: '127.0.0.1', port: 0 });
    try {
      const owner = await registerOrganization(plain);
      const mailer = (await plain.request('POST', '/api/agents', { token: owner.token, body: { name: 'Mailer', emailEnabled: true } })).body.data._id;
      const lead = await createLead(plain, owner, { email: 'solo@example.com', agentId: mailer, followUpConfig: { '1': { hours: 1, channel: 'email' } } });
      await scheduleLead(plain, lead._id, 1, plain.clock.now());
      while ((await runDispatcherOnce(plain.ctx)) > 0);
      while ((await deliverOnce(plain.ctx)) > 0);
      assert.equal(sink.received.length, 1);
      assert.equal(sink.received[0].replyTo, undefined);
      const [message] = await messagesOf(plain, owner, lead._id);
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true });
      await assert.rejects(transport.sendMail({ from: 'solo@example.com', to: `reply+${message._id}.0123456789abcdef@${REPLY_DOMAIN}`, text: 'hi' }), (error: any) => error.responseCode === 550);
    } finally {
      await releaseChannels(plain.ctx);
      await listener.stop();
      await plain.close();
      await sink.close();
    }
  });
});

describe('replyText', () => {
  test('keeps what the lead wrote above the quoted message, whatever the client', () => {
    assert.equal(replyText('Sounds good\r\n\r\nOn Tue, Jun 2, 2026 at 9:00 AM Acme <a@b.c> wrote:\r\n> old'), 'Sounds good');
    assert.equal(replyText('Yes\n-----Original Message-----\nFrom: Acme'), 'Yes');
    assert.equal(replyText('Yes\n________________________________\nFrom: Acme'), 'Yes');
    assert.equal(replyText('> quoted only'), '');
    assert.equal(replyText('Line one\nLine two'), 'Line one\nLine two');
  });
});

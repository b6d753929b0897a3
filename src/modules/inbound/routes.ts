import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { AppError, badRequest } from '../../http/errors.ts';
import { nativeErrors } from '../../http/schemas.ts';
import { requireApiKey } from '../intake/api-key.ts';
import { InboundEmailQuery, InboundEmailResponse } from './schemas.ts';
import { receiveEmailOverHttp } from './service.ts';
import { MAX_MESSAGE_BYTES } from './smtp.ts';

const RAW_TYPES = ['message/rfc822', 'text/plain'];

/** Header values from a form field: one line, so a field can never add headers of its own. */
const headerValue = (value: string | undefined) => (value ?? '').replace(/[\r\n]+/g, ' ').trim();

/**
 * A SendGrid-style Inbound Parse form: the raw message in `email` when the service posts it
 * raw, else the parsed fields rebuilt into a message so the one parser reads them.
 */
async function readForm(request: FastifyRequest): Promise<{ raw: string; envelopeRecipients: string[] }> {
  const fields: Record<string, string> = {};
  for await (const part of request.parts({ limits: { fileSize: MAX_MESSAGE_BYTES } })) {
    if (part.type === 'field' && typeof part.value === 'string') fields[part.fieldname] = part.value;
    else if (part.type === 'file') await part.toBuffer(); // attachments are not part of a lead
  }
  let envelopeRecipients: string[] = [];
  if (fields.envelope) {
    try {
      const envelope = JSON.parse(fields.envelope) as { to?: unknown };
      if (Array.isArray(envelope.to)) envelopeRecipients = envelope.to.filter((to): to is string => typeof to === 'string');
    } catch {
      throw badRequest('envelope is not valid JSON');
    }
  }
  if (fields.email) return { raw: fields.email, envelopeRecipients };
  if (!fields.text && !fields.html && !fields.from) throw badRequest('The form has no email, text, html or from field');
  const raw = [
    `From: ${headerValue(fields.from)}`,
    `To: ${headerValue(fields.to)}`,
    `Subject: ${headerValue(fields.subject)}`,
    `Content-Type: ${fields.text ? 'text/plain' : 'text/html'}; charset=utf-8`,
    'Content-Transfer-Encoding: 8bit',
    '',
    fields.text ?? fields.html ?? '',
  ].join('\r\n');
  return { raw, envelopeRecipients };
}

export function inboundRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(multipart);
    app.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer', bodyLimit: MAX_MESSAGE_BYTES }, (_request, body, done) => done(null, body));
    app.post(
      '/inbound/email',
      {
        config: { public: true },
        bodyLimit: MAX_MESSAGE_BYTES,
        schema: {
          tags: ['Email'],
          summary: "Inbound lead email (or a lead's reply to our email) from a hosted mail service: raw MIME (message/rfc822) or a SendGrid-style multipart form (API key only)",
          querystring: InboundEmailQuery,
          response: { 200: InboundEmailResponse, ...nativeErrors(404, 415) },
        },
      },
      async (request) => {
        const principal = await requireApiKey(ctx, request);
        let email: { raw: Buffer | string; envelopeRecipients: string[] };
        if (request.isMultipart()) email = await readForm(request);
        else if (Buffer.isBuffer(request.body)) email = { raw: request.body, envelopeRecipients: [] };
        else throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send message/rfc822 (raw MIME) or multipart/form-data');
        if (request.query.to) email.envelopeRecipients = request.query.to.split(',').map((to) => to.trim());
        const { routed, replied } = await receiveEmailOverHttp(ctx, principal, { ...email, configurationId: request.query.configurationId });
        return ok(
          [
            ...routed.map((r) => ({ contactId: r.lead.id, created: r.created, contacted: r.contacted, approvalId: r.approvalId, messageId: r.messageId, reply: false })),
            ...replied.map((lead) => ({ contactId: lead.id, created: false, contacted: false, approvalId: null, messageId: null, reply: true })),
          ],
          'Email processed',
        );
      },
    );
  };
}

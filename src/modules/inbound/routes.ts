import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { AppError, badRequest } from '../../http/errors.ts';
import { nativeErrors } from '../../http/schemas.ts';
import { apiKeyOnly } from '../intake/api-key.ts';
import { InboundEmailQuery, InboundEmailResponse } from './schemas.ts';
import { receiveEmailOverHttp } from './service.ts';
import { MAX_MESSAGE_BYTES } from './smtp.ts';

const RAW_TYPES = ['message/rfc822', 'text/plain'];
const FORM_TYPE = 'multipart/form-data';
/** The form fields read; SendGrid's others (headers, dkim, SPF, charsets, attachments…) say nothing about the lead. */
const FORM_FIELDS = ['email', 'from', 'to', 'subject', 'text', 'html', 'envelope'] as const;
/** SendGrid posts about 17 fields and the attachments: a form of thousands of tiny parts is refused before it is parsed. */
export const MAX_FORM_PARTS = 100;
/** RFC 2046: 1 to 70 characters, quoted or not. */
const BOUNDARY = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i;
const MALFORMED_FORM = 'The multipart body is malformed or truncated';

/** Header values from a form field: one line, so a field can never add headers of its own. */
const headerValue = (value: string | undefined) => (value ?? '').replace(/[\r\n]+/g, ' ').trim();

/** Whether the body has more than `limit` parts, each opened by the boundary's delimiter. */
function partsOver(body: Buffer, boundary: string, limit: number): boolean {
  const delimiter = `--${boundary}`;
  let count = 0;
  for (let at = body.indexOf(delimiter); at !== -1; at = body.indexOf(delimiter, at + delimiter.length)) {
    // the closing delimiter is one more than the parts
    if (++count > limit + 1) return true;
  }
  return false;
}

/**
 * A SendGrid-style Inbound Parse form: the raw message in `email` when the service posts it
 * raw, else the parsed fields rebuilt into a message so the one parser reads them. The body
 * was read whole within the route's limit (413 past it), so no field is cut short and
 * parsing holds no more than that; attachments and unknown fields are ignored.
 */
async function readForm(body: Buffer, contentType: string): Promise<{ raw: Buffer | string; envelopeRecipients: string[] }> {
  const match = BOUNDARY.exec(contentType);
  if (!match) throw badRequest(MALFORMED_FORM);
  const boundary = match[1] ?? match[2];
  if (partsOver(body, boundary, MAX_FORM_PARTS)) throw new AppError(413, 'PAYLOAD_TOO_LARGE', `The form may have at most ${MAX_FORM_PARTS} parts`);
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), { headers: { 'content-type': `${FORM_TYPE}; boundary="${boundary}"` } }).formData();
  } catch {
    throw badRequest(MALFORMED_FORM);
  }
  const fields: Partial<Record<(typeof FORM_FIELDS)[number], string>> = {};
  for (const name of FORM_FIELDS) {
    const value = form.get(name);
    if (typeof value === 'string') fields[name] = value;
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
  // the message as a field, or as a file part (`curl -F email=@message.eml`): then its bytes
  // as sent, for the MIME parser to decode by the charsets it declares
  const email = form.get('email');
  if (email !== null && typeof email !== 'string') return { raw: Buffer.from(await email.arrayBuffer()), envelopeRecipients };
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
    app.addContentTypeParser([...RAW_TYPES, FORM_TYPE], { parseAs: 'buffer', bodyLimit: MAX_MESSAGE_BYTES }, (_request, body, done) => done(null, body));
    app.post(
      '/inbound/email',
      {
        // by API key only (the scope's hook would also take a JWT)
        config: { public: true },
        onRequest: apiKeyOnly(ctx),
        bodyLimit: MAX_MESSAGE_BYTES,
        schema: {
          tags: ['Email'],
          summary: "Inbound lead email (or a lead's reply to our email) from a hosted mail service: raw MIME (message/rfc822) or a SendGrid-style multipart form (API key only)",
          querystring: InboundEmailQuery,
          response: { 200: InboundEmailResponse, ...nativeErrors(404, 413, 415) },
        },
      },
      async (request) => {
        if (!Buffer.isBuffer(request.body)) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send message/rfc822 (raw MIME) or multipart/form-data');
        const contentType = request.headers['content-type'] ?? '';
        const email: { raw: Buffer | string; envelopeRecipients: string[] } = contentType.toLowerCase().startsWith(FORM_TYPE)
          ? await readForm(request.body, contentType)
          : { raw: request.body, envelopeRecipients: [] };
        if (request.query.to) email.envelopeRecipients = request.query.to.split(',').map((to) => to.trim());
        const { routed, replied } = await receiveEmailOverHttp(ctx, request.principal, { ...email, configurationId: request.query.configurationId });
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

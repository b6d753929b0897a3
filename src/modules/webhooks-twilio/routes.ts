import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { forbidden } from '../../http/errors.ts';
import { isValidTwilioSignature } from '../channels/signature.ts';
import { callbackErrors, EmptyTwiml, FormBody, StatusQuery } from './schemas.ts';
import { handleCarrierStatus, handleInboundSms } from './service.ts';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/**
 * Twilio's callbacks: public routes authenticated by X-Twilio-Signature (HMAC-SHA1 of the
 * URL Twilio called and the sorted form parameters, keyed by the auth token). The URL is
 * PUBLIC_URL + path when set, since behind a proxy the request's own host is not the one
 * Twilio signed.
 */
export function twilioWebhookRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  // The form as sent: the signature covers every value of a repeated name, the body record one.
  const forms = new WeakMap<FastifyRequest, URLSearchParams>();
  // before validation: an unsigned request learns nothing of what a body must hold (403, not 400)
  const verify = async (request: FastifyRequest) => {
    const authToken = ctx.config.twilio?.authToken;
    const base = ctx.config.publicUrl?.replace(/\/$/, '') ?? `${request.protocol}://${request.host}`;
    const signature = request.headers['x-twilio-signature'];
    // a body that is no form (JSON) is signed as its object's entries, anything else as none
    const body = request.body;
    const signed = forms.get(request) ?? (typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.entries(body) : []);
    if (!authToken || !isValidTwilioSignature(authToken, base + request.url, signed, typeof signature === 'string' ? signature : undefined)) {
      throw forbidden('Invalid Twilio signature');
    }
  };
  return async (app) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
      const form = new URLSearchParams(body as string);
      forms.set(request, form);
      done(null, Object.fromEntries(form));
    });
    app.addHook('preValidation', verify);
    const tags = ['Carrier webhooks'];
    app.post(
      '/webhook/twilio/status',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'Twilio message and call status callback (signed)',
          security: [],
          querystring: StatusQuery,
          body: FormBody,
          response: { ...callbackErrors },
        },
      },
      async (request, reply) => {
        await handleCarrierStatus(ctx, request.body, request.query.message);
        return reply.status(204).send();
      },
    );
    app.post(
      '/webhook/twilio/sms',
      { config: { public: true }, schema: { tags, summary: 'Twilio inbound SMS: records the reply, stops the cadence, handles opt-out (signed)', security: [], body: FormBody, response: { 200: EmptyTwiml, ...callbackErrors } } },
      async (request, reply) => {
        await handleInboundSms(ctx, request.body);
        return reply.type('text/xml').send(EMPTY_TWIML);
      },
    );
  };
}

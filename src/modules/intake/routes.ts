import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { nativeErrors } from '../../http/schemas.ts';
import { apiKeyOnly } from './api-key.ts';
import { WebhookBody, WebhookQuery, WebhookResponse } from './schemas.ts';
import { receiveWebhook } from './service.ts';

export const WEBHOOK_SUCCESS = 'Data processed successfully and message sent.';

export function intakeRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/webhook/outreach',
      {
        // by API key only (the scope's hook would also take a JWT)
        config: { public: true },
        onRequest: apiKeyOnly(ctx),
        schema: {
          tags: ['Webhook'],
          summary: 'Intake webhook: route a lead through a lead-management configuration (API key only)',
          body: WebhookBody,
          querystring: WebhookQuery,
          response: { 200: WebhookResponse, ...nativeErrors(404) },
        },
      },
      async (request) => {
        const result = await receiveWebhook(ctx, request.principal, request.body, request.query);
        return ok(
          { contactId: result.lead.id, conversationId: result.lead.convo_id, applicationId: result.applicationId },
          WEBHOOK_SUCCESS,
        );
      },
    );
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { MessageListQuery, MessageListResponse, MessageResponse, SendMessageBody } from './schemas.ts';
import { messagesOfLead, messagesOfOrganization, sendManualMessage, toMessageDto } from './service.ts';

export function messageRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Messages'];
    app.get(
      '/leads/:id/messages',
      { schema: { tags, summary: "A lead's conversation: outbound touches with their delivery state, and replies", params: IdParams, response: { 200: MessageListResponse, ...nativeErrors(404) } } },
      async (request) => ok((await messagesOfLead(ctx, request.principal, request.params.id)).map(toMessageDto)),
    );
    app.post(
      '/leads/:id/messages',
      { schema: { tags, summary: 'Send a message to a lead (queued for delivery, in business hours unless overridden)', params: IdParams, body: SendMessageBody, response: { 201: MessageResponse, ...nativeErrors(404) } } },
      async (request, reply) =>
        reply.status(201).send(ok(toMessageDto(await sendManualMessage(ctx, request.principal, request.params.id, request.body)), 'Message queued')),
    );
    app.get(
      '/messages',
      { schema: { tags, summary: "The organization's messages, newest first, optionally by status (e.g. failed, dead)", querystring: MessageListQuery, response: { 200: MessageListResponse, ...nativeErrors() } } },
      async (request) => ok((await messagesOfOrganization(ctx, request.principal, request.query)).map(toMessageDto)),
    );
  };
}

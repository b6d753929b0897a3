import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { optionalJsonBody } from '../../http/optional-body.ts';
import { IdParams, nativeErrors } from '../../http/schemas.ts';
import { ApprovalListResponse, ApprovalQuery, ApprovalResponse, ApproveBody } from './schemas.ts';
import { approve, listApprovalQueue, reject, toApprovalDto } from './service.ts';

export function approvalRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Approval'];
    app.get(
      '/approvals',
      { schema: { tags, summary: 'The approval queue: messages waiting for a rep (oldest first)', querystring: ApprovalQuery, response: { 200: ApprovalListResponse, ...nativeErrors() } } },
      async (request) => ok((await listApprovalQueue(ctx, request.principal, request.query)).map(toApprovalDto)),
    );
    app.post(
      '/approvals/:id/approve',
      {
        schema: {
          tags,
          summary: 'Approve a pending message (optionally edited); it is queued for sending exactly once',
          params: IdParams,
          body: Type.Optional(ApproveBody),
          response: { 200: ApprovalResponse, ...nativeErrors(404, 409) },
        },
        ...optionalJsonBody,
      },
      async (request) => ok(toApprovalDto(await approve(ctx, request.principal, request.params.id, request.body?.content)), 'Approved'),
    );
    app.post(
      '/approvals/:id/reject',
      { schema: { tags, summary: 'Reject a pending message; it is never sent', params: IdParams, response: { 200: ApprovalResponse, ...nativeErrors(404, 409) } } },
      async (request) => ok(toApprovalDto(await reject(ctx, request.principal, request.params.id)), 'Rejected'),
    );
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { nativeErrors } from '../../http/schemas.ts';
import { callerAsUser, toPublicUser } from '../auth/service.ts';
import { ApiKeyResponse, CreateUserBody, UserListResponse, UserResponse } from './schemas.ts';
import { addUser, regenerateApiKey } from './service.ts';
import { listUsers } from './store.ts';

export function userRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/users',
      { schema: { tags: ['Users'], summary: 'Add a user to the caller\'s organization (ADMIN only)', body: CreateUserBody, response: { 201: UserResponse, ...nativeErrors(403) } } },
      async (request, reply) => reply.status(201).send(ok(await addUser(ctx, request.principal, request.body), 'User created')),
    );

    app.get(
      '/users',
      { schema: { tags: ['Users'], summary: 'List the users of the caller\'s organization', response: { 200: UserListResponse, ...nativeErrors() } } },
      async (request) => ok((await listUsers(ctx.db, request.principal.organizationId)).map(toPublicUser)),
    );

    app.get(
      '/users/me',
      { schema: { tags: ['Users'], summary: 'The calling user', response: { 200: UserResponse, ...nativeErrors() } } },
      async (request) => ok(callerAsUser(request.principal)),
    );

    app.post(
      '/user/api-key/regenerate',
      { schema: { tags: ['Users'], summary: 'Issue a new API key, replacing the previous one; it is shown once', response: { 200: ApiKeyResponse, ...nativeErrors() } } },
      async (request) => ok({ apiKey: await regenerateApiKey(ctx, request.principal) }, 'API key regenerated'),
    );
  };
}

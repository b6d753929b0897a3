import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../http/errors.ts';

/**
 * Custom fields are the client's data, and `__proto__` or `constructor` are legitimate keys
 * there. Fastify's default JSON parser rejects such bodies; this scope's parser keeps them:
 * JSON.parse makes them own properties (never a prototype), our code never merges bodies
 * into plain objects with assignment, and the database does the merging.
 */
export function acceptPrototypeKeysInJson(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(badRequest('Request body is empty but content-type is application/json'), undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest('Request body is not valid JSON'), undefined);
    }
  });
}

import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.ts';

/**
 * The deepest JSON body accepted. No contract nests more than a few levels, while JSONB
 * functions recurse once per level: a body a few thousand levels deep exhausts PGlite's
 * stack and leaves the embedded database unusable for every tenant.
 */
export const MAX_JSON_DEPTH = 64;

/** What JSON.parse makes of `[…]` and `{…}`; a streamed or raw body (CSV, MIME) is none of these. */
function isJsonContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return Array.isArray(value) || prototype === Object.prototype || prototype === null;
}

/** Whether a parsed JSON `value` nests arrays or objects more than `limit` levels deep (iterative: no recursion of our own). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (!isJsonContainer(current)) continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Refuses, before validation, any parsed body nested deeper than MAX_JSON_DEPTH (400 in the surface's envelope). */
export function useJsonDepthLimit(server: FastifyInstance): void {
  server.addHook('preValidation', async (request) => {
    if (nestedDeeperThan(request.body, MAX_JSON_DEPTH)) throw badRequest(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  });
}

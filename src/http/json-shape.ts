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

/**
 * What a parsed JSON body holds that no store can keep, found in one walk (iterative: no
 * recursion of our own): nesting deeper than `depthLimit`, or a number literal too large for
 * a double (1e400), which JSON.parse reads as Infinity and JSON.stringify would turn into null.
 */
export function unstorableJson(value: unknown, depthLimit: number): string | undefined {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current === 'number' && !Number.isFinite(current)) return 'Request body holds a number too large to represent';
    if (!isJsonContainer(current)) continue;
    if (depth > depthLimit) return `Request body is nested deeper than ${depthLimit} levels`;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return undefined;
}

/** Refuses, before validation, a parsed body that unstorableJson faults (400 in the surface's envelope). */
export function useJsonShapeLimits(server: FastifyInstance): void {
  server.addHook('preValidation', async (request) => {
    const fault = unstorableJson(request.body, MAX_JSON_DEPTH);
    if (fault !== undefined) throw badRequest(fault);
  });
}

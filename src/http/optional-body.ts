import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Whether the request carries no body: no length, or length 0, and nothing chunked. */
function sentNoBody(request: FastifyRequest): boolean {
  const headers = request.raw.headers;
  return headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0');
}

/**
 * An empty body is no body: its content type (a generated client sends JSON's with every
 * request) is dropped before parsing, since Fastify's JSON parser would refuse the empty
 * text and there is nothing to parse.
 */
async function dropEmptyBody(request: FastifyRequest, _reply: unknown, payload: NodeJS.ReadableStream) {
  if (sentNoBody(request)) delete request.raw.headers['content-type'];
  return payload;
}

/** Route hooks for a request body the contract makes optional: none at all, or an empty one, is read as `{}`. */
export const optionalJsonBody = {
  preParsing: dropEmptyBody,
  preValidation: async (request: FastifyRequest) => {
    request.body ??= {};
  },
};

/** Routes that take no body (DELETE, POST /auth/refresh, …) are not refused for an empty one sent as JSON. */
export function acceptEmptyJsonWhereNoBodyIsTaken(server: FastifyInstance): void {
  server.addHook('preParsing', async (request, reply, payload) =>
    !request.routeOptions.schema?.body && /^application\/json\b/i.test(request.headers['content-type'] ?? '') ? dropEmptyBody(request, reply, payload) : payload,
  );
}

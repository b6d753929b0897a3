import type { FastifyRequest } from 'fastify';

/**
 * Route hooks for a request body the contract makes optional: no body at all, or an empty
 * one sent with a JSON content type (as generated clients send every request), is read as
 * `{}`. Fastify's JSON parser would refuse the empty one, so its content type is dropped
 * before parsing: there is nothing to parse.
 */
export const optionalJsonBody = {
  preParsing: async (request: FastifyRequest, _reply: unknown, payload: NodeJS.ReadableStream) => {
    const headers = request.raw.headers;
    if (headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0')) {
      delete headers['content-type'];
    }
    return payload;
  },
  preValidation: async (request: FastifyRequest) => {
    request.body ??= {};
  },
};

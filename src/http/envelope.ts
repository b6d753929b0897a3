import type { ConnectionError, FastifyInstance, FastifyReply } from 'fastify';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, badRequest, notFound, toAppError } from './errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** what a route answers for an unexpected failure instead of the surface's generic text (the seed's words) */
    serverErrorMessage?: string;
  }
}

/** How a surface writes an error: its status and body for an AppError. */
export type ErrorRenderer = (error: AppError) => { status: number; body: unknown };

/**
 * Installs one surface's error and not-found handlers in an encapsulated scope, so every
 * failure under that prefix (validation, bad JSON, oversize body, unknown route, a thrown
 * AppError, an unexpected crash) answers in that surface's envelope.
 */
export function useErrorEnvelope(scope: FastifyInstance, render: ErrorRenderer): void {
  scope.setErrorHandler((error, request, reply) => {
    let appError = toAppError(error);
    if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
      const message = request.routeOptions.config.serverErrorMessage;
      if (message) appError = new AppError(appError.status, appError.code, message);
    }
    return sendError(render, appError, reply);
  });
  scope.setNotFoundHandler((request, reply) =>
    sendError(render, notFound(`Route ${request.method} ${request.url.split('?')[0]} not found`), reply),
  );
}

export function sendError(render: ErrorRenderer, error: AppError, reply: FastifyReply) {
  const { status, body } = render(error);
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

/** The native (Tether) envelope: `{success: false, error, details?, data?}`. */
export const renderNativeError: ErrorRenderer = (error) => {
  const body: Record<string, unknown> = { success: false, error: error.message };
  if (error.issues.length > 0) body.details = error.issues;
  if (error.data !== undefined) body.data = error.data;
  return { status: error.status, body };
};

/** A request Node's HTTP parser refused, with the status Node itself answers it with. */
function clientErrorOf(error: ConnectionError): AppError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError(431, 'BAD_REQUEST', 'Request headers are too large');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Chunk extensions are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError(408, 'BAD_REQUEST', 'The request took too long to arrive');
    default:
      return badRequest('Malformed HTTP request');
  }
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (headers over its size limit,
 * a malformed request line or header, a request too slow to arrive) never reaches a surface,
 * so it answers here in the native envelope, since the URL that would name the surface may
 * not have been read. The connection is closed: the parser cannot tell where a next request
 * would begin.
 */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  // a reset connection has no one left to answer
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // as Node's own handler does: never write into an answer already on its way on this connection
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const { status, body } = renderNativeError(clientErrorOf(error));
    const payload = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
    );
  }
  socket.destroy();
}

export function ok<T>(data: T, message?: string): { success: true; message?: string; data: T } {
  return message === undefined ? { success: true, data } : { success: true, message, data };
}

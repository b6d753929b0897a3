import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound, toAppError } from './errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** what a route answers for an unexpected failure instead of the surface's generic text (the seed's words) */
    serverErrorMessage?: string;
  }
}

/** How a surface writes an error: its status and body for an AppError. */
export type ErrorRenderer = (error: AppError, request: FastifyRequest) => { status: number; body: unknown };

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
    return sendError(render, appError, request, reply);
  });
  scope.setNotFoundHandler((request, reply) =>
    sendError(render, notFound(`Route ${request.method} ${request.url.split('?')[0]} not found`), request, reply),
  );
}

export function sendError(render: ErrorRenderer, error: AppError, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = render(error, request);
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

/** The native (Tether) envelope: `{success: false, error, message?}`. */
export const renderNativeError: ErrorRenderer = (error) => {
  const body: Record<string, unknown> = { success: false, error: error.message };
  if (error.issues.length > 0) body.details = error.issues;
  if (error.data !== undefined) body.data = error.data;
  return { status: error.status, body };
};

export function ok<T>(data: T, message?: string): { success: true; message?: string; data: T } {
  return message === undefined ? { success: true, data } : { success: true, message, data };
}

import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import type { AppContext } from '../../context.ts';
import { ok } from '../../http/envelope.ts';
import { AppError, badRequest } from '../../http/errors.ts';
import { nativeErrors } from '../../http/schemas.ts';
import { ownActiveConfiguration } from '../intake/service.ts';
import { importCsv } from './csv.ts';
import { ImportQuery, ImportResponse } from './schemas.ts';

export function importRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Both parsers hand the handler a stream: a file of any size is read once, row by row.
    // a form is the file and little else: a few small fields at most are read beside it
    await app.register(multipart, { limits: { fileSize: Number.MAX_SAFE_INTEGER, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 21 } });
    app.addContentTypeParser(['text/csv', 'application/csv'], (_request, payload, done) => done(null, payload));
    app.post(
      '/leads/import',
      {
        schema: {
          tags: ['Contacts'],
          summary: 'Import leads from a CSV (text/csv body, or a multipart file), routed through a configuration; per-row errors reported',
          querystring: ImportQuery,
          response: { 200: ImportResponse, ...nativeErrors(404, 415) },
        },
      },
      async (request) => {
        const configuration = await ownActiveConfiguration(ctx, request.principal, request.query.configurationId);
        let csv: Readable;
        if (request.isMultipart()) {
          const file = await request.file();
          if (!file) throw badRequest('The form has no file');
          csv = file.file;
        } else if (request.body && typeof (request.body as Readable).pipe === 'function') {
          csv = request.body as Readable;
        } else {
          throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send text/csv, or multipart/form-data with the file');
        }
        return ok(await importCsv(ctx, configuration, csv), 'Import finished');
      },
    );
  };
}

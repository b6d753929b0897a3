import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function createAjv(options: Options): Ajv {
  // strict: false would also let Infinity and NaN (1e400 in JSON) pass as numbers: strictNumbers stays on
  const ajv = new Ajv({ allErrors: true, strict: false, strictNumbers: true, useDefaults: true, removeAdditional: false, ...options });
  (addFormats as unknown as (ajv: Ajv) => void)(ajv);
  return ajv;
}

// Bodies are JSON and are taken exactly as sent: "5" is not a number and "true" is not a
// boolean. Query strings and path params are text by nature and are coerced.
const bodyAjv = createAjv({ coerceTypes: false });
const textAjv = createAjv({ coerceTypes: 'array' });

export const schemaCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

import type { Ajv } from 'ajv';
import type { FastifySchemaValidationError, SchemaErrorDataVar } from 'fastify/types/schema.js';

/**
 * Ajv keyword for a multipart file field (with @fastify/multipart's keyValues mode the file arrives as a
 * Buffer). It documents itself in OpenAPI as `type: string, format: binary`.
 */
export function fileKeyword(ajv: Ajv): Ajv {
  return ajv.addKeyword({
    keyword: 'isFile',
    compile: (_schema: unknown, parent: Record<string, unknown>) => {
      parent.type = 'string';
      parent.format = 'binary';
      delete parent.isFile;
      return (value: unknown) => Buffer.isBuffer(value);
    },
    error: { message: 'must be a single uploaded file' },
  });
}

/** Turns Ajv's first error into one sentence that names the field: "missing field 'timestamp'". */
export function formatValidationError(errors: FastifySchemaValidationError[], dataVar: SchemaErrorDataVar): Error {
  const error = errors[0];
  if (!error) return new Error(`invalid ${dataVar}`);
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty?: string }).missingProperty ?? '';
    const field = path ? `${path}.${missing}` : missing;
    return new Error(`missing field '${field}'${dataVar === 'querystring' ? ' in query' : ''}`);
  }
  if (!path) return new Error(`invalid ${dataVar}: ${error.message ?? 'invalid'}`);
  return new Error(`invalid field '${path}': ${error.message ?? 'invalid value'}`);
}

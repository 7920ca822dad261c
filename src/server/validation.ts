import type { Ajv } from 'ajv';
import { ApiError } from '../errors.js';
import { ReceivedImage } from '../images/received-image.js';
import type { FastifySchemaValidationError, SchemaErrorDataVar } from 'fastify/types/schema.js';

/**
 * Ajv keyword for a multipart file field (the app's onFile streams it to disk and attaches a ReceivedImage).
 * The OpenAPI document shows it as `type: string, format: binary` (see documentFileFields).
 */
export function fileKeyword(ajv: Ajv): Ajv {
  return ajv.addKeyword({
    keyword: 'isFile',
    schemaType: 'boolean',
    validate: (_schema: boolean, value: unknown) => value instanceof ReceivedImage,
    error: { message: 'must be a single uploaded file' },
  });
}

/** Copy of a schema with every `isFile` property written the way OpenAPI describes an uploaded file. */
export function documentFileFields<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(documentFileFields) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const record = schema as Record<string, unknown>;
  if (record.isFile === true) {
    const { isFile: _isFile, ...rest } = record;
    return { ...rest, type: 'string', format: 'binary' } as T;
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, documentFileFields(v)])) as T;
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

/**
 * Ajv's type coercion turns "1e309" into Infinity and then skips minimum/maximum for it, and an integer with
 * no maximum may be past what SQLite stores (1e308): either reaches a handler and fails there ("datatype
 * mismatch"). Run after validation on the query, path and body: the first number outside ±2^53 is a 400
 * naming its field (404 in the path). No field of the API needs more.
 */
export function rejectOutOfRangeNumbers(parts: Record<string, unknown>): void {
  for (const [part, value] of Object.entries(parts)) {
    const field = outOfRangeField(value, '');
    if (field === undefined) continue;
    // As for any malformed id in the path: a resource that does not exist.
    if (part === 'params') throw new ApiError(404, 'not found', 'NOT_FOUND');
    throw new ApiError(400, `invalid field '${field || part}': out of range (at most ${Number.MAX_SAFE_INTEGER})`, 'INVALID_FIELD');
  }
}

function outOfRangeField(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Math.abs(value) <= Number.MAX_SAFE_INTEGER ? undefined : path;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || value instanceof ReceivedImage) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = outOfRangeField(child, path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

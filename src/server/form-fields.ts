import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

/** The longest text field of a multipart form on a route that sets none of its own. */
export const FORM_FIELD_BYTES = 64 * 1024;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This multipart route's longest text field in bytes (formFieldLimit()); else FORM_FIELD_BYTES. */
    formFieldBytes?: number;
  }
}

/**
 * Route config for text fields of up to `bytes`. The parser keeps one byte more, so a longer field is seen whole
 * enough to be refused by name (refuseLongFields) instead of reaching the route cut short.
 */
export function formFieldLimit(bytes: number) {
  return { formFieldBytes: bytes, multipartOptions: { limits: { fieldSize: bytes + 1 } } };
}

/** The upload forms' default (OPENRECALL_MAX_METADATA_MB): MyRecall v3's metadata carries a page's accessibility tree. */
export const UPLOAD_FIELD_BYTES = 4 * 1024 * 1024;

/** The parser's limit for routes that set none (app.ts). */
export const DEFAULT_FIELD_PARSER_BYTES = FORM_FIELD_BYTES + 1;

/** preValidation, after the multipart parser: 413 naming the first text field longer than its route allows. */
export async function refuseLongFields(request: FastifyRequest): Promise<void> {
  if (!request.isMultipart() || !request.body || typeof request.body !== 'object') return;
  const limit = request.routeOptions.config?.formFieldBytes ?? FORM_FIELD_BYTES;
  for (const [name, value] of Object.entries(request.body as Record<string, unknown>)) {
    for (const text of Array.isArray(value) ? value : [value]) {
      if (typeof text !== 'string' || text.length <= limit / 3 || Buffer.byteLength(text) <= limit) continue;
      throw new ApiError(413, `field '${name.slice(0, 64)}' is larger than ${describeBytes(limit)}, the limit of this route's text fields`, 'FIELD_TOO_LARGE');
    }
  }
}

const describeBytes = (bytes: number) => (bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 100) / 100} MB` : `${Math.round(bytes / 1024)} KB`);

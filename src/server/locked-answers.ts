import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * What a locked server (and a server in the middle of `openrecall lock`) answers. Uploads get 503 with Retry-After,
 * never 423: the capture client quarantines a frame on a 4xx it does not know, and retries every 5xx, so frames
 * captured while the memory is locked wait in its buffer and arrive after the unlock. MyRecall v3's `/v1/ingest`
 * gets its own shape (`code`, `retry_after`). Everything else is 423 LOCKED.
 */
export const LOCKED_MESSAGE = 'the data dir is encrypted and locked: unlock it on the web page at / or with `openrecall unlock`';
export const LOCKED_RETRY_AFTER_SECONDS = 10;

/** The routes a capture client uploads to. */
export const UPLOAD_ROUTES = ['/api/upload', '/v1/ingest'] as const;

export function isUploadRoute(url: string): boolean {
  const path = url.split('?')[0]!;
  return (UPLOAD_ROUTES as readonly string[]).includes(path);
}

export async function answerLocked(request: FastifyRequest, reply: FastifyReply) {
  reply.header('cache-control', 'no-store');
  if (!isUploadRoute(request.url)) return reply.code(423).send({ statusCode: 423, error: 'LOCKED', message: LOCKED_MESSAGE });
  const message = `${LOCKED_MESSAGE}; the upload is kept by the client and retried`;
  reply.code(503).header('retry-after', String(LOCKED_RETRY_AFTER_SECONDS));
  if (request.url.startsWith('/v1/')) {
    return reply.send({ statusCode: 503, error: message, message, code: 'LOCKED', request_id: request.id, retry_after: LOCKED_RETRY_AFTER_SECONDS });
  }
  return reply.send({ statusCode: 503, error: 'LOCKED', message });
}

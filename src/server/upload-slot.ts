import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UploadGate } from '../services/upload-gate.js';

/**
 * An upload route's onRequest hook: a slot of the gate before the body is read, or 503 with Retry-After at once
 * when all are taken (`error` is the code the route's clients know). The slot is freed on 'close', which comes
 * once the answer is sent or the connection is gone (client away, request timeout).
 */
export function holdUploadSlot(gate: UploadGate | undefined, busy: { error: string; message: (gate: UploadGate) => string }) {
  return async (_request: FastifyRequest, reply: FastifyReply) => {
    if (!gate) return;
    const release = gate.tryAcquire();
    if (!release) {
      return reply
        .code(503)
        .header('retry-after', String(gate.retryAfterSeconds))
        .send({ statusCode: 503, error: busy.error, message: busy.message(gate) });
    }
    reply.raw.once('close', release);
  };
}

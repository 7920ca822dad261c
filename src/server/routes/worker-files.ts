import type { FastifyInstance } from 'fastify';
import { DataFileQuery, DataFileRemoved, DataFileWritten, FrameFileQuery, WORKER_ID_HEADER, WorkerHeaders, WorkerPing } from '../../api/index.js';
import { bearerToken, safeEqual } from '../../services/auth-service.js';
import type { DataFilesService } from '../../services/data-files-service.js';
import { sendUnauthorized } from '../security.js';

/**
 * The data dir's frame files for `openrecall worker` processes on machines that do not mount it. Bodies are
 * the raw file bytes. Behind the API token like every /api route, or, when OPENRECALL_WORKER_TOKEN is set,
 * behind that token alone (so a worker machine never holds the key to the rest of the API).
 */
export function workerFilesRoutes(files: DataFilesService, maxBytes: number, workerToken?: string) {
  return async (app: FastifyInstance): Promise<void> => {
    const config = { ownToken: workerToken !== undefined };
    if (workerToken !== undefined) {
      app.addHook('onRequest', async (request, reply) => {
        const offered = bearerToken(request.headers.authorization);
        if (offered !== undefined && safeEqual(offered, workerToken)) return;
        return sendUnauthorized(
          reply,
          offered === undefined
            ? 'the worker file API requires the worker token: send Authorization: Bearer <OPENRECALL_WORKER_TOKEN>'
            : 'the worker token is not valid',
        );
      });
    }
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));
    app.get(
      '/api/worker/ping',
      { config, schema: { summary: 'Whether this worker may use the file API (its token)', tags: ['worker'], response: { 200: WorkerPing } } },
      async () => ({ ok: true as const }),
    );
    app.get<{ Querystring: DataFileQuery }>(
      '/api/worker/files',
      { config, schema: { summary: "A frame's file (a compacted frame rebuilt as PNG)", tags: ['worker'], querystring: DataFileQuery } },
      async (request, reply) => reply.type('application/octet-stream').send(await files.read(request.query.path)),
    );
    app.put<{ Querystring: FrameFileQuery; Headers: WorkerHeaders; Body: Buffer }>(
      '/api/worker/files',
      {
        config,
        schema: {
          summary: "Store the processed image or thumbnail of a frame this worker holds (atomically; never over a stored frame's)",
          tags: ['worker'],
          querystring: FrameFileQuery,
          headers: WorkerHeaders,
          response: { 200: DataFileWritten },
        },
      },
      async (request) => {
        if (!Buffer.isBuffer(request.body)) throw Object.assign(new Error('send the file as application/octet-stream'), { statusCode: 415 });
        return files.write(request.query.frame, request.query.path, request.body, request.headers[WORKER_ID_HEADER]);
      },
    );
    app.delete<{ Querystring: FrameFileQuery; Headers: WorkerHeaders }>(
      '/api/worker/files',
      {
        config,
        schema: {
          summary: 'Remove the upload a frame this worker holds was processed from',
          tags: ['worker'],
          querystring: FrameFileQuery,
          headers: WorkerHeaders,
          response: { 200: DataFileRemoved },
        },
      },
      async (request) => files.remove(request.query.frame, request.query.path, request.headers[WORKER_ID_HEADER]),
    );
  };
}

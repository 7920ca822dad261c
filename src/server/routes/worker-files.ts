import type { FastifyInstance } from 'fastify';
import { DataFileQuery, DataFileRemoved, DataFileWritten } from '../../api/index.js';
import type { DataFilesService } from '../../services/data-files-service.js';

/**
 * The data dir's frame files for `openrecall worker` processes on machines that do not mount it (behind the
 * API token like every /api route). Bodies are the raw file bytes.
 */
export function workerFilesRoutes(files: DataFilesService, maxBytes: number) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));
    app.get<{ Querystring: DataFileQuery }>(
      '/api/worker/files',
      { schema: { summary: "A frame's file (a compacted frame rebuilt as PNG)", tags: ['worker'], querystring: DataFileQuery } },
      async (request, reply) => reply.type('application/octet-stream').send(await files.read(request.query.path)),
    );
    app.put<{ Querystring: DataFileQuery; Body: Buffer }>(
      '/api/worker/files',
      {
        schema: {
          summary: 'Store a processed frame or thumbnail (atomically)',
          tags: ['worker'],
          querystring: DataFileQuery,
          response: { 200: DataFileWritten },
        },
      },
      async (request) => {
        if (!Buffer.isBuffer(request.body)) throw Object.assign(new Error('send the file as application/octet-stream'), { statusCode: 415 });
        return files.write(request.query.path, request.body);
      },
    );
    app.delete<{ Querystring: DataFileQuery }>(
      '/api/worker/files',
      { schema: { summary: 'Remove an upload the worker has processed', tags: ['worker'], querystring: DataFileQuery, response: { 200: DataFileRemoved } } },
      async (request) => files.remove(request.query.path),
    );
  };
}

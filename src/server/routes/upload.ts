import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors.js';
import type { IngestService } from '../../services/ingest-service.js';
import { errorResponses, UploadAccepted, UploadDuplicate, UploadForm } from '../schemas.js';

export async function uploadRoutes(app: FastifyInstance, options: { ingest: IngestService; debug: boolean }): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/api/upload',
    {
      schema: {
        summary: 'Upload a screenshot; it is stored and queued for processing',
        tags: ['ingest'],
        consumes: ['multipart/form-data'],
        body: UploadForm,
        response: { 200: UploadDuplicate, 202: UploadAccepted, ...errorResponses(400, 413, 415, 507) },
      },
      // Runs before body validation, so a JSON or text body is told what is expected rather than which field is missing.
      preValidation: async (request) => {
        if (!request.isMultipart()) {
          throw new ApiError(415, `upload must be multipart/form-data, not ${request.headers['content-type'] ?? 'an empty body'}`, 'UNSUPPORTED_MEDIA_TYPE');
        }
      },
    },
    async (request, reply) => {
      const started = performance.now();
      const form = request.body;
      const result = await options.ingest.accept({
        image: form.image,
        timestamp: form.timestamp,
        app: form.active_app,
        title: form.active_window,
        captureId: form.capture_id,
        monitor: form.monitor,
      });
      if (result.status === 'duplicate') return reply.code(200).send({ status: 'duplicate', task_id: result.taskId });
      const elapsed = Math.round((performance.now() - started) * 100) / 100;
      return reply.code(202).send({
        status: 'accepted',
        task_id: result.taskId,
        elapsed_ms: elapsed,
        ...(options.debug ? { debug: { queue_size: result.queueSize, processing_mode: result.mode } } : {}),
      });
    },
  );
}

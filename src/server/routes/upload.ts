import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors.js';
import type { ReceivedImage } from '../../images/received-image.js';
import type { IngestService, Upload } from '../../services/ingest-service.js';
import type { MetricsService } from '../../services/metrics-service.js';
import type { UploadGate } from '../../services/upload-gate.js';
import { errorResponses, UploadAccepted, UploadDuplicate, UploadForm } from '../../api/index.js';
import { normalisePythonUpload } from '../python-upload.js';
import { formFieldLimit } from '../form-fields.js';
import { holdUploadSlot } from '../upload-slot.js';

/** The fields of the upload form (the schema's properties); anything else is refused by name. */
const UPLOAD_FIELDS = Object.keys(UploadForm.properties);

export interface UploadRouteOptions {
  ingest: IngestService;
  debug: boolean;
  /** The longest text field (the Python and MyRecall forms' metadata). */
  maxMetadataBytes: number;
  gate?: UploadGate;
  metrics?: MetricsService;
}

export async function uploadRoutes(app: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  const { gate, metrics } = options;
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/api/upload',
    {
      schema: {
        summary: 'Upload a screenshot; it is stored and queued for processing',
        description:
          "Also accepts the Python MyRecall client's form: `file` (the screenshot) and `metadata`, a JSON string {timestamp, app_name, window_title}.",
        tags: ['ingest'],
        consumes: ['multipart/form-data'],
        body: UploadForm,
        response: { 200: UploadDuplicate, 202: UploadAccepted, ...errorResponses(400, 401, 413, 415, 503, 507) },
      },
      config: { acceptsMultipart: true, ...formFieldLimit(options.maxMetadataBytes) },
      // Before the body is read: a slot per upload, or 503 at once when all are taken.
      onRequest: holdUploadSlot(gate, {
        error: 'BUSY',
        message: (g) => `the server is receiving ${g.limit} uploads already; retry in ${g.retryAfterSeconds} s`,
      }),
      onResponse: async (_request, reply) => {
        if (!metrics) return;
        const status = reply.statusCode;
        metrics.upload(
          status === 202
            ? 'accepted'
            : status === 200
              ? 'duplicate'
              : status === 503
                ? 'busy'
                : status === 507
                  ? 'storage_full'
                  : status === 401
                    ? 'unauthorized'
                    : 'rejected',
        );
        if (status === 202) metrics.observeIngest(reply.elapsedTime / 1000);
      },
      // Runs before body validation, so a JSON or text body is told what is expected rather than which field is missing.
      preValidation: async (request) => {
        if (!request.isMultipart()) {
          throw new ApiError(415, `upload must be multipart/form-data, not ${request.headers['content-type'] ?? 'an empty body'}`, 'UNSUPPORTED_MEDIA_TYPE');
        }
        // The Python MyRecall client's form (file + metadata JSON) becomes this form's fields.
        normalisePythonUpload(request.body as Record<string, unknown> | undefined);
        const unknown = Object.keys((request.body as Record<string, unknown> | undefined) ?? {}).filter((name) => !UPLOAD_FIELDS.includes(name));
        if (unknown.length) {
          throw new ApiError(400, `unknown field '${unknown[0]!.slice(0, 64)}': the upload takes ${UPLOAD_FIELDS.join(', ')}`, 'UNKNOWN_FIELD');
        }
      },
    },
    async (request, reply) => {
      const started = performance.now();
      const form = request.body;
      const result = await options.ingest.accept(uploadFromForm(form));
      if (form.buffer_bytes !== undefined) metrics?.clientBuffer(request.ip, form.buffer_bytes);
      if (result.status === 'duplicate') return reply.code(200).send({ status: 'duplicate', task_id: result.frameId });
      const elapsed = Math.round((performance.now() - started) * 100) / 100;
      const queue = options.debug ? await options.ingest.queueInfo() : undefined;
      return reply.code(202).send({
        status: 'accepted',
        task_id: result.frameId,
        elapsed_ms: elapsed,
        ...(queue ? { debug: { queue_size: queue.queueSize, processing_mode: queue.mode } } : {}),
      });
    },
  );
}

/** Which form field is the image and which are the frame's details: the one place that knows the form's names. */
function uploadFromForm(form: UploadForm): Upload {
  return {
    image: form.image as ReceivedImage, // what the app's onFile attached (the isFile keyword checked it)
    timestamp: form.timestamp,
    app: form.active_app,
    title: form.active_window,
    captureId: form.capture_id,
    monitor: form.monitor,
    ...(form.text === undefined ? {} : { suppliedText: form.text, textSource: 'client' }),
    ...(form.browser_url ? { browserUrl: form.browser_url } : {}),
  };
}

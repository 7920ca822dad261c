import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  V1DescriptionSettings,
  V1Error,
  V1FrameContext,
  V1FrameParams,
  V1Health,
  V1IngestAnswer,
  V1IngestForm,
  V1LatestQuery,
  V1MemoryList,
  V1SearchQuery,
  V1SearchResponse,
} from '../../api/index.js';
import type { VlmConfig } from '../../ai/config.js';
import { ApiError } from '../../errors.js';
import type { FramesService, SendableImage } from '../../services/frames-service.js';
import type { IngestService } from '../../services/ingest-service.js';
import type { MyRecallV1Service } from '../../services/myrecall-v1-service.js';
import type { UploadGate } from '../../services/upload-gate.js';
import { uploadFromV1Form } from '../myrecall-v3-ingest.js';
import type { HostPolicy } from '../allowed-hosts.js';
import { localPort } from '../security.js';
import { formFieldLimit, UPLOAD_FIELD_BYTES } from '../form-fields.js';
import { holdUploadSlot } from '../upload-slot.js';

export interface V1RouteOptions {
  ingest: IngestService;
  frames: FramesService;
  v1: MyRecallV1Service;
  gate?: UploadGate;
  /** The longest text field (metadata, with the accessibility tree); default 4 MB. */
  maxMetadataBytes?: number;
  description: V1DescriptionSettings;
  /** The server's Host/Origin policy: CORS is granted to exactly the origins it allows. */
  hosts: HostPolicy;
}

/** The describe settings as MyRecall's Settings page reads them; the key itself never leaves the server. */
export function describeSettings(vlm: VlmConfig): V1DescriptionSettings {
  return {
    enabled: vlm.url !== '',
    provider: vlm.url ? 'openai' : 'none',
    model: vlm.model,
    api_key_masked: vlm.apiKey ? 'set' : '',
    api_base: vlm.url,
    request_timeout: Math.round(vlm.timeoutMs / 1000),
    source: 'env',
  };
}

function sendImage(reply: FastifyReply, image: SendableImage) {
  return reply.type(image.contentType).header('content-length', image.length).header('cache-control', 'private, no-cache').send(image.body);
}

/**
 * MyRecall's web UI runs on its client's own port and reads these routes from the page (its server allows any
 * origin). Here a page may read them only from an origin the Host/Origin check (../security.ts) let through: this
 * server's own, or a host the user named in OPENRECALL_ALLOWED_HOSTS (e.g. `localhost:8889` for that web UI); every
 * other origin is refused (403) and gets no CORS header. No credentials: the UI sends none.
 */
function allowCheckedOrigin(hosts: HostPolicy, request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  if (!origin || !hosts.allowsOrigin(origin, localPort(request))) return;
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'Origin');
  reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
  reply.header('access-control-allow-headers', 'Content-Type');
}

/** MyRecall's error codes by status. */
const CODES: Record<number, string> = { 400: 'INVALID_PARAMS', 404: 'NOT_FOUND', 413: 'PAYLOAD_TOO_LARGE', 415: 'INVALID_PARAMS', 503: 'QUEUE_FULL' };
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, V1Error]));

/**
 * Every error answer of /v1 in MyRecall's shape as well as this server's: the app's error handler writes
 * `{statusCode, error, message}`; this adds `code`, `request_id` and, on a 503, `retry_after`, and makes `error`
 * the message, as MyRecall's clients log it.
 */
function inMyRecallShape(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
  let body: { statusCode?: number; error?: string; message?: string };
  try {
    body = JSON.parse(payload) as typeof body;
  } catch {
    return payload;
  }
  const status = reply.statusCode;
  const retryAfter = Number(reply.getHeader('retry-after'));
  const code = body.error === 'DATABASE_UNAVAILABLE' || body.error === 'NOT_READY' ? body.error : (CODES[status] ?? body.error ?? 'INTERNAL_ERROR');
  return JSON.stringify({
    statusCode: status,
    error: body.message ?? body.error ?? 'error',
    message: body.message ?? '',
    code,
    request_id: request.id,
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retry_after: retryAfter } : {}),
  });
}

/** The MyRecall v3 routes (`/v1/*`): its client's upload and the reads its web UI makes. */
export function v1Routes(options: V1RouteOptions) {
  return async function v1Plugin(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const { gate, v1 } = options;
    app.addHook('onSend', async (request, reply, payload) => {
      allowCheckedOrigin(options.hosts, request, reply);
      return inMyRecallShape(request, reply, payload);
    });
    // The browser's preflight for a cross-origin request (the web UI of MyRecall's client runs on its own port).
    app.options('/v1/*', { schema: { hide: true } }, async (request, reply) => {
      allowCheckedOrigin(options.hosts, request, reply);
      return reply.code(204).send();
    });

    api.post(
      '/v1/ingest',
      {
        config: { acceptsMultipart: true, ...formFieldLimit(options.maxMetadataBytes ?? UPLOAD_FIELD_BYTES) },
        schema: {
          summary: 'MyRecall v3 upload: one JPEG with its metadata, idempotent by capture_id',
          description:
            'metadata.text_source "accessibility" with text (and browser_url, accessibility): that text becomes the frame\'s text; with enough words OCR is skipped.',
          tags: ['myrecall v3'],
          consumes: ['multipart/form-data'],
          body: V1IngestForm,
          response: { 200: V1IngestAnswer, 201: V1IngestAnswer, ...errors(400, 401, 413, 503, 507) },
        },
        onRequest: holdUploadSlot(gate, {
          error: 'QUEUE_FULL',
          message: (g) => `the server is receiving ${g.limit} uploads already; retry later`,
        }),
        preValidation: async (request) => {
          if (!request.isMultipart()) {
            throw new ApiError(400, `the upload must be multipart/form-data, not ${request.headers['content-type'] ?? 'an empty body'}`, 'INVALID_PARAMS');
          }
        },
      },
      async (request, reply) => {
        const captureId = request.body.capture_id.toLowerCase();
        const result = await options.ingest.accept(uploadFromV1Form(request.body));
        const duplicate = result.status === 'duplicate';
        return reply
          .code(duplicate ? 200 : 201)
          .send({ capture_id: captureId, frame_id: result.frameId, status: duplicate ? 'already_exists' : 'queued', request_id: request.id });
      },
    );

    api.get(
      '/v1/health',
      {
        schema: {
          summary: "MyRecall's health: newest frame, queue, the capture permission its client reported",
          tags: ['myrecall v3'],
          response: { 200: V1Health },
        },
      },
      async () => v1.health(),
    );

    api.get(
      '/v1/search',
      {
        schema: {
          summary: "MyRecall's search: keyword (fts), semantic (vector) or hybrid, filtered by time, app, window and browser URL",
          tags: ['myrecall v3'],
          querystring: V1SearchQuery,
          response: { 200: V1SearchResponse, ...errors(400, 401) },
        },
      },
      async (request) => v1.search(request.query),
    );

    api.get(
      '/v1/frames/latest',
      {
        schema: {
          summary: 'Frames captured after `since`, newest first (at most 200): the grid polls it for new frames',
          tags: ['myrecall v3'],
          querystring: V1LatestQuery,
          response: { 200: V1MemoryList, ...errors(400, 401) },
        },
      },
      async (request) => v1.latest(request.query.since),
    );

    api.get(
      '/v1/frames/:frame_id',
      {
        schema: {
          summary: "A frame's screenshot (the stored image: WebP once processed, PNG when rebuilt from tiles)",
          tags: ['myrecall v3'],
          params: V1FrameParams,
          response: { 200: { description: 'The image', content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } }, ...errors(401, 404) },
        },
      },
      async (request, reply) => sendImage(reply, await options.frames.imageToSend(request.params.frame_id)),
    );

    api.get(
      '/v1/frames/:frame_id/context',
      {
        schema: {
          summary: "A processed frame's text (with its source), URLs and description",
          tags: ['myrecall v3'],
          params: V1FrameParams,
          response: { 200: V1FrameContext, ...errors(401, 404) },
        },
      },
      async (request) => v1.context(request.params.frame_id),
    );

    api.get(
      '/v1/settings/description',
      {
        schema: {
          summary: "This server's describe (vision model) settings, as MyRecall's Settings page reads them (set by OPENRECALL_VLM_* here)",
          tags: ['myrecall v3'],
          response: { 200: V1DescriptionSettings },
        },
      },
      async () => options.description,
    );
  };
}

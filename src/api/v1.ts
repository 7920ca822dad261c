import { Type, type Static } from 'typebox';
import { Nullable } from './common.js';

/**
 * The MyRecall v3 wire format (`/v1/*`): what today's MyRecall client uploads and what its web UI reads, in that
 * client's own names and shapes (snake_case, `frame_id`, ISO-8601 times), so it runs against this server unchanged.
 */

const UUID_V7 = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';

/** POST /v1/ingest: multipart, as the client's uploader sends it. Other form fields are ignored, as MyRecall does. */
export const V1IngestForm = Type.Object({
  capture_id: Type.String({ pattern: UUID_V7, description: 'UUIDv7 made by the client: the idempotency key' }),
  metadata: Type.String({
    description:
      'JSON object: timestamp (ISO-8601), event_ts, app_name, window_name, capture_trigger, device_name, text_source, text, browser_url, accessibility…; unknown fields are kept. At most OPENRECALL_MAX_METADATA_MB (4 MB): longer is 413 FIELD_TOO_LARGE',
  }),
  file: Type.Unsafe<unknown>({ isFile: true, description: 'The screenshot: JPEG, at most 10 MB' }),
});
export type V1IngestForm = Static<typeof V1IngestForm>;

export const V1IngestAnswer = Type.Object({
  capture_id: Type.String(),
  frame_id: Type.Integer(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('already_exists')], { description: '201 queued; 200 already_exists (seen before)' }),
  request_id: Type.String(),
});
export type V1IngestAnswer = Static<typeof V1IngestAnswer>;

/**
 * Every /v1 error: MyRecall's `{error, code, request_id}` (`error` is the message, `code` INVALID_PARAMS,
 * PAYLOAD_TOO_LARGE, QUEUE_FULL, NOT_FOUND…) together with this server's `statusCode` and `message`.
 */
export const V1Error = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String({ description: 'What was wrong (MyRecall: the message)' }),
  message: Type.String(),
  code: Type.Optional(Type.String({ description: 'Machine-readable code' })),
  request_id: Type.Optional(Type.String()),
  retry_after: Type.Optional(Type.Integer({ description: 'On 503: seconds to wait before retrying' })),
});
export type V1Error = Static<typeof V1Error>;

export const V1Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  last_frame_timestamp: Nullable(Type.String({ description: 'Capture time of the newest frame, ISO-8601 UTC' })),
  last_frame_ingested_at: Nullable(Type.String({ description: 'When the newest frame arrived, ISO-8601 UTC' })),
  frame_status: Type.Union([Type.Literal('ok'), Type.Literal('stale')], { description: 'stale: no frame in the last 5 minutes' }),
  message: Type.String(),
  capture_permission_status: Nullable(Type.String({ description: 'As the latest MyRecall heartbeat reported it' })),
  capture_permission_reason: Nullable(Type.String()),
  last_permission_check_ts: Type.Unknown(),
  queue: Type.Object({ pending: Type.Integer(), processing: Type.Integer(), failed: Type.Integer() }),
});
export type V1Health = Static<typeof V1Health>;

const flag = Type.String({ maxLength: 8, description: 'true/false, 1/0, yes/no' });

export const V1SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 65_536, default: '' })),
  mode: Type.Optional(Type.String({ maxLength: 16, description: 'fts (keyword), vector (semantic) or hybrid; anything else: hybrid' })),
  content_type: Type.Optional(Type.String({ maxLength: 32, description: 'Accepted and ignored, as by MyRecall' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
  start_time: Type.Optional(Type.String({ maxLength: 64, description: 'ISO-8601; without an offset: UTC' })),
  end_time: Type.Optional(Type.String({ maxLength: 64 })),
  app_name: Type.Optional(Type.String({ maxLength: 512 })),
  window_name: Type.Optional(Type.String({ maxLength: 1024 })),
  browser_url: Type.Optional(Type.String({ maxLength: 4096, description: 'Substring of the browser URL, case-insensitive' })),
  focused: Type.Optional(flag),
  include_text: Type.Optional(flag),
  max_text_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 200 })),
});
export type V1SearchQuery = Static<typeof V1SearchQuery>;

const frameFields = {
  frame_id: Type.Integer(),
  timestamp: Type.String({ description: 'Capture time, ISO-8601 UTC' }),
  text_source: Type.String({ description: 'accessibility (the client sent the text) or ocr' }),
  app_name: Nullable(Type.String()),
  window_name: Nullable(Type.String()),
  browser_url: Nullable(Type.String()),
  device_name: Type.String({ description: 'As the client named it, else monitor_<n>' }),
};

export const V1SearchItem = Type.Object({
  ...frameFields,
  focused: Nullable(Type.Boolean()),
  frame_url: Type.String({ description: 'The image: /v1/frames/{id}' }),
  embedding_status: Nullable(Type.String()),
  score: Type.Number(),
  text: Type.Optional(Type.String({ description: 'With include_text=true, shortened to max_text_length' })),
  description: Type.Optional(Type.String()),
});
export type V1SearchItem = Static<typeof V1SearchItem>;

export const V1SearchResponse = Type.Object({
  data: Type.Array(V1SearchItem),
  pagination: Type.Object({ limit: Type.Integer(), offset: Type.Integer(), total: Type.Integer() }),
});
export type V1SearchResponse = Static<typeof V1SearchResponse>;

export const V1FrameParams = Type.Object({ frame_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
export type V1FrameParams = Static<typeof V1FrameParams>;

export const V1LatestQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 64, description: 'ISO-8601; frames captured after it (without an offset: UTC)' })),
});
export type V1LatestQuery = Static<typeof V1LatestQuery>;

/** One frame as MyRecall's grid lists it (GET /v1/frames/latest), newest first. */
export const V1Memory = Type.Object({
  id: Type.Integer(),
  frame_id: Type.Integer(),
  capture_id: Nullable(Type.String()),
  timestamp: Type.String(),
  app: Type.String(),
  title: Type.String(),
  app_name: Type.String(),
  window_title: Type.String(),
  status: Type.String({ description: 'PENDING, PROCESSING, COMPLETED or FAILED' }),
  filename: Type.String(),
  text_source: Type.String(),
  text_length: Type.Integer(),
  ocr_text: Type.String(),
  ocr_text_preview: Type.String(),
  browser_url: Nullable(Type.String()),
  capture_trigger: Type.String(),
  device_name: Type.String(),
  error_message: Type.String(),
  description_status: Type.String(),
  visibility_status: Type.String({ description: 'queryable, pending or failed' }),
});
export type V1Memory = Static<typeof V1Memory>;

export const V1MemoryList = Type.Array(V1Memory, { maxItems: 500 });
export type V1MemoryList = Static<typeof V1MemoryList>;

/** GET /v1/frames/{id}/context: a frame's text and details (MyRecall's chat grounding and detail view). */
export const V1FrameContext = Type.Object({
  frame_id: Type.Integer(),
  timestamp: Type.String(),
  app_name: Nullable(Type.String()),
  window_name: Nullable(Type.String()),
  description: Nullable(Type.Object({ narrative: Type.String(), summary: Type.String(), tags: Type.Array(Type.String()) })),
  description_status: Nullable(Type.String()),
  text: Type.String(),
  text_source: Type.String(),
  urls: Type.Array(Type.String({ description: 'http(s) links in the text, and the browser URL' })),
  browser_url: Nullable(Type.String()),
  status: Type.String({ description: 'completed, pending, processing or failed' }),
});
export type V1FrameContext = Static<typeof V1FrameContext>;

/** GET /v1/settings/description: this server's describe (vision model) settings, read-only here. */
export const V1DescriptionSettings = Type.Object({
  enabled: Type.Boolean(),
  provider: Type.String(),
  model: Type.String(),
  api_key_masked: Type.String({ description: 'Never the key: "set" or ""' }),
  api_base: Type.String(),
  request_timeout: Type.Integer(),
  source: Type.String({ description: 'env: set by OPENRECALL_* variables on the server' }),
});
export type V1DescriptionSettings = Static<typeof V1DescriptionSettings>;

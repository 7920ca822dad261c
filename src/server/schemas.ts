import { Type, type Static } from 'typebox';

/** The single source for validation, OpenAPI documentation and response serialization. */

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'Machine-readable code' }),
    message: Type.String({ description: 'What was wrong, naming the field where there is one' }),
  },
  { $id: 'Error' },
);

export const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, Type.Ref('Error')]));

export const Status = Type.Union(
  [Type.Literal('PENDING'), Type.Literal('PROCESSING'), Type.Literal('COMPLETED'), Type.Literal('FAILED')],
  { description: 'Processing state of a frame' },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const Entry = Type.Object(
  {
    id: Type.Integer(),
    timestamp: Type.Number({ description: 'Capture time, Unix seconds' }),
    app: Nullable(Type.String()),
    title: Nullable(Type.String({ description: 'Window title' })),
    text: Nullable(Type.String({ description: 'OCR text' })),
    description: Nullable(Type.String({ description: 'AI description of the screen' })),
    status: Status,
    capture_id: Nullable(Type.String()),
    image_path: Nullable(Type.String({ description: 'Stored image, relative to the data dir' })),
    monitor: Nullable(Type.Integer()),
    width: Nullable(Type.Integer()),
    height: Nullable(Type.Integer()),
    bytes: Nullable(Type.Integer({ description: 'Size of the stored image' })),
    received_at: Nullable(Type.Number()),
    attempts: Type.Integer(),
    last_error: Nullable(Type.String()),
    processing_started_at: Nullable(Type.Number()),
    processing_finished_at: Nullable(Type.Number()),
    image_url: Type.String(),
    thumbnail_url: Type.String(),
  },
  { $id: 'Entry' },
);

export const EntryIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

export const ListEntriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before_id: Type.Optional(Type.Integer({ minimum: 1, description: 'Return entries older than this id (next page)' })),
  after_id: Type.Optional(Type.Integer({ minimum: 0, description: 'Return entries newer than this id (live updates)' })),
  status: Type.Optional(Status),
  app: Type.Optional(Type.String({ maxLength: 512 })),
});
export type ListEntriesQuery = Static<typeof ListEntriesQuery>;

export const EntryList = Type.Object({
  entries: Type.Array(Type.Ref('Entry')),
  next_before_id: Nullable(Type.Integer({ description: 'Pass as before_id for the next page; null at the end' })),
});

export const UploadForm = Type.Object({
  image: Type.Unsafe<Buffer>({ isFile: true, description: 'PNG, JPEG or WebP screenshot (recognised from its bytes)' }),
  timestamp: Type.Number({ description: 'Capture time, Unix seconds (fraction allowed)' }),
  active_app: Type.String({ maxLength: 512, description: 'Application in the foreground' }),
  active_window: Type.String({ maxLength: 4096, description: 'Title of the active window' }),
  capture_id: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', description: 'Client idempotency key (printable ASCII)' }),
  ),
  monitor: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Monitor index' })),
  buffer_bytes: Type.Optional(Type.Integer({ minimum: 0, description: "Bytes of unsent frames in the client's buffer (reported in /metrics)" })),
});
export type UploadForm = Static<typeof UploadForm>;

export const UploadAccepted = Type.Object({
  status: Type.Literal('accepted'),
  task_id: Type.Integer(),
  elapsed_ms: Type.Number(),
  debug: Type.Optional(
    Type.Object({ queue_size: Type.Integer(), processing_mode: Type.Union([Type.Literal('LIFO'), Type.Literal('FIFO')]) }),
  ),
});

export const UploadDuplicate = Type.Object({ status: Type.Literal('duplicate'), task_id: Type.Integer() });

/** Disk use of the data dir and retention (OPENRECALL_RETENTION_DAYS, OPENRECALL_MAX_STORAGE_GB). */
export const StorageStatus = Type.Object(
  {
    used_bytes: Type.Integer({ description: 'images_bytes + thumbnails_bytes + database_bytes' }),
    images_bytes: Type.Integer({ description: 'Sum of the stored image sizes recorded on the rows (unprocessed uploads included)' }),
    thumbnails_bytes: Type.Integer({ description: 'thumbnails/: walked at start and every 10 minutes; frames processed since are counted at the average thumbnail size' }),
    database_bytes: Type.Integer({ description: 'db/recall.db with its -wal and -shm files' }),
    budget_bytes: Nullable(Type.Integer({ description: 'OPENRECALL_MAX_STORAGE_GB in bytes; null: no budget' })),
    retention_days: Nullable(Type.Number({ description: 'OPENRECALL_RETENTION_DAYS; null: keep forever' })),
    oldest_frame_timestamp: Nullable(Type.Number({ description: 'Capture time of the oldest frame kept, Unix seconds' })),
    deleted_frames: Type.Integer({ description: 'Frames deleted by retention since the server started' }),
    deleted_bytes: Type.Integer({ description: 'Bytes those frames used (images, thumbnails)' }),
    last_run_at: Nullable(Type.Number({ description: 'When retention last ran, Unix seconds' })),
  },
  { description: 'Disk use of the data dir and retention' },
);

/** Compaction of processed frames into shared tiles (OPENRECALL_COMPACT_AFTER_MINUTES). */
export const CompactionStatus = Type.Object(
  {
    after_minutes: Type.Number({ description: 'OPENRECALL_COMPACT_AFTER_MINUTES' }),
    compacted_frames: Type.Integer(),
    pending_frames: Type.Integer({ description: 'Processed frames old enough to compact, not compacted yet' }),
    uncompacted_frames: Type.Integer({ description: 'Every processed frame still stored as its own file' }),
    stored_bytes: Type.Integer({ description: 'Layers and manifests of the compacted frames' }),
    original_bytes: Type.Integer({ description: 'What the compacted frames took as separate lossless WebP files' }),
    ratio: Nullable(Type.Number({ description: 'stored_bytes / original_bytes; null before anything is compacted' })),
  },
  { description: 'Compaction of processed frames' },
);

export const QueueStatus = Type.Object({
  queue: Type.Object({ pending: Type.Integer(), processing: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() }),
  config: Type.Object({
    lifo_threshold: Type.Integer(),
    current_mode: Type.Union([Type.Literal('LIFO'), Type.Literal('FIFO')]),
    workers: Type.Integer(),
    max_attempts: Type.Integer(),
    ocr_engine: Type.String(),
  }),
  throughput: Type.Object({
    completed_last_minute: Type.Integer(),
    completed_last_5_minutes: Type.Integer(),
    frames_per_minute: Type.Number(),
  }),
  oldest_pending_age_seconds: Nullable(Type.Number()),
  backfill: Type.Object(
    { embedding: Nullable(Type.Integer()), description: Nullable(Type.Integer()) },
    { description: 'COMPLETED frames still missing a stage switched on later (null: stage off)' },
  ),
  system: Type.Object({
    version: Type.String(),
    uptime_seconds: Type.Integer(),
    pid: Type.Integer(),
    rss_mb: Type.Number(),
    node: Type.String(),
    platform: Type.String(),
    cpus: Type.Integer(),
  }),
  storage: Type.Optional(StorageStatus),
  compaction: Type.Optional(CompactionStatus),
});

const Tally = Type.Object({ frames: Type.Integer(), bytes: Type.Integer() });

export const PruneQuery = Type.Object({
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Only report what would be deleted' })),
});

export const PruneReport = Type.Object({
  dry_run: Type.Boolean(),
  frames: Type.Integer({ description: 'Frames deleted (or that would be)' }),
  bytes: Type.Integer({ description: 'Their images plus thumbnails (at the average thumbnail size)' }),
  by_age: Tally,
  by_budget: Tally,
  oldest_timestamp: Nullable(Type.Number()),
  newest_timestamp: Nullable(Type.Number()),
  used_bytes_before: Type.Integer(),
  used_bytes_after: Type.Integer({ description: 'Estimated for a dry run' }),
  budget_bytes: Nullable(Type.Integer()),
  retention_days: Nullable(Type.Number()),
  over_budget: Type.Boolean({ description: 'Still over budget: only frames waiting for processing are left to delete' }),
});

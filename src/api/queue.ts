import { Type, type Static } from 'typebox';
import { Nullable } from './common.js';
import { CompactionStatus, StorageStatus } from './storage.js';

export const SemanticStatus = Type.Object(
  {
    enabled: Type.Boolean(),
    provider: Type.String({ description: 'OPENRECALL_EMBEDDING_PROVIDER' }),
    model: Nullable(Type.String({ description: 'The vector space searched (vectors of other models are ignored)' })),
    reason: Nullable(Type.String({ description: 'Why semantic search is off' })),
  },
  { description: 'Search by meaning: on or off, and why' },
);
export type SemanticStatus = Static<typeof SemanticStatus>;

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
    {
      embedding: Nullable(Type.Integer()),
      description: Nullable(Type.Integer()),
      redaction: Type.Optional(Nullable(Type.Integer({ description: 'frames stored before redaction (or by older rules): `openrecall redact`' }))),
      redaction_scrub_due: Type.Optional(
        Type.Boolean({ description: 'text redaction replaced may still linger in the database files: the processor rewrites them once no old frame is left' }),
      ),
    },
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
  semantic: Type.Optional(SemanticStatus),
  compaction: Type.Optional(CompactionStatus),
});
export type QueueStatus = Static<typeof QueueStatus>;

export const BackfillStarted = Type.Object({ started: Type.Boolean() });
export type BackfillStarted = Static<typeof BackfillStarted>;

export const RetriedCount = Type.Object({ retried: Type.Integer() });
export type RetriedCount = Static<typeof RetriedCount>;

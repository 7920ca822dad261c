import { Type, type Static } from 'typebox';
import { Nullable } from './common.js';

/** Disk use of the data dir and retention (OPENRECALL_RETENTION_DAYS, OPENRECALL_MAX_STORAGE_GB). */
export const StorageStatus = Type.Object(
  {
    used_bytes: Type.Integer({ description: 'images_bytes + thumbnails_bytes + database_bytes' }),
    images_bytes: Type.Integer({
      description: 'On the disk: uploads, stored images, compacted layers and manifests (from the sizes recorded on the rows, measured at most 2 s before)',
    }),
    thumbnails_bytes: Type.Integer({
      description: 'thumbnails/: walked at start and every 10 minutes; frames processed since are counted at the average thumbnail size',
    }),
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
export type StorageStatus = Static<typeof StorageStatus>;

const Tally = Type.Object({ frames: Type.Integer(), bytes: Type.Integer() });

export const PruneQuery = Type.Object({
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Only report what would be deleted' })),
});
export type PruneQuery = Static<typeof PruneQuery>;

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
export type PruneReport = Static<typeof PruneReport>;

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
export type CompactionStatus = Static<typeof CompactionStatus>;

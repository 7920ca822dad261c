/** What `GET /api/queue/status` reports under `storage`. */
export interface StorageStatus {
  /** images_bytes + thumbnails_bytes + database_bytes. */
  used_bytes: number;
  /** Sum of the stored image sizes recorded on the rows (uploads waiting for processing included). */
  images_bytes: number;
  /**
   * thumbnails/: walked at start, at each periodic check and at any run while it holds under 1 000 files; in
   * between, frames finished since the walk are counted at the average thumbnail size.
   */
  thumbnails_bytes: number;
  /** db/recall.db with its -wal and -shm files, measured when asked. */
  database_bytes: number;
  budget_bytes: number | null;
  retention_days: number | null;
  /** Capture time (Unix seconds) of the oldest frame kept; null when there are none. */
  oldest_frame_timestamp: number | null;
  /** Frames (and bytes) deleted by retention since this server started. */
  deleted_frames: number;
  deleted_bytes: number;
  /** When retention last ran (Unix seconds); null before its first run. */
  last_run_at: number | null;
}

/** What one retention run deleted, or (dry run) would delete. */
export interface PruneReport {
  dry_run: boolean;
  frames: number;
  /** Image bytes plus thumbnails (each counted at the average thumbnail size). */
  bytes: number;
  by_age: { frames: number; bytes: number };
  by_budget: { frames: number; bytes: number };
  /** Capture times (Unix seconds) of the oldest and newest frame affected; null when none. */
  oldest_timestamp: number | null;
  newest_timestamp: number | null;
  used_bytes_before: number;
  /** Estimated for a dry run (the database file does not shrink: SQLite reuses the freed pages). */
  used_bytes_after: number;
  budget_bytes: number | null;
  retention_days: number | null;
  /** Still over budget after the run, with only frames waiting for processing left to delete. */
  over_budget: boolean;
}

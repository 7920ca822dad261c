import type { DeletableFrame } from '../store/ports.js';
import type { PruneReport } from '../api/index.js';

/**
 * Which frames retention deletes, from figures alone (no disk, no clock, no database): the oldest finished
 * frames first, those captured before the cutoff (age), then as many as it takes to get under the budget.
 */
export interface RetentionSettings {
  /** Frames captured more than this many days ago are deleted (0: keep forever). */
  retentionDays: number;
  /** Budget for screenshots + thumbnails + database, in bytes (0: no budget). */
  maxStorageBytes: number;
}

export type Reason = 'age' | 'budget';

const DAY = 86_400;

export const retentionEnabled = (settings: RetentionSettings) => settings.retentionDays > 0 || settings.maxStorageBytes > 0;

/** A run's decisions: fed batches of candidates oldest first, it says which to delete and keeps the report. */
export class DeletionPlan {
  private readonly cutoff: number;
  private freed = 0;
  readonly report: PruneReport;

  constructor(
    private readonly settings: RetentionSettings,
    figures: { now: number; usedBytes: number; averageThumbnailBytes: number },
    dryRun: boolean,
  ) {
    this.cutoff = settings.retentionDays > 0 ? figures.now - settings.retentionDays * DAY : -Infinity;
    this.thumbnail = figures.averageThumbnailBytes;
    this.report = {
      dry_run: dryRun,
      frames: 0,
      bytes: 0,
      by_age: { frames: 0, bytes: 0 },
      by_budget: { frames: 0, bytes: 0 },
      oldest_timestamp: null,
      newest_timestamp: null,
      used_bytes_before: figures.usedBytes,
      used_bytes_after: figures.usedBytes,
      budget_bytes: settings.maxStorageBytes > 0 ? settings.maxStorageBytes : null,
      retention_days: settings.retentionDays > 0 ? settings.retentionDays : null,
      over_budget: false,
    };
  }

  private readonly thumbnail: number;

  /** What deleting a frame frees: its image, and its thumbnail at the average size if it was processed. */
  cost(frame: DeletableFrame): number {
    return (frame.bytes ?? 0) + (frame.processed ? this.thumbnail : 0);
  }

  /**
   * The leading frames of `batch` (oldest first) to delete, with why. Fewer than the whole batch means the
   * run is done.
   */
  choose(batch: DeletableFrame[]): Array<{ frame: DeletableFrame; reason: Reason }> {
    const chosen: Array<{ frame: DeletableFrame; reason: Reason }> = [];
    for (const frame of batch) {
      const reason = frame.timestamp < this.cutoff ? 'age' : this.overBudget() ? 'budget' : undefined;
      if (!reason) break;
      chosen.push({ frame, reason });
      this.freed += this.cost(frame);
    }
    return chosen;
  }

  /** Counts a frame that was deleted (or, in a dry run, would be). */
  record(frame: DeletableFrame, reason: Reason): void {
    const cost = this.cost(frame);
    const bucket = reason === 'age' ? this.report.by_age : this.report.by_budget;
    bucket.frames++;
    bucket.bytes += cost;
    this.report.frames++;
    this.report.bytes += cost;
    this.report.oldest_timestamp = Math.min(this.report.oldest_timestamp ?? Infinity, frame.timestamp);
    this.report.newest_timestamp = Math.max(this.report.newest_timestamp ?? -Infinity, frame.timestamp);
  }

  /** The report, with the space used after the run: measured, or estimated for a dry run. */
  finish(measuredUsedBytes: number | undefined): PruneReport {
    const report = this.report;
    report.bytes = Math.round(report.bytes);
    report.by_age.bytes = Math.round(report.by_age.bytes);
    report.by_budget.bytes = Math.round(report.by_budget.bytes);
    report.used_bytes_after = measuredUsedBytes ?? Math.round(report.used_bytes_before - report.bytes);
    report.over_budget = this.settings.maxStorageBytes > 0 && report.used_bytes_after > this.settings.maxStorageBytes;
    return report;
  }

  private overBudget(): boolean {
    return this.settings.maxStorageBytes > 0 && this.report.used_bytes_before - this.freed > this.settings.maxStorageBytes;
  }
}

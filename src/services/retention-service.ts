import type { ImageStore } from '../images/image-store.js';
import type { Logger } from '../log.js';
import { FrameDeletion } from '../retention/deletion.js';
import { RetentionJournal } from '../retention/journal.js';
import { fillMissingSizes } from '../retention/missing-sizes.js';
import { DeletionPlan, retentionEnabled, type RetentionSettings } from '../retention/policy.js';
import type { PruneReport, StorageStatus } from '../api/index.js';
import { RetentionScheduler } from '../retention/scheduler.js';
import { StorageFigures } from '../retention/storage-figures.js';
import type { StorageRepository } from '../store/ports.js';

export type { PruneReport, StorageStatus };

export interface RetentionOptions extends RetentionSettings {
  log: Logger;
  /** Runs a deleting run under the store's lock (Store.withExclusiveLock): false when another server holds it. */
  exclusive?: (task: () => Promise<void>) => Promise<boolean>;
  now?: () => number;
}

/** How old the measured figures a status may show are. */
const STATUS_MAX_AGE_MS = 2000;
const BATCH = 500;
/**
 * How long after an upload that crossed the budget, or a run that could not get under it, to check again: soon, since
 * a disk over its budget may be filling, but not per upload (one run deletes for a burst of them).
 */
const RECHECK_MS = 3_000;
export const RETENTION_INTERVAL_MS = 10 * 60_000;

/**
 * Retention and the storage budget, composed of small parts (src/retention/): the figures, the policy that
 * picks frames from them, the crash-safe deletion with its journal, and the timers. The oldest finished
 * frames go first; frames waiting for or in processing are never touched. Runs are serialised.
 */
export class RetentionService {
  private readonly now: () => number;
  private readonly figures: StorageFigures;
  private readonly deletion: FrameDeletion;
  private readonly scheduler = new RetentionScheduler({ intervalMs: RETENTION_INTERVAL_MS, recheckMs: RECHECK_MS });
  /** The last over-budget reason logged, so that a recheck every few seconds does not repeat it. */
  private lastWarning = '';
  private deleted = { frames: 0, bytes: 0 };
  private lastRunAt: number | null = null;
  private prepared: Promise<void> | undefined;
  private running: Promise<PruneReport> | undefined;
  private stopped = false;

  constructor(
    private readonly repo: StorageRepository,
    private readonly images: ImageStore,
    private readonly options: RetentionOptions,
  ) {
    this.now = options.now ?? (() => Date.now() / 1000);
    this.figures = new StorageFigures(repo, images.files, images.paths);
    this.deletion = new FrameDeletion(repo, images, new RetentionJournal(images.files), (size) => this.figures.thumbnailRemoved(size));
  }

  get enabled(): boolean {
    return retentionEnabled(this.options);
  }

  /** Runs once, then every RETENTION_INTERVAL_MS. Resolves after the first run (undefined: stopped before it). */
  async start(): Promise<PruneReport | undefined> {
    await this.prepare();
    if (this.stopped) return undefined;
    this.scheduler.periodically(() => void this.runSafely(true));
    return this.run({ dryRun: false });
  }

  /** Resolves once nothing of retention runs: the first measurement (started before any run) included. */
  stop(): Promise<unknown> {
    this.stopped = true;
    this.scheduler.stop();
    return Promise.all([this.prepared?.catch(() => undefined), this.running?.catch(() => undefined)]);
  }

  /** An upload was written: the running figure grows; crossing the budget schedules a check. */
  onUploaded(bytes: number): void {
    this.figures.uploaded(bytes);
    if (this.options.maxStorageBytes > 0 && this.figures.used() > this.options.maxStorageBytes) this.scheduleRecheck();
  }

  async status(): Promise<StorageStatus> {
    // Processing and compaction change the files between runs: the figures shown follow them within seconds.
    await this.figures.refresh(STATUS_MAX_AGE_MS);
    const database = this.figures.database();
    const images = this.figures.images();
    const thumbnails = this.figures.thumbnails();
    return {
      used_bytes: images + thumbnails + database,
      images_bytes: images,
      thumbnails_bytes: thumbnails,
      database_bytes: database,
      budget_bytes: this.options.maxStorageBytes > 0 ? this.options.maxStorageBytes : null,
      retention_days: this.options.retentionDays > 0 ? this.options.retentionDays : null,
      // Read now, not at the last run: frames arrive between runs (an index seek).
      oldest_frame_timestamp: await this.repo.oldestTimestamp(),
      deleted_frames: this.deleted.frames,
      deleted_bytes: this.deleted.bytes,
      last_run_at: this.lastRunAt,
    };
  }

  /** One retention run (serialised with any run in progress); the first one measures the data dir. */
  run({ dryRun }: { dryRun: boolean }): Promise<PruneReport> {
    const previous = this.running ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.prepare())
      .then(() => this.runLocked(dryRun));
    this.running = next;
    void next
      .finally(() => {
        if (this.running === next) this.running = undefined;
      })
      .catch(() => undefined);
    return next;
  }

  /** A deleting run holds the retention lock (several servers on one PostgreSQL database); a dry run needs none. */
  private async runLocked(dryRun: boolean): Promise<PruneReport> {
    if (dryRun || !this.options.exclusive) return this.runNow(dryRun);
    let report: PruneReport | undefined;
    await this.options.exclusive(async () => {
      report = await this.runNow(false);
    });
    // Another server is deleting right now: say what would go rather than delete it twice.
    return report ?? this.runNow(true);
  }

  /** Walks thumbnails/ and records the sizes rows lack, once. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await this.figures.walkThumbnails();
      await fillMissingSizes(this.repo, this.images, BATCH);
    })();
    return this.prepared;
  }

  private async runSafely(periodic: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      if (periodic) await this.figures.walkThumbnails();
      await this.run({ dryRun: false });
    } catch (error) {
      this.options.log(`retention run failed: ${(error as Error).message}`);
    }
  }

  private scheduleRecheck(): void {
    this.scheduler.recheck(() => void this.runSafely(false));
  }

  private async runNow(dryRun: boolean): Promise<PruneReport> {
    if (!dryRun) await this.sweepJournal();
    if (this.figures.thumbnailsAreFew) await this.figures.walkThumbnails();
    await this.figures.measure();
    const plan = new DeletionPlan(
      this.options,
      { now: this.now(), usedBytes: this.figures.used(), averageThumbnailBytes: this.figures.averageThumbnail() },
      dryRun,
    );
    if (this.enabled) {
      let cursor = { timestamp: -Infinity, id: 0 };
      for (;;) {
        const batch = await this.repo.deletable(Infinity, cursor, BATCH);
        if (batch.length === 0) break;
        const chosen = plan.choose(batch);
        if (chosen.length === 0) break;
        const deleted = dryRun ? chosen.map((c) => c.frame) : await this.deletion.delete(chosen.map((c) => c.frame));
        const reasons = new Map(chosen.map((c) => [c.frame.id, c.reason]));
        for (const frame of deleted) plan.record(frame, reasons.get(frame.id)!);
        if (chosen.length < batch.length) break;
        const last = batch[batch.length - 1]!;
        cursor = { timestamp: last.timestamp, id: last.id };
        if (this.stopped && !dryRun) break;
      }
    }
    if (dryRun) return plan.finish(undefined);
    await this.figures.measure();
    const report = plan.finish(this.figures.used());
    this.lastRunAt = this.now();
    this.deleted.frames += report.frames;
    this.deleted.bytes += report.bytes;
    this.logRun(report);
    return report;
  }

  private logRun(report: PruneReport): void {
    if (report.frames > 0) {
      this.options.log(
        `retention: deleted ${report.frames} frame(s), ${mb(report.bytes)} (age: ${report.by_age.frames}, budget: ${report.by_budget.frames}); ${mb(report.used_bytes_after)} used`,
      );
    }
    if (!report.over_budget) {
      this.lastWarning = '';
      return;
    }
    const { maxStorageBytes } = this.options;
    const database = this.figures.database();
    const waiting = this.figures.unfinishedFrames;
    const why =
      waiting > 0
        ? `${waiting} frame(s) left are waiting for processing; they are deleted once processed, if still needed`
        : `nothing left to delete${database > maxStorageBytes ? ` (the database alone is ${mb(database)}; it does not shrink)` : ''}`;
    if (why !== this.lastWarning) this.options.log(`retention: ${mb(report.used_bytes_after)} used, over the ${mb(maxStorageBytes)} budget: ${why}`);
    this.lastWarning = why;
    // Frames still waiting can be deleted once processed: look again soon. Otherwise the periodic run will do.
    if (waiting > 0) this.scheduleRecheck();
  }

  /** Finishes a batch a crash interrupted (see FrameDeletion). */
  private async sweepJournal(): Promise<void> {
    let removed: number;
    try {
      removed = await this.deletion.sweep();
    } catch (error) {
      this.options.log(`retention: unreadable journal ignored (${(error as Error).message})`);
      new RetentionJournal(this.images.files).remove();
      return;
    }
    if (removed) this.options.log(`retention: removed ${removed} file(s) left by an interrupted run`);
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

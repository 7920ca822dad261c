import fs from 'node:fs';
import path from 'node:path';
import type { PruneReport, StorageStatus } from '../api/index.js';
import type { ImageStore } from '../images/image-store.js';
import type { Logger } from '../log.js';
import type { DeletableFrame, StorageRepository } from '../store/storage-repository.js';

export interface RetentionOptions {
  /** Frames captured more than this many days ago are deleted (0: keep forever). */
  retentionDays: number;
  /** Budget for screenshots + thumbnails + database, in bytes (0: no budget). */
  maxStorageBytes: number;
  log: Logger;
  now?: () => number;
  /** Tests only: kill the process after the rows of the first batch are deleted, before their files are. */
  testCrashAfterRows?: boolean;
}

export type { PruneReport, StorageStatus };

const BATCH = 500;
const DAY = 86_400;
/** How long after an upload that crossed the budget, or a run that could not get under it, to check again. */
const RECHECK_MS = 10_000;
export const RETENTION_INTERVAL_MS = 10 * 60_000;
const JOURNAL = 'retention.journal';

/**
 * Retention and the storage budget. The oldest finished frames go first (rows, then image and thumbnail);
 * frames waiting for or in processing are never touched. Deleting is crash-safe: the files of a batch are
 * written to a journal before their rows are deleted in one transaction, and removed after; a crash in
 * between leaves files that the next run removes (those whose rows are gone).
 */
export class RetentionService {
  private readonly now: () => number;
  /** The last walk of thumbnails/, and how many frames were processed then. */
  private thumbnails = { count: 0, bytes: 0, processedFrames: 0 };
  private processedFrames = 0;
  private unfinishedFrames = 0;
  /** The last over-budget reason logged, so that a recheck every few seconds does not repeat it. */
  private lastWarning = '';
  private imageBytes = 0;
  private uploadedSinceMeasure = 0;
  private deleted = { frames: 0, bytes: 0 };
  private lastRunAt: number | null = null;
  private running: Promise<PruneReport> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly repo: StorageRepository,
    private readonly images: ImageStore,
    private readonly options: RetentionOptions,
  ) {
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  get enabled(): boolean {
    return this.options.retentionDays > 0 || this.options.maxStorageBytes > 0;
  }

  /** Measures the data dir, runs once, then every RETENTION_INTERVAL_MS. Resolves after the first run. */
  async start(): Promise<PruneReport> {
    await this.prepare();
    if (this.stopped) return this.run({ dryRun: true });
    this.timer = setInterval(() => void this.runSafely(true), RETENTION_INTERVAL_MS);
    this.timer.unref();
    return this.run({ dryRun: false });
  }

  stop(): Promise<unknown> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.recheck);
    return this.running ?? Promise.resolve();
  }

  /** An upload was written: the running figure grows; crossing the budget schedules a check. */
  onUploaded(bytes: number): void {
    this.uploadedSinceMeasure += bytes;
    if (this.options.maxStorageBytes > 0 && this.usedBytes() > this.options.maxStorageBytes) this.scheduleRecheck();
  }

  status(): StorageStatus {
    const database = this.databaseBytes();
    const images = this.imageBytes + this.uploadedSinceMeasure;
    return {
      used_bytes: images + this.thumbnailBytes() + database,
      images_bytes: images,
      thumbnails_bytes: this.thumbnailBytes(),
      database_bytes: database,
      budget_bytes: this.options.maxStorageBytes > 0 ? this.options.maxStorageBytes : null,
      retention_days: this.options.retentionDays > 0 ? this.options.retentionDays : null,
      // Read now, not at the last run: frames arrive between runs (an index seek).
      oldest_frame_timestamp: this.repo.oldestTimestamp(),
      deleted_frames: this.deleted.frames,
      deleted_bytes: this.deleted.bytes,
      last_run_at: this.lastRunAt,
    };
  }

  /** One retention run (serialised with any run in progress). */
  run({ dryRun }: { dryRun: boolean }): Promise<PruneReport> {
    const previous = this.running ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.runNow(dryRun));
    this.running = next;
    void next.finally(() => {
      if (this.running === next) this.running = undefined;
    }).catch(() => undefined);
    return next;
  }

  private async runSafely(periodic: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      if (periodic) await this.measureThumbnails();
      await this.run({ dryRun: false });
    } catch (error) {
      this.options.log(`retention run failed: ${(error as Error).message}`);
    }
  }

  private scheduleRecheck(): void {
    if (this.recheck || this.stopped) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      void this.runSafely(false);
    }, RECHECK_MS);
    this.recheck.unref();
  }

  private usedBytes(): number {
    return this.imageBytes + this.uploadedSinceMeasure + this.thumbnailBytes() + this.databaseBytes();
  }

  private thumbnailBytes(): number {
    const since = this.processedFrames - this.thumbnails.processedFrames;
    return Math.max(0, Math.round(this.thumbnails.bytes + since * this.averageThumbnail()));
  }

  private measure(): void {
    const totals = this.repo.totals();
    this.processedFrames = totals.processedFrames;
    this.unfinishedFrames = totals.unfinishedFrames;
    this.imageBytes = totals.imageBytes;
    this.uploadedSinceMeasure = 0;
  }

  private averageThumbnail(): number {
    return this.thumbnails.count > 0 ? this.thumbnails.bytes / this.thumbnails.count : 0;
  }

  private async runNow(dryRun: boolean): Promise<PruneReport> {
    if (!dryRun) await this.sweepJournal();
    if (this.thumbnails.count < 1000) await this.measureThumbnails();
    this.measure();
    const { retentionDays, maxStorageBytes } = this.options;
    const usedBefore = this.usedBytes();
    const report: PruneReport = {
      dry_run: dryRun,
      frames: 0,
      bytes: 0,
      by_age: { frames: 0, bytes: 0 },
      by_budget: { frames: 0, bytes: 0 },
      oldest_timestamp: null,
      newest_timestamp: null,
      used_bytes_before: usedBefore,
      used_bytes_after: usedBefore,
      budget_bytes: maxStorageBytes > 0 ? maxStorageBytes : null,
      retention_days: retentionDays > 0 ? retentionDays : null,
      over_budget: false,
    };
    if (!this.enabled) return this.finish(report, dryRun);

    const cutoff = retentionDays > 0 ? this.now() - retentionDays * DAY : -Infinity;
    const thumbnail = this.averageThumbnail();
    const cost = (frame: DeletableFrame) => (frame.bytes ?? 0) + (frame.processed ? thumbnail : 0);
    let freed = 0;
    const overBudget = () => maxStorageBytes > 0 && usedBefore - freed > maxStorageBytes;
    let cursor = { timestamp: -Infinity, id: 0 };
    for (;;) {
      const batch = this.repo.deletable(Infinity, cursor, BATCH);
      if (batch.length === 0) break;
      const chosen: Array<{ frame: DeletableFrame; reason: 'age' | 'budget' }> = [];
      for (const frame of batch) {
        const reason = frame.timestamp < cutoff ? 'age' : overBudget() ? 'budget' : undefined;
        if (!reason) break;
        chosen.push({ frame, reason });
        freed += cost(frame);
      }
      if (chosen.length === 0) break;
      const deleted = dryRun ? chosen.map((c) => c.frame) : await this.deleteBatch(chosen.map((c) => c.frame));
      const reasons = new Map(chosen.map((c) => [c.frame.id, c.reason]));
      for (const frame of deleted) {
        const bucket = reasons.get(frame.id) === 'age' ? report.by_age : report.by_budget;
        bucket.frames++;
        bucket.bytes += cost(frame);
        report.frames++;
        report.bytes += cost(frame);
        report.oldest_timestamp = Math.min(report.oldest_timestamp ?? Infinity, frame.timestamp);
        report.newest_timestamp = Math.max(report.newest_timestamp ?? -Infinity, frame.timestamp);
      }
      if (chosen.length < batch.length) break;
      const last = batch[batch.length - 1]!;
      cursor = { timestamp: last.timestamp, id: last.id };
      if (this.stopped && !dryRun) break;
    }
    report.bytes = Math.round(report.bytes);
    report.by_age.bytes = Math.round(report.by_age.bytes);
    report.by_budget.bytes = Math.round(report.by_budget.bytes);
    return this.finish(report, dryRun);
  }

  private finish(report: PruneReport, dryRun: boolean): PruneReport {
    if (!dryRun) {
      this.measure();
      this.lastRunAt = this.now();
      this.deleted.frames += report.frames;
      this.deleted.bytes += report.bytes;
      report.used_bytes_after = this.usedBytes();
    } else {
      report.used_bytes_after = Math.round(report.used_bytes_before - report.bytes);
    }
    const { maxStorageBytes } = this.options;
    report.over_budget = maxStorageBytes > 0 && report.used_bytes_after > maxStorageBytes;
    if (!dryRun && report.frames > 0) {
      this.options.log(
        `retention: deleted ${report.frames} frame(s), ${mb(report.bytes)} (age: ${report.by_age.frames}, budget: ${report.by_budget.frames}); ${mb(report.used_bytes_after)} used`,
      );
    }
    if (!dryRun && report.over_budget) {
      const database = this.databaseBytes();
      const waiting = this.unfinishedFrames > 0;
      const why = waiting
        ? `${this.unfinishedFrames} frame(s) left are waiting for processing; they are deleted once processed, if still needed`
        : `nothing left to delete${database > maxStorageBytes ? ` (the database alone is ${mb(database)}; it does not shrink)` : ''}`;
      if (why !== this.lastWarning) this.options.log(`retention: ${mb(report.used_bytes_after)} used, over the ${mb(maxStorageBytes)} budget: ${why}`);
      this.lastWarning = why;
      // Frames still waiting can be deleted once processed: look again soon. Otherwise the periodic run will do.
      if (waiting) this.scheduleRecheck();
    } else if (!dryRun) {
      this.lastWarning = '';
    }
    return report;
  }

  /** Journal, rows (one transaction), files, journal removed. Returns the frames whose rows were deleted. */
  private async deleteBatch(frames: DeletableFrame[]): Promise<DeletableFrame[]> {
    const entries = frames.map((f) => ({ id: f.id, files: this.filesOf(f) }));
    this.writeJournal(entries);
    const deleted = this.repo.deleteFinished(frames.map((f) => f.id));
    if (this.options.testCrashAfterRows) process.kill(process.pid, 'SIGKILL');
    const gone = new Set(deleted.map((f) => f.id));
    for (const entry of entries) {
      if (!gone.has(entry.id)) continue;
      for (const file of entry.files) await this.removeFile(file);
    }
    fs.rmSync(this.journalPath(), { force: true });
    return deleted;
  }

  private filesOf(frame: DeletableFrame): string[] {
    const files = [this.images.thumbnailPath(frame.id)];
    if (frame.image_path) files.unshift(frame.image_path);
    return files;
  }

  private async removeFile(relative: string): Promise<void> {
    let absolute: string;
    try {
      absolute = this.images.resolve(relative);
    } catch {
      return; // a path outside the data dir is never touched
    }
    const isThumbnail = relative.startsWith('thumbnails/');
    const size = isThumbnail ? await fileSize(absolute) : 0;
    await fs.promises.rm(absolute, { force: true });
    if (isThumbnail && size > 0) {
      // Counted in the last walk or not, it is gone: lower the walked figure and its frame count alike.
      this.thumbnails.bytes = Math.max(0, this.thumbnails.bytes - size);
      this.thumbnails.count = Math.max(0, this.thumbnails.count - 1);
      this.thumbnails.processedFrames = Math.max(0, this.thumbnails.processedFrames - 1);
    }
  }

  private journalPath(): string {
    return path.join(this.images.paths.root, JOURNAL);
  }

  private writeJournal(entries: Array<{ id: number; files: string[] }>): void {
    const file = this.journalPath();
    const temporary = `${file}.tmp`;
    const fd = fs.openSync(temporary, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(entries));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  }

  /** Finishes a batch a crash interrupted: removes the files of journalled frames whose rows are gone. */
  async sweepJournal(): Promise<number> {
    let entries: Array<{ id: number; files: string[] }>;
    try {
      entries = JSON.parse(fs.readFileSync(this.journalPath(), 'utf8')) as typeof entries;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      this.options.log(`retention: unreadable journal ignored (${(error as Error).message})`);
      fs.rmSync(this.journalPath(), { force: true });
      return 0;
    }
    const existing = this.repo.existing(entries.map((e) => e.id));
    let removed = 0;
    for (const entry of entries) {
      if (existing.has(entry.id)) continue;
      for (const file of entry.files) {
        await this.removeFile(file);
        removed++;
      }
    }
    fs.rmSync(this.journalPath(), { force: true });
    if (removed) this.options.log(`retention: removed ${removed} file(s) left by an interrupted run`);
    return removed;
  }

  /** Walks thumbnails/ (asynchronously, a few files at a time) for its size. */
  async measureThumbnails(): Promise<void> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.images.paths.thumbnails);
    } catch {
      names = [];
    }
    const processedFrames = this.repo.totals().processedFrames;
    let count = 0;
    let bytes = 0;
    for (let i = 0; i < names.length; i += 64) {
      const sizes = await Promise.all(names.slice(i, i + 64).map((n) => fileSize(path.join(this.images.paths.thumbnails, n))));
      for (const size of sizes) if (size > 0) (count++, (bytes += size));
    }
    this.thumbnails = { count, bytes, processedFrames };
  }

  /** Measures thumbnails/ and records the sizes rows lack; start() does this, `openrecall prune` calls it alone. */
  async prepare(): Promise<void> {
    await this.measureThumbnails();
    await this.fillMissingSizes();
  }

  /** Rows from the Python version have no recorded size: stat their files once, so the sum is right. */
  private async fillMissingSizes(): Promise<void> {
    for (;;) {
      const rows = this.repo.withoutBytes(BATCH);
      if (rows.length === 0) return;
      const sizes = await Promise.all(
        rows.map(async (row) => {
          let absolute: string | undefined;
          try {
            absolute = this.images.resolve(row.image_path);
          } catch {
            absolute = undefined;
          }
          return { id: row.id, bytes: absolute ? await fileSize(absolute) : 0 };
        }),
      );
      this.repo.setBytes(sizes);
    }
  }

  private databaseBytes(): number {
    const file = this.images.paths.dbFile;
    return [file, `${file}-wal`, `${file}-shm`].reduce((sum, f) => sum + fileSizeSync(f), 0);
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return 0;
  }
}

function fileSizeSync(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

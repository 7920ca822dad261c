import path from 'node:path';
import type { DataPaths } from '../config.js';
import type { DataDir } from '../files/data-dir.js';
import type { StorageRepository } from '../store/ports.js';

/** thumbnails/ is statted whole up to this many files; past them, one file in STAT_EVERY. */
const STAT_FIRST = 2000;
const STAT_EVERY = 100;

/**
 * How much the data dir uses, as on the disk, kept cheap enough for the request thread: image bytes from the
 * rows (an index; a row's bytes follow its file: upload, stored WebP, then compacted manifest and layer),
 * sealed sizes when the DataDir encrypts, thumbnails/ from a walk plus frames processed since at the average
 * thumbnail size, the database files stat'ed when asked.
 */
export class StorageFigures {
  /** The last walk of thumbnails/, and how many frames were processed then. */
  private walked = { count: 0, bytes: 0, processedFrames: 0 };
  private processedFrames = 0;
  private imageBytes = 0;
  private imageFiles = 0;
  private measuredAt = 0;
  private uploadedSinceMeasure = 0;
  /** Frames waiting for or in processing at the last measure. */
  unfinishedFrames = 0;

  constructor(
    private readonly repo: StorageRepository,
    private readonly files: DataDir,
    private readonly paths: Pick<DataPaths, 'root' | 'thumbnails' | 'dbFile'>,
  ) {}

  /** Re-reads the row totals (an index). */
  async measure(): Promise<void> {
    const totals = await this.repo.totals();
    this.processedFrames = totals.processedFrames;
    this.unfinishedFrames = totals.unfinishedFrames;
    this.imageBytes = totals.imageBytes;
    this.imageFiles = totals.frames;
    this.uploadedSinceMeasure = 0;
    this.measuredAt = Date.now();
  }

  /**
   * Measures again when the last measure is older than `maxAgeMs`: the figures shown (status, UI) follow
   * processing and compaction, which change the files without an upload.
   */
  async refresh(maxAgeMs: number): Promise<void> {
    if (Date.now() - this.measuredAt < maxAgeMs) return;
    if (this.thumbnailsAreFew) await this.walkThumbnails();
    await this.measure();
  }

  /**
   * Counts thumbnails/ and measures its size on the disk: every file while there are few, then a sample (the first
   * STAT_FIRST, then one in STAT_EVERY) scaled to the count. At a year (a million thumbnails) statting each one cost
   * the server's event loop about 25 s after every start.
   */
  async walkThumbnails(): Promise<void> {
    const folder = path.relative(this.paths.root, this.paths.thumbnails);
    const processedFrames = (await this.repo.totals()).processedFrames;
    const sample = await this.files.sampleSizes(folder, { statFirst: STAT_FIRST, statEvery: STAT_EVERY });
    if (sample.statted === sample.entries) {
      this.walked = { count: sample.files, bytes: sample.diskBytes, processedFrames };
      return;
    }
    // The entries not statted count as files of the sample's mean size (the sample's share of empty ones kept).
    const count = Math.round((sample.entries * sample.files) / Math.max(1, sample.statted));
    this.walked = { count, bytes: sample.files > 0 ? Math.round((count * sample.diskBytes) / sample.files) : 0, processedFrames };
  }

  /** Few enough thumbnails that walking them at every run costs nothing. */
  get thumbnailsAreFew(): boolean {
    return this.walked.count < 1000;
  }

  uploaded(bytes: number): void {
    this.uploadedSinceMeasure += bytes;
  }

  /** A thumbnail of `size` bytes was deleted: lower the walked figure and its frame count alike. */
  thumbnailRemoved(size: number): void {
    this.walked.bytes = Math.max(0, this.walked.bytes - size);
    this.walked.count = Math.max(0, this.walked.count - 1);
    this.walked.processedFrames = Math.max(0, this.walked.processedFrames - 1);
  }

  /** Rows record plaintext sizes; a sealed file is larger by a per-file and per-chunk overhead (at the mean size). */
  images(): number {
    const plain = this.imageBytes + this.uploadedSinceMeasure;
    if (this.files.cipher.kind === 'plain' || this.imageFiles === 0) return plain;
    return Math.round(this.imageFiles * this.files.cipher.sealedSize(plain / this.imageFiles));
  }

  thumbnails(): number {
    const since = this.processedFrames - this.walked.processedFrames;
    return Math.max(0, Math.round(this.walked.bytes + since * this.averageThumbnail()));
  }

  averageThumbnail(): number {
    return this.walked.count > 0 ? this.walked.bytes / this.walked.count : 0;
  }

  database(): number {
    const file = path.relative(this.paths.root, this.paths.dbFile);
    return [file, `${file}-wal`, `${file}-shm`].reduce((sum, f) => sum + (this.files.statSync(f)?.diskBytes ?? 0), 0);
  }

  used(): number {
    return this.images() + this.thumbnails() + this.database();
  }
}

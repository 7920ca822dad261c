import fs from 'node:fs';
import path from 'node:path';
import type { DataPaths } from '../config.js';
import type { StorageRepository } from '../store/ports.js';

/**
 * How much the data dir uses, kept cheap enough for the request thread: image bytes from the rows (an index),
 * thumbnails/ from a walk plus frames processed since at the average thumbnail size, the database files
 * stat'ed when asked.
 */
export class StorageFigures {
  /** The last walk of thumbnails/, and how many frames were processed then. */
  private walked = { count: 0, bytes: 0, processedFrames: 0 };
  private processedFrames = 0;
  private imageBytes = 0;
  private uploadedSinceMeasure = 0;
  /** Frames waiting for or in processing at the last measure. */
  unfinishedFrames = 0;

  constructor(
    private readonly repo: StorageRepository,
    private readonly paths: Pick<DataPaths, 'thumbnails' | 'dbFile'>,
  ) {}

  /** Re-reads the row totals (an index). */
  async measure(): Promise<void> {
    const totals = await this.repo.totals();
    this.processedFrames = totals.processedFrames;
    this.unfinishedFrames = totals.unfinishedFrames;
    this.imageBytes = totals.imageBytes;
    this.uploadedSinceMeasure = 0;
  }

  /** Walks thumbnails/ (asynchronously, a few files at a time) for its size. */
  async walkThumbnails(): Promise<void> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.paths.thumbnails);
    } catch {
      names = [];
    }
    const processedFrames = (await this.repo.totals()).processedFrames;
    let count = 0;
    let bytes = 0;
    for (let i = 0; i < names.length; i += 64) {
      const sizes = await Promise.all(names.slice(i, i + 64).map((n) => fileSize(path.join(this.paths.thumbnails, n))));
      for (const size of sizes) if (size > 0) count++, (bytes += size);
    }
    this.walked = { count, bytes, processedFrames };
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

  images(): number {
    return this.imageBytes + this.uploadedSinceMeasure;
  }

  thumbnails(): number {
    const since = this.processedFrames - this.walked.processedFrames;
    return Math.max(0, Math.round(this.walked.bytes + since * this.averageThumbnail()));
  }

  averageThumbnail(): number {
    return this.walked.count > 0 ? this.walked.bytes / this.walked.count : 0;
  }

  database(): number {
    const file = this.paths.dbFile;
    return [file, `${file}-wal`, `${file}-shm`].reduce((sum, f) => sum + fileSizeSync(f), 0);
  }

  used(): number {
    return this.images() + this.thumbnails() + this.database();
  }
}

export async function fileSize(file: string): Promise<number> {
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

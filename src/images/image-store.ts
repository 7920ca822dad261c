import crypto from 'node:crypto';
import path from 'node:path';
import { dataPaths, type DataPaths } from '../config.js';
import { DataDir, PathOutsideDataDirError } from '../files/data-dir.js';
import { GroupSync } from '../files/group-sync.js';
import { plainCipher } from '../files/plain-cipher.js';
import { isIncomingPath, storedFramePath, thumbnailFramePath } from './frame-paths.js';

export { PathOutsideDataDirError };

/**
 * Frame files of the data directory, over its DataDir (every byte goes through it). Rows store image paths
 * relative to the data dir; every path read from a row or request goes through resolve(), which refuses
 * anything that would leave the data dir.
 */
export class ImageStore {
  readonly paths: DataPaths;
  readonly files: DataDir;
  /** One fsync of screenshots/incoming for the uploads renamed into it meanwhile (group commit). */
  private readonly incomingSync: GroupSync;
  private readonly incomingFolder: { sync(): Promise<void>; close(): void };

  /** A DataDir (from files/open-data-dir.ts); a bare path (tests, benchmarks) keeps its files plain. */
  constructor(dataDir: DataDir | string) {
    this.files = typeof dataDir === 'string' ? new DataDir(path.resolve(dataDir), plainCipher) : dataDir;
    this.paths = dataPaths(this.files.root);
    this.incomingFolder = this.files.keptDirSync('screenshots/incoming');
    this.incomingSync = new GroupSync(() => this.incomingFolder.sync());
  }

  /** Lets the incoming folder's kept descriptor go (a server closed, then started again at an unlock, opens its own). */
  async close(): Promise<void> {
    await this.incomingSync.sync().catch(() => {});
    this.incomingFolder.close();
  }

  ensureDirectories(): void {
    for (const dir of [this.paths.screenshots, this.paths.incoming, this.paths.thumbnails, this.paths.db, this.paths.buffer, this.paths.models]) {
      this.files.mkdirpSync(path.relative(this.paths.root, dir));
    }
  }

  /** Makes the renames into screenshots/incoming so far survive a power cut. */
  syncIncoming(): Promise<void> {
    return this.incomingSync.sync();
  }

  resolve(relative: string): string {
    return this.files.resolve(relative);
  }

  /** A fresh name for an upload awaiting processing. */
  newIncomingPath(extension: string): string {
    return `screenshots/incoming/${crypto.randomUUID()}.${extension}`;
  }

  storedPath(id: number, timestamp: number): string {
    return storedFramePath(id, timestamp);
  }

  thumbnailPath(id: number): string {
    return thumbnailFramePath(id);
  }

  isIncoming(relative: string | null): boolean {
    return isIncomingPath(relative);
  }

  /**
   * Writes a file so that a crash leaves either the whole file or nothing at its final name; `durable` also
   * survives a power cut (fsync of the file and its directory), for files that replace another one.
   */
  async writeAtomic(relative: string, bytes: Buffer, options: { durable?: boolean; singleWriter?: boolean } = {}): Promise<void> {
    await this.files.writeFileAtomic(relative, bytes, options);
  }

  removeSync(relative: string): void {
    this.files.removeSync(relative);
  }

  async read(relative: string): Promise<Buffer> {
    return this.files.readFile(relative);
  }

  async exists(relative: string): Promise<boolean> {
    return this.files.exists(relative);
  }

  async remove(relative: string | null): Promise<void> {
    if (!relative) return;
    await this.files.remove(relative);
  }

  /**
   * Deletes files in screenshots/incoming that no row references (a crash between writing an upload and
   * inserting its row, or between compacting a frame and removing its original) plus stray temp files.
   */
  removeOrphanIncoming(referenced: Set<string>, minAgeMs = 0): number {
    let removed = 0;
    const before = Date.now() - minAgeMs;
    for (const name of this.files.listSync('screenshots/incoming')) {
      const relative = `screenshots/incoming/${name}`;
      if (referenced.has(relative)) continue;
      // Gone meanwhile: nothing to remove.
      if (minAgeMs > 0 && (this.files.statSync(relative)?.modifiedMs ?? Number.POSITIVE_INFINITY) > before) continue;
      this.files.removeSync(relative);
      removed++;
    }
    return removed;
  }
}

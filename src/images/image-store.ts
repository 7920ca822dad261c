import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, type DataPaths } from '../config.js';
import { syncCreatedDirectories, syncDirectoryAsync, writeFileAtomic } from '../files/atomic-write.js';
import { GroupSync } from '../files/group-sync.js';
import { DIRECTORY_MODE } from '../files/owner-only.js';
import { isIncomingPath, storedFramePath, thumbnailFramePath } from './frame-paths.js';

export class PathOutsideDataDirError extends Error {}

/**
 * Files of the data directory. Rows store image paths relative to the data dir; every path read from a row
 * or request goes through resolve(), which refuses anything that would leave the data dir.
 */
export class ImageStore {
  readonly paths: DataPaths;
  /** One fsync of screenshots/incoming for the uploads renamed into it meanwhile (group commit). */
  private readonly incomingSync: GroupSync;

  constructor(dataDir: string) {
    this.paths = dataPaths(dataDir);
    this.incomingSync = new GroupSync(() => syncDirectoryAsync(this.paths.incoming));
  }

  ensureDirectories(): void {
    for (const dir of [this.paths.screenshots, this.paths.incoming, this.paths.thumbnails, this.paths.db, this.paths.buffer, this.paths.models]) {
      fs.mkdirSync(dir, { recursive: true, mode: DIRECTORY_MODE });
    }
  }

  /** Makes the renames into screenshots/incoming so far survive a power cut. */
  syncIncoming(): Promise<void> {
    return this.incomingSync.sync();
  }

  resolve(relative: string): string {
    const absolute = path.resolve(this.paths.root, relative);
    if (!absolute.startsWith(this.paths.root + path.sep)) throw new PathOutsideDataDirError(`path escapes data dir: ${relative}`);
    return absolute;
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
    const target = this.resolve(relative);
    const created = await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: DIRECTORY_MODE });
    await writeFileAtomic(target, bytes, options);
    if (options.durable) await syncCreatedDirectories(created, path.dirname(target));
  }

  removeSync(relative: string): void {
    fs.rmSync(this.resolve(relative), { force: true });
  }

  async read(relative: string): Promise<Buffer> {
    return fs.promises.readFile(this.resolve(relative));
  }

  async exists(relative: string): Promise<boolean> {
    try {
      await fs.promises.access(this.resolve(relative));
      return true;
    } catch {
      return false;
    }
  }

  async remove(relative: string | null): Promise<void> {
    if (!relative) return;
    await fs.promises.rm(this.resolve(relative), { force: true });
  }

  /**
   * Deletes files in screenshots/incoming that no row references (a crash between writing an upload and
   * inserting its row, or between compacting a frame and removing its original) plus stray temp files.
   */
  removeOrphanIncoming(referenced: Set<string>, minAgeMs = 0): number {
    let removed = 0;
    const before = Date.now() - minAgeMs;
    for (const name of safeReaddir(this.paths.incoming)) {
      const relative = `screenshots/incoming/${name}`;
      if (referenced.has(relative)) continue;
      if (minAgeMs > 0 && modifiedAt(path.join(this.paths.incoming, name)) > before) continue;
      fs.rmSync(path.join(this.paths.incoming, name), { force: true });
      removed++;
    }
    return removed;
  }
}

function modifiedAt(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY; // gone meanwhile: nothing to remove
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

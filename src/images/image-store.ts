import crypto from 'node:crypto';
import path from 'node:path';
import { dataPaths, type DataPaths } from '../config.js';
import { DataDir, type FileWriterReserve, PathOutsideDataDirError, type SealedFileWriter } from '../files/data-dir.js';
import { DamagedFileError } from '../files/file-cipher.js';
import { GroupSync } from '../files/group-sync.js';
import { plainCipher } from '../files/plain-cipher.js';
import { isIncomingPath, storedFramePath, thumbnailFramePath } from './frame-paths.js';
import { checkedName, matchesCheck, type UploadCheck } from './upload-check.js';

export { PathOutsideDataDirError };

/** Where uploads are written as they arrive, in files created ahead of need; committed ones move to screenshots/incoming. */
export const UPLOAD_RESERVE = 'screenshots/reserve';
/**
 * Enough for a burst of uploads while the taken files are replaced (each is an open descriptor, nothing on disk).
 * With 8, 19 % of the uploads of bench/ingest.ts (16 uploaders, 160 a second) found the reserve empty or stalled
 * behind its refill (up to 11 ms); with 32, created one at a time (new-file-reserve.ts), 2 %, at most 2.4 ms.
 */
export const UPLOAD_RESERVE_SIZE = 32;
/** Well under the hour after which a server starting on a shared data dir removes unreferenced upload files. */
const RESERVE_MAX_AGE_MS = 10 * 60_000;

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
  private partFiles: FileWriterReserve | undefined;
  /** Files created ahead in screenshots/incoming, by extension (newUploadFile). */
  private readonly uploadFiles = new Map<string, FileWriterReserve>();

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
    await this.partFiles?.close();
    await Promise.all([...this.uploadFiles.values()].map((reserve) => reserve.close()));
  }

  ensureDirectories(): void {
    for (const dir of [
      this.paths.screenshots,
      this.paths.incoming,
      this.files.resolve(UPLOAD_RESERVE),
      this.paths.thumbnails,
      this.paths.db,
      this.paths.buffer,
      this.paths.models,
    ]) {
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

  /** A new `.part` file for an upload as it arrives, from a reserve created ahead (the first call starts it). */
  newPartFile(): Promise<{ relative: string; writer: SealedFileWriter }> {
    this.partFiles ??= this.files.newFileReserve(() => `${UPLOAD_RESERVE}/${crypto.randomUUID()}.part`, {
      size: UPLOAD_RESERVE_SIZE,
      maxAgeMs: RESERVE_MAX_AGE_MS,
    });
    return this.partFiles.take();
  }

  /**
   * A new file for an upload as it arrives, at its final path in screenshots/incoming (`<uuid>.<extension>`), from
   * a reserve created ahead for each extension: written where it is, never renamed. Its name survives a power cut
   * before it is handed out (the folder is synced after the reserve creates it), so making the upload durable is
   * one fsync of the file. Until taken, such a file is empty and no row references it (start-up removes it).
   */
  newUploadFile(extension: string): Promise<{ relative: string; writer: SealedFileWriter }> {
    let reserve = this.uploadFiles.get(extension);
    if (!reserve) {
      reserve = this.files.newFileReserve(() => `screenshots/incoming/${crypto.randomUUID()}.${extension}`, {
        size: UPLOAD_RESERVE_SIZE,
        maxAgeMs: RESERVE_MAX_AGE_MS,
        afterCreate: () => this.syncIncoming(),
      });
      this.uploadFiles.set(extension, reserve);
    }
    return reserve.take();
  }

  /** A fresh name for an upload awaiting processing, carrying its bytes' check (upload-check.ts). */
  newIncomingPath(extension: string, check: UploadCheck): string {
    return `screenshots/incoming/${checkedName(crypto.randomUUID(), check, extension)}`;
  }

  /** Whether the upload file at `relative` holds the bytes its check describes: false when it is gone, torn or damaged. */
  async holdsUpload(relative: string, check: UploadCheck): Promise<boolean> {
    try {
      return matchesCheck(await this.files.readFile(relative), check);
    } catch (error) {
      if (error instanceof DamagedFileError || (error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
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
    // The reserve's files are never referenced: a crash leaves them (and the upload being written) behind.
    for (const folder of ['screenshots/incoming', UPLOAD_RESERVE]) {
      for (const name of this.files.listSync(folder)) {
        const relative = `${folder}/${name}`;
        if (referenced.has(relative)) continue;
        // Gone meanwhile: nothing to remove.
        if (minAgeMs > 0 && (this.files.statSync(relative)?.modifiedMs ?? Number.POSITIVE_INFINITY) > before) continue;
        this.files.removeSync(relative);
        removed++;
      }
    }
    return removed;
  }
}

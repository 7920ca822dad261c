import type { SealedFileWriter } from '../files/data-dir.js';
import { ImageInspector } from './image-inspector.js';
import { FILE_EXTENSIONS, type ImageInfo } from './image-format.js';
import type { ImageStore } from './image-store.js';
import { crc32, type UploadCheck } from './upload-check.js';

const WRITE_BYTES = 64 * 1024;

/**
 * An uploaded image written to disk as its bytes arrive, checked on the way (image-inspector.ts): the whole file
 * is never held in memory. It stays a `.part` file of screenshots/reserve until commit() gives it its final name
 * in screenshots/incoming; discard() removes it, and start-up removes any `.part` a crash left behind.
 * The file stays open until then, so that commit() can fsync it (off the event loop): a refused upload costs no
 * fsync.
 *
 * The bytes go through the data dir's DataDir (files/data-dir.ts, sealed by its cipher). Writes are synchronous:
 * a 64 KB write into the page cache costs microseconds, while an async write waits for a libuv thread. Creating
 * the file is not: it waits for the file system's journal, which the fsyncs of the uploads in flight keep busy
 * (2.6 ms of blocked event loop an upload on average in the ingest benchmark), so it is created off the loop, ahead
 * of need, in screenshots/reserve (files/new-file-reserve.ts).
 */
export class ReceivedImage {
  bytes = 0;
  /** CRC-32 of the bytes received so far (the incoming file's name carries it: upload-check.ts). */
  private crc = 0;
  private readonly inspector = new ImageInspector();
  private file: SealedFileWriter | undefined;
  /** Pieces not yet written: busboy hands the file over in pieces of a few hundred bytes, written 64 KB at a time. */
  private unwritten: Buffer[] = [];
  private unwrittenBytes = 0;
  private writeError: Error | undefined;
  private finished = false;
  private discarded = false;
  /** Refused or failed: later chunks are only counted. */
  private stopped = false;

  /** Relative to the data dir, like every stored path; undefined until the file exists. */
  private partPath: string | undefined;

  private constructor(private readonly images: ImageStore) {}

  static async receive(images: ImageStore, chunks: AsyncIterable<Buffer>): Promise<ReceivedImage> {
    const image = new ReceivedImage(images);
    try {
      await image.create();
      for await (const chunk of chunks) image.append(chunk);
      image.flush();
      image.finished = true;
      return image;
    } catch (error) {
      image.discard();
      throw error;
    }
  }

  /** Takes a part file created ahead (ImageStore.newPartFile); a failure (ENOSPC...) is reported by info(), like a failed write. */
  private async create(): Promise<void> {
    try {
      const { relative, writer } = await this.images.newPartFile();
      this.partPath = relative;
      this.file = writer;
    } catch (error) {
      this.writeError = error as Error;
      this.stopped = true;
    }
  }

  private append(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.inspector.push(chunk);
    if (this.stopped) return;
    this.crc = crc32(chunk, this.crc);
    if (this.inspector.error) {
      this.stopped = true;
      this.closeAndRemove();
      return;
    }
    this.unwritten.push(chunk);
    this.unwrittenBytes += chunk.length;
    if (this.unwrittenBytes >= WRITE_BYTES) this.flush();
  }

  private flush(): void {
    if (this.unwrittenBytes === 0 || this.stopped) return;
    const pieces = this.unwritten;
    this.unwritten = [];
    this.unwrittenBytes = 0;
    try {
      this.file?.write(pieces);
    } catch (error) {
      this.writeError = error as Error;
      this.stopped = true;
      this.closeAndRemove();
    }
  }

  /** Format and size from the container structure; throws ImageFormatError, or the write error (ENOSPC...). */
  info(): ImageInfo {
    const info = this.inspector.finish();
    if (this.writeError) throw this.writeError;
    if (!this.finished || this.discarded) throw new Error('the upload was discarded before it was stored');
    return info;
  }

  /** The bytes received: their count and CRC-32. */
  check(): UploadCheck {
    return { bytes: this.bytes, crc: this.crc };
  }

  /**
   * Gives the file its final incoming name (after info() succeeded), whose name carries the bytes' check, and
   * returns that path. The rename survives a power cut once the folder is synced (ImageStore.syncIncoming, the
   * caller's: one fsync for every upload renamed meanwhile).
   *
   * By default the file is fsynced before the rename, and `synced` is already resolved. With `syncBeside`, the
   * rename comes first and the file's fsync runs while the caller commits the row: `synced` resolves once the file
   * survives a power cut. A power cut before then can leave a committed row whose file is torn; its client got no
   * 202 and sends the frame again, and the check in the name tells the retry that the stored copy is not whole
   * (IngestService).
   */
  async commit(info: ImageInfo, options: { syncBeside?: boolean } = {}): Promise<{ path: string; synced: Promise<void> }> {
    const relative = this.images.newIncomingPath(FILE_EXTENSIONS[info.format], this.check());
    // From here the file is commit's: a client that hangs up meanwhile must not remove it (or close the
    // descriptor an fsync is using); its retry is answered as a duplicate of this frame.
    this.discarded = true;
    const file = this.file;
    this.file = undefined;
    const partPath = this.partPath!; // info() succeeded: the file exists
    // finish() writes the last sealed chunk at once, so the file is whole before it has its new name; its fsync
    // runs off the event loop, before the rename or (syncBeside) beside the rename and then the row's commit.
    const synced = file ? file.finish({ durable: true }) : Promise.resolve();
    synced.catch(() => undefined); // the caller awaits it; a failed rename must not leave it unhandled
    try {
      if (!options.syncBeside) await synced;
      // Off the event loop: a rename waits for the file system's journal, busy with the fsyncs.
      await this.images.files.rename(partPath, relative);
    } catch (error) {
      await synced.catch(() => undefined);
      this.images.files.removeSync(partPath);
      throw error;
    }
    return { path: relative, synced };
  }

  /** Removes the file unless it was committed; safe to call any number of times. */
  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    this.closeAndRemove();
  }

  private close(): void {
    if (this.file === undefined) return;
    const file = this.file;
    this.file = undefined;
    try {
      file.close();
    } catch (error) {
      this.writeError ??= error as Error;
    }
  }

  private closeAndRemove(): void {
    this.unwritten = [];
    this.unwrittenBytes = 0;
    this.close();
    if (this.partPath !== undefined) this.images.files.removeSync(this.partPath);
  }
}

import type { SealedFileWriter } from '../files/data-dir.js';
import { ImageInspector } from './image-inspector.js';
import { FILE_EXTENSIONS, type ImageInfo } from './image-format.js';
import type { ImageStore } from './image-store.js';
import { crc32, type UploadCheck } from './upload-check.js';

const WRITE_BYTES = 64 * 1024;

/**
 * An uploaded image written to disk as its bytes arrive, checked on the way (image-inspector.ts): the whole file
 * is never held in memory. discard() removes it, and start-up removes any file a crash left behind.
 * The file stays open until commit(), so that commit() can fsync it (off the event loop): a refused upload costs
 * no fsync.
 *
 * Two ways to name it:
 * - `inPlace`: once the first bytes tell the format, the file is taken at its final path in screenshots/incoming
 *   (ImageStore.newUploadFile), whose name was made durable ahead: commit() only fsyncs it, with no rename and no
 *   folder fsync on the way to the 202;
 * - otherwise it is a `.part` file of screenshots/reserve until commit() renames it into screenshots/incoming under
 *   a name that carries its bytes' check (upload-check.ts).
 *
 * The bytes go through the data dir's DataDir (files/data-dir.ts, sealed by its cipher). Writes are synchronous:
 * a 64 KB write into the page cache costs microseconds, while an async write waits for a libuv thread. Creating
 * the file is not: it waits for the file system's journal, which the fsyncs of the uploads in flight keep busy
 * (2.6 ms of blocked event loop an upload on average in the ingest benchmark), so it is created off the loop, ahead
 * of need (files/new-file-reserve.ts).
 */
export class ReceivedImage {
  bytes = 0;
  /** CRC-32 of the bytes received so far (kept in the row, or in a renamed file's name: upload-check.ts). */
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

  private constructor(
    private readonly images: ImageStore,
    /** Whether the file is stored where it was written (its folder needs no fsync for it). */
    readonly inPlace: boolean,
  ) {}

  static async receive(images: ImageStore, chunks: AsyncIterable<Buffer>, options: { inPlace?: boolean } = {}): Promise<ReceivedImage> {
    const image = new ReceivedImage(images, options.inPlace === true);
    try {
      if (!image.inPlace) await image.create(() => images.newPartFile());
      for await (const chunk of chunks) {
        image.append(chunk);
        const format = image.inPlace && !image.partPath && !image.stopped ? image.inspector.format : undefined;
        if (format) {
          await image.create(() => images.newUploadFile(FILE_EXTENSIONS[format]));
          if (image.unwrittenBytes >= WRITE_BYTES) image.flush();
        }
      }
      image.flush();
      image.finished = true;
      return image;
    } catch (error) {
      image.discard();
      throw error;
    }
  }

  /** Takes a file created ahead (ImageStore); a failure (ENOSPC...) is reported by info(), like a failed write. */
  private async create(take: () => Promise<{ relative: string; writer: SealedFileWriter }>): Promise<void> {
    try {
      const { relative, writer } = await take();
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

  /** Writes the pieces held (kept while an in-place upload waits for its file). */
  private flush(): void {
    if (this.unwrittenBytes === 0 || this.stopped || this.file === undefined) return;
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
   * Makes the file the stored upload (after info() succeeded) and returns its path: an in-place file keeps its
   * own; otherwise it is renamed to a new incoming name that carries the bytes' check, and the rename survives a
   * power cut once the folder is synced (ImageStore.syncIncoming, the caller's: one fsync for every upload renamed
   * meanwhile).
   *
   * A renamed file is fsynced before its rename, and `synced` is already resolved. An in-place file's fsync runs
   * while the caller commits the row: `synced` resolves once the file survives a power cut. A power cut before then
   * can leave a committed row whose file is torn; its client got no 202 and sends the frame again, and the check
   * kept in the row tells the retry that the stored copy is not whole (IngestService).
   */
  async commit(info: ImageInfo): Promise<{ path: string; synced: Promise<void> }> {
    // From here the file is commit's: a client that hangs up meanwhile must not remove it (or close the
    // descriptor an fsync is using); its retry is answered as a duplicate of this frame.
    this.discarded = true;
    const file = this.file;
    this.file = undefined;
    const partPath = this.partPath!; // info() succeeded: the file exists
    // finish() writes the last sealed chunk at once, so the file is whole before it is stored; its fsync runs off
    // the event loop, before the rename or, in place, beside the row's commit.
    const synced = file ? file.finish({ durable: true }) : Promise.resolve();
    if (this.inPlace) {
      synced.catch(() => undefined); // the caller awaits it after the row's commit
      return { path: partPath, synced };
    }
    const relative = this.images.newIncomingPath(FILE_EXTENSIONS[info.format], this.check());
    try {
      await synced;
      // Off the event loop: a rename waits for the file system's journal, busy with the fsyncs.
      await this.images.files.rename(partPath, relative);
    } catch (error) {
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

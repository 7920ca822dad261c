import fs from 'node:fs';
import { ImageInspector } from './image-inspector.js';
import { FILE_EXTENSIONS, type ImageInfo } from './image-format.js';
import type { ImageStore } from './image-store.js';

/**
 * An uploaded image written to screenshots/incoming as its bytes arrive, checked on the way
 * (image-inspector.ts): the whole file is never held in memory. It stays a `.part` file until commit()
 * gives it its final name; discard() removes it, and start-up removes any `.part` a crash left behind.
 *
 * Writes are synchronous: a write of one network chunk into the page cache costs microseconds, while an
 * async write waits for a libuv thread.
 */
export class ReceivedImage {
  bytes = 0;
  private readonly inspector = new ImageInspector();
  private fd: number | undefined;
  private writeError: Error | undefined;
  private finished = false;
  private discarded = false;
  /** Refused or failed: later chunks are only counted. */
  private stopped = false;

  private constructor(
    private readonly images: ImageStore,
    /** Relative to the data dir, like every stored path. */
    readonly partPath: string,
  ) {}

  static async receive(images: ImageStore, chunks: AsyncIterable<Buffer>): Promise<ReceivedImage> {
    const image = new ReceivedImage(images, images.newIncomingPath('part'));
    try {
      for await (const chunk of chunks) image.append(chunk);
      image.close();
      image.finished = true;
      return image;
    } catch (error) {
      image.discard();
      throw error;
    }
  }

  private append(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.inspector.push(chunk);
    if (this.stopped) return;
    if (this.inspector.error) {
      this.stopped = true;
      this.closeAndRemove();
      return;
    }
    try {
      this.fd ??= fs.openSync(this.images.resolve(this.partPath), 'wx');
      let written = 0;
      while (written < chunk.length) written += fs.writeSync(this.fd, chunk, written);
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

  /** Renames the file to its final incoming name (after info() succeeded) and returns that path. */
  commit(info: ImageInfo): string {
    const relative = this.images.newIncomingPath(FILE_EXTENSIONS[info.format]);
    fs.renameSync(this.images.resolve(this.partPath), this.images.resolve(relative));
    this.discarded = true; // nothing left under the part name
    return relative;
  }

  /** Removes the file unless it was committed; safe to call any number of times. */
  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    this.closeAndRemove();
  }

  private close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.closeSync(fd);
    } catch (error) {
      this.writeError ??= error as Error;
    }
  }

  private closeAndRemove(): void {
    this.close();
    fs.rmSync(this.images.resolve(this.partPath), { force: true });
  }
}

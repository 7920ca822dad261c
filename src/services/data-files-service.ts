import { ApiError } from '../errors.js';
import { LocalFrameFiles } from '../images/frame-files.js';
import { type ImageStore, PathOutsideDataDirError } from '../images/image-store.js';

// What a remote worker may do, and nothing more: read frames, write processed frames and thumbnails (never
// over an upload waiting in incoming/), remove the upload it has just processed.
const READABLE = /^(screenshots|compact)\/[A-Za-z0-9._/-]+$/;
const WRITABLE = /^(screenshots\/\d{4}\/\d{2}\/\d{2}\/\d+\.webp|thumbnails\/\d+\.webp)$/;
const REMOVABLE = /^screenshots\/incoming\/[A-Za-z0-9._-]+$/;

/** The data dir's frame files over HTTP, for `openrecall worker` processes that do not mount it. */
export class DataFilesService {
  private readonly files: LocalFrameFiles;

  constructor(private readonly images: ImageStore) {
    this.files = new LocalFrameFiles(images);
  }

  async read(relative: string): Promise<Buffer> {
    this.check(relative, READABLE, 'read');
    try {
      return await this.files.readFrame(relative);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError(404, `no file ${relative}`, 'NOT_FOUND');
      throw error;
    }
  }

  async write(relative: string, bytes: Buffer): Promise<{ path: string; bytes: number }> {
    this.check(relative, WRITABLE, 'written');
    if (bytes.length === 0) throw new ApiError(400, 'invalid body: empty file', 'INVALID_FIELD');
    await this.files.writeAtomic(relative, bytes);
    return { path: relative, bytes: bytes.length };
  }

  async remove(relative: string): Promise<{ path: string; removed: boolean }> {
    this.check(relative, REMOVABLE, 'removed');
    const existed = await this.images.exists(relative);
    await this.files.remove(relative);
    return { path: relative, removed: existed };
  }

  private check(relative: string, allowed: RegExp, verb: string): void {
    if (!allowed.test(relative) || relative.split('/').includes('..')) {
      throw new ApiError(400, `invalid field 'path': ${JSON.stringify(relative)} cannot be ${verb} by a worker`, 'INVALID_FIELD');
    }
    try {
      this.images.resolve(relative);
    } catch (error) {
      if (error instanceof PathOutsideDataDirError) throw new ApiError(400, `invalid field 'path': ${error.message}`, 'INVALID_FIELD');
      throw error;
    }
  }
}

import type { Readable } from 'node:stream';
import { ApiError, notFound } from '../errors.js';
import { DamagedFileError } from '../files/file-cipher.js';
import { thumbnail } from '../images/codec.js';
import { compactedReader, DamagedFrameError, MissingFrameError } from '../images/compaction/frame-reader.js';
import { isCompactedPath } from '../images/compaction/manifest.js';
import type { ImageStore } from '../images/image-store.js';
import type { FramesRepository, FrameRow, ListFilter } from '../store/ports.js';

/** A stored image file, read through the data dir's DataDir (relative path: `file`). */
export interface ImageFile {
  file: string;
  contentType: string;
  open(): Readable;
  read(): Promise<Buffer>;
}

/** A frame's image as sent: a file, or (a compacted frame) bytes rebuilt in memory. */
export type FrameImage = ImageFile | { bytes: Buffer; contentType: string };

const CONTENT_TYPES: Record<string, string> = { webp: 'image/webp', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' };

/** Reading and deleting frames. Every file path comes from the row and is resolved inside the data dir. */
export class FramesService {
  constructor(
    private readonly frames: FramesRepository,
    private readonly images: ImageStore,
  ) {}

  list(filter: ListFilter): Promise<FrameRow[]> {
    return this.frames.list(filter);
  }

  async get(id: number): Promise<FrameRow> {
    const entry = await this.frames.get(id);
    if (!entry) throw notFound(`entry ${id}`);
    return entry;
  }

  /** Any frame's image: a compacted frame is rebuilt into a PNG. */
  async frameImage(id: number): Promise<FrameImage> {
    const entry = await this.get(id);
    if (!isCompactedPath(entry.image_path)) {
      try {
        return await this.authenticated(id, await this.image(id));
      } catch (error) {
        // Compacted between reading the row and opening the file: the row now points at the manifest.
        if (!isCompactedPath((await this.frames.get(id))?.image_path)) throw error;
      }
    }
    return { bytes: await this.rebuild(id), contentType: 'image/png' };
  }

  private async rebuild(id: number): Promise<Buffer> {
    const relative = (await this.get(id)).image_path!;
    try {
      return await compactedReader(this.images).png(relative);
    } catch (error) {
      if (error instanceof MissingFrameError) throw notFound(`image of entry ${id}`);
      if (error instanceof DamagedFrameError) throw new ApiError(422, `entry ${id} cannot be rebuilt: ${error.message}`, 'DAMAGED_IMAGE');
      if (error instanceof DamagedFileError) throw damaged(id, error);
      throw error;
    }
  }

  /**
   * An encrypted file is read whole and authenticated before the reply starts: a changed byte answers 422 naming
   * the frame, never a 200 cut off mid-stream (frames are at most a few MB).
   */
  private async authenticated(id: number, file: ImageFile): Promise<FrameImage> {
    if (this.images.files.cipher.kind !== 'aead') return file;
    try {
      return { bytes: await file.read(), contentType: file.contentType };
    } catch (error) {
      if (error instanceof DamagedFileError) throw damaged(id, error);
      throw error;
    }
  }

  async image(id: number): Promise<ImageFile> {
    const entry = await this.get(id);
    if (!entry.image_path || !(await this.images.exists(entry.image_path))) throw notFound(`image of entry ${id}`);
    const extension = entry.image_path.split('.').pop()!.toLowerCase();
    return this.file(entry.image_path, CONTENT_TYPES[extension] ?? 'application/octet-stream');
  }

  /** The stored thumbnail, made on first request for frames that have none (legacy rows). */
  async thumbnail(id: number): Promise<FrameImage> {
    const relative = this.images.thumbnailPath(id);
    if (!(await this.images.exists(relative))) {
      const source = await this.frameImage(id);
      try {
        await this.images.writeAtomic(relative, await thumbnail('read' in source ? await source.read() : source.bytes));
      } catch (error) {
        throw new ApiError(422, `entry ${id} has an image that cannot be decoded: ${(error as Error).message}`, 'UNDECODABLE_IMAGE');
      }
    }
    return this.authenticated(id, this.file(relative, 'image/webp'));
  }

  private file(relative: string, contentType: string): ImageFile {
    this.images.resolve(relative);
    const files = this.images.files;
    return { file: relative, contentType, open: () => files.createReadStream(relative), read: () => files.readFile(relative) };
  }

  async delete(id: number): Promise<void> {
    const entry = await this.get(id);
    const { deleted, imagePath } = await this.frames.delete(id);
    if (!deleted) throw new ApiError(409, `entry ${id} is ${entry.status}; try again when processing has finished`, 'BUSY');
    await this.images.remove(imagePath);
    await this.images.remove(this.images.thumbnailPath(id));
  }
}

/** A frame file whose sealed bytes do not authenticate (changed, cut short): `openrecall doctor` lists them all. */
function damaged(id: number, error: DamagedFileError): ApiError {
  return new ApiError(422, `entry ${id}: its stored file ${error.file} is damaged (it does not authenticate); run \`openrecall doctor\``, 'DAMAGED_FILE');
}

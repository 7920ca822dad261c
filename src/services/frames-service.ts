import type { Readable } from 'node:stream';
import { ApiError, notFound } from '../errors.js';
import type { DataDir } from '../files/data-dir.js';
import { DamagedFileError } from '../files/file-cipher.js';
import { thumbnail } from '../images/codec.js';
import { compactedReader, DamagedFrameError, MissingFrameError } from '../images/compaction/frame-reader.js';
import { isCompactedPath } from '../images/compaction/manifest.js';
import type { ImageStore } from '../images/image-store.js';
import type { Logger } from '../log.js';
import type { FramesRepository, FrameRow, ListFilter } from '../store/ports.js';

/** A stored image file, read through the data dir's DataDir (relative path: `file`). */
export interface ImageFile {
  file: string;
  contentType: string;
  /** The whole file, authenticated (a damaged one: 422 DAMAGED_FILE naming the frame). */
  read(): Promise<Buffer>;
}

/** A frame's image: a file, or (a compacted frame) bytes rebuilt in memory. */
export type FrameImage = ImageFile | { bytes: Buffer; contentType: string };

/** An image ready to send: its length is known before the first byte, a stream is pulled as the client reads. */
export interface SendableImage {
  contentType: string;
  length: number;
  body: Readable | Buffer;
}

const CONTENT_TYPES: Record<string, string> = { webp: 'image/webp', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' };

/** Reading and deleting frames. Every file path comes from the row and is resolved inside the data dir. */
export class FramesService {
  constructor(
    private readonly frames: FramesRepository,
    private readonly images: ImageStore,
    private readonly log: Logger = () => {},
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
        return await this.image(id);
      } catch (error) {
        // Compacted between reading the row and opening the file: the row now points at the manifest.
        if (!isCompactedPath((await this.frames.get(id))?.image_path)) throw error;
      }
    }
    return { bytes: await this.rebuild(id), contentType: 'image/png' };
  }

  /** frameImage, ready to send (see `send`). */
  async imageToSend(id: number): Promise<SendableImage> {
    const image = await this.frameImage(id);
    if ('bytes' in image) return { contentType: image.contentType, length: image.bytes.length, body: image.bytes };
    try {
      return await this.send(id, image);
    } catch (error) {
      // Compacted (its file removed) between opening the row and the file.
      if (isCompactedPath((await this.frames.get(id))?.image_path)) return this.imageToSend(id);
      throw error;
    }
  }

  /** The thumbnail, ready to send (see `send`). */
  async thumbnailToSend(id: number): Promise<SendableImage> {
    return this.send(id, await this.thumbnail(id));
  }

  /**
   * A file streamed as the client reads it. An encrypted file's first 64 KiB chunk (most frames have one) is
   * authenticated before the reply starts: damaged, it answers 422 naming the frame. A later chunk that does not
   * authenticate stops the stream (the reply is cut short, never wrong bytes) and is logged naming the file.
   */
  private async send(id: number, image: ImageFile): Promise<SendableImage> {
    let opened: Awaited<ReturnType<DataDir['openAuthenticated']>>;
    try {
      opened = await this.images.files.openAuthenticated(image.file);
    } catch (error) {
      if (error instanceof DamagedFileError) throw damaged(id, error);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`image of entry ${id}`);
      throw error;
    }
    opened.stream.once('error', (error) => {
      const what = error instanceof DamagedFileError ? 'is damaged (it does not authenticate)' : `could not be read (${error.message})`;
      this.log(`entry ${id}: its stored file ${image.file} ${what}: the reply was cut short; run \`openrecall doctor\``);
    });
    return { contentType: image.contentType, length: opened.plainBytes, body: opened.stream };
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

  async image(id: number): Promise<ImageFile> {
    const entry = await this.get(id);
    if (!entry.image_path || !(await this.images.exists(entry.image_path))) throw notFound(`image of entry ${id}`);
    const extension = entry.image_path.split('.').pop()!.toLowerCase();
    return this.file(id, entry.image_path, CONTENT_TYPES[extension] ?? 'application/octet-stream');
  }

  /** The stored thumbnail, made on first request for frames that have none (legacy rows). */
  async thumbnail(id: number): Promise<ImageFile> {
    const relative = this.images.thumbnailPath(id);
    if (!(await this.images.exists(relative))) {
      const source = await this.frameImage(id);
      const bytes = 'read' in source ? await source.read() : source.bytes;
      try {
        await this.images.writeAtomic(relative, await thumbnail(bytes));
      } catch (error) {
        throw new ApiError(422, `entry ${id} has an image that cannot be decoded: ${(error as Error).message}`, 'UNDECODABLE_IMAGE');
      }
    }
    return this.file(id, relative, 'image/webp');
  }

  private file(id: number, relative: string, contentType: string): ImageFile {
    this.images.resolve(relative);
    const files = this.images.files;
    const read = async () => {
      try {
        return await files.readFile(relative);
      } catch (error) {
        throw error instanceof DamagedFileError ? damaged(id, error) : error;
      }
    };
    return { file: relative, contentType, read };
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

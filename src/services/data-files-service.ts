import { ApiError } from '../errors.js';
import { NotARegularFileError } from '../files/no-follow.js';
import { THUMBNAIL_WIDTH } from '../images/codec.js';
import { compactedReader, DamagedFrameError, MissingFrameError } from '../images/compaction/frame-reader.js';
import { isCompactedPath } from '../images/compaction/manifest.js';
import { storedFramePath, thumbnailFramePath } from '../images/frame-paths.js';
import { ImageFormatError } from '../images/image-format.js';
import { inspectImage } from '../images/image-inspector.js';
import { type ImageStore, PathOutsideDataDirError } from '../images/image-store.js';
import type { FrameRow, FramesRepository } from '../store/ports.js';

// What a remote worker may do, and nothing more: read frames; for the one frame it holds (its lease), write
// that frame's processed image and thumbnail while the frame still points at its upload, and remove its
// processed upload once the frame points at the stored image.
const READABLE = /^(screenshots|compact)\/[A-Za-z0-9._/-]+$/;
const WRITABLE = /^(screenshots\/\d{4}\/\d{2}\/\d{2}\/\d+\.webp|thumbnails\/\d+\.webp)$/;
// Never an upload still streaming in (`.part`).
const REMOVABLE = /^screenshots\/incoming\/[A-Za-z0-9-]+\.(png|jpg|webp)$/;

/** The data dir's frame files over HTTP, for `openrecall worker` processes that do not mount it. */
export class DataFilesService {
  constructor(
    private readonly images: ImageStore,
    private readonly frames: FramesRepository,
  ) {}

  /** A frame's file (a compacted frame rebuilt as PNG). Missing or not a file: 404; damaged: 422. */
  async read(relative: string): Promise<Buffer> {
    this.check(relative, READABLE, 'read');
    try {
      if (!isCompactedPath(relative)) return await this.images.files.readFileNoFollow(relative);
      if ((await this.images.files.kind(relative)) !== 'file') throw new NotARegularFileError(relative, 'ENOENT');
      return await compactedReader(this.images).png(relative);
    } catch (error) {
      if (error instanceof NotARegularFileError || error instanceof MissingFrameError) {
        throw new ApiError(404, `no file ${relative}: ${error.message}`, 'NOT_FOUND');
      }
      if (error instanceof DamagedFrameError) throw new ApiError(422, `${relative} is damaged: ${error.message}`, 'DAMAGED_FILE');
      throw error;
    }
  }

  /**
   * Stores frame `frameId`'s processed image or thumbnail for the worker holding it. Refused: another frame's
   * path, a frame already stored, a body that is not a WebP of the frame's size (structure only, no decoding).
   */
  async write(frameId: number, relative: string, bytes: Buffer, workerId: string): Promise<{ path: string; bytes: number }> {
    this.check(relative, WRITABLE, 'written');
    const frame = await this.held(frameId, workerId);
    const stored = storedFramePath(frame.id, frame.timestamp);
    const thumbnail = thumbnailFramePath(frame.id);
    if (relative !== stored && relative !== thumbnail) {
      throw new ApiError(400, `invalid field 'path': frame ${frame.id}'s files are ${stored} and ${thumbnail}, not ${relative}`, 'INVALID_FIELD');
    }
    if (!this.images.isIncoming(frame.image_path)) {
      throw new ApiError(409, `frame ${frame.id} is already stored (${frame.image_path}): a processed frame's files are never replaced`, 'ALREADY_STORED');
    }
    checkImage(bytes, relative === stored ? expectedSize(frame) : thumbnailSize(frame));
    await this.noLinks(relative, async () => {
      // Durable before the worker removes the upload; the lease makes the holder the only writer of these paths.
      await this.images.files.writeFileNoFollow(relative, bytes, { durable: true, singleWriter: true });
    });
    return { path: relative, bytes: bytes.length };
  }

  /**
   * Removes the upload frame `frameId` was processed from, for the worker holding it: only once the frame
   * points at its stored image, and only an upload no frame points at (so never another frame's, pending or not).
   */
  async remove(frameId: number, relative: string, workerId: string): Promise<{ path: string; removed: boolean }> {
    this.check(relative, REMOVABLE, 'removed');
    const frame = await this.held(frameId, workerId);
    if (frame.image_path !== storedFramePath(frame.id, frame.timestamp)) {
      throw new ApiError(409, `frame ${frame.id} is not stored yet (its image is ${frame.image_path}): its upload stays`, 'NOT_STORED');
    }
    if (await this.frames.uploadInUse(relative)) {
      throw new ApiError(409, `${relative} is the image of a frame: only an upload no frame points at can be removed`, 'IN_USE');
    }
    let removed = false;
    await this.noLinks(relative, async () => {
      const kind = await this.images.files.kind(relative);
      if (kind === 'other') throw new NotARegularFileError(relative, 'EISDIR');
      if (kind === 'file') await this.images.remove(relative);
      removed = kind === 'file';
    });
    return { path: relative, removed };
  }

  /** The frame, when `workerId` holds its lease; 409 otherwise (another worker has it, or the lease ran out). */
  private async held(frameId: number, workerId: string): Promise<FrameRow> {
    const frame = await this.frames.heldBy(frameId, workerId);
    if (!frame) {
      throw new ApiError(
        409,
        `frame ${frameId} is not held by worker ${workerId}: only the worker holding a frame's lease may write its files`,
        'NOT_LEASE_HOLDER',
      );
    }
    return frame;
  }

  private async noLinks(relative: string, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      if (error instanceof NotARegularFileError) throw new ApiError(409, `${relative}: ${error.message}`, 'NOT_A_FILE');
      throw error;
    }
  }

  private check(relative: string, allowed: RegExp, verb: string): void {
    if (!allowed.test(relative) || relative.split('/').some((part) => part === '..' || part === '.' || part === '')) {
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

interface Size {
  width: number;
  height: number;
}

/** The upload's size, as ingest recorded it (rows of old versions may lack it: then any size passes). */
function expectedSize(frame: FrameRow): Size | undefined {
  return frame.width && frame.height ? { width: frame.width, height: frame.height } : undefined;
}

/** codec.thumbnail(): THUMBNAIL_WIDTH wide (never enlarged), the height in proportion. */
function thumbnailSize(frame: FrameRow): Size | undefined {
  const size = expectedSize(frame);
  if (!size) return undefined;
  const width = Math.min(size.width, THUMBNAIL_WIDTH);
  return { width, height: Math.round((size.height * width) / size.width) };
}

function checkImage(bytes: Buffer, expected: Size | undefined): void {
  let info: { format: string; width: number; height: number };
  try {
    info = inspectImage(bytes);
  } catch (error) {
    if (error instanceof ImageFormatError) throw new ApiError(error.statusCode, `invalid body: ${error.message}`, 'INVALID_IMAGE');
    throw error;
  }
  if (info.format !== 'webp') throw new ApiError(415, `invalid body: a ${info.format} image; frames are stored as WebP`, 'UNSUPPORTED_IMAGE');
  if (expected && (info.width !== expected.width || Math.abs(info.height - expected.height) > 1)) {
    throw new ApiError(400, `invalid body: the image is ${info.width}x${info.height}, the frame's is ${expected.width}x${expected.height}`, 'WRONG_IMAGE_SIZE');
  }
}

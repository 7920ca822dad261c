import { decodeGreyscale, encodeStoredWebp, type GreyPixels, thumbnail } from '../images/codec.js';
import type { FrameFiles } from '../images/frame-files.js';
import type { FrameRow } from '../store/ports.js';
import { PermanentStageError, type ClaimedFrame, type PipelineStage } from './stage.js';

/**
 * First stage: fully decodes an upload (which the HTTP path only checked structurally), stores it as
 * lossless WebP under screenshots/YYYY/MM/DD, writes its thumbnail and hands the greyscale pixels to OCR.
 * The original upload is removed only after the row points at the new file.
 */
export class StoreImageStage implements PipelineStage {
  readonly name = 'image';

  constructor(private readonly images: FrameFiles) {}

  isNeeded(row: FrameRow): boolean {
    return this.images.isIncoming(row.image_path);
  }

  async run(frame: ClaimedFrame): Promise<void> {
    const original = frame.row.image_path;
    const bytes = await frame.imageBytes();
    let webp: Buffer;
    let grey: GreyPixels;
    let thumb: Buffer;
    try {
      webp = await encodeStoredWebp(bytes);
      grey = await decodeGreyscale(bytes);
      thumb = await thumbnail(bytes);
    } catch (error) {
      throw new PermanentStageError(`image cannot be decoded: ${(error as Error).message}`);
    }
    frame.provideGreyscale(grey);

    const stored = this.images.storedPath(frame.row.id, frame.row.timestamp);
    await this.images.writeAtomic(stored, webp, frame.row.id);
    await this.images.writeAtomic(this.images.thumbnailPath(frame.row.id), thumb, frame.row.id);
    await frame.save({ image_path: stored, bytes: webp.length, width: grey.width, height: grey.height });
    if (original !== stored) await this.images.remove(original, frame.row.id);
  }
}

import { decodeGreyscale, encodeStoredWebp, type GreyPixels, thumbnail } from '../images/codec.js';
import type { ImageStore } from '../images/image-store.js';
import type { EntryRow } from '../store/entries-repository.js';
import { PermanentStageError, type FrameTask, type PipelineStage } from './stage.js';

/**
 * First stage: fully decodes an upload (which the HTTP path only checked structurally), stores it as
 * lossless WebP under screenshots/YYYY/MM/DD, writes its thumbnail and hands the greyscale pixels to OCR.
 * The original upload is removed only after the row points at the new file.
 */
export class StoreImageStage implements PipelineStage {
  readonly name = 'image';

  constructor(private readonly images: ImageStore) {}

  isNeeded(entry: EntryRow): boolean {
    return this.images.isIncoming(entry.image_path);
  }

  async run(task: FrameTask): Promise<void> {
    const original = task.entry.image_path;
    const bytes = await task.imageBytes();
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
    task.provideGreyscale(grey);

    const stored = this.images.storedPath(task.entry.id, task.entry.timestamp);
    await this.images.writeAtomic(stored, webp);
    await this.images.writeAtomic(this.images.thumbnailPath(task.entry.id), thumb);
    task.save({ image_path: stored, bytes: webp.length, width: grey.width, height: grey.height });
    if (original !== stored) await this.images.remove(original);
  }
}

import { coveredStoredImage } from '../images/codec.js';
import type { FrameFiles } from '../images/frame-files.js';
import { parseRecord, RULES_VERSION, recordBoxes } from '../redaction/index.js';
import type { FrameRow } from '../store/ports.js';
import { PermanentStageError, type ClaimedFrame, type PipelineStage } from './stage.js';

/**
 * Runs after OCR: fully decodes an upload (which the HTTP path only checked structurally), covers the boxes
 * of the words OCR's redaction found with solid black, and stores the result as lossless WebP under
 * screenshots/YYYY/MM/DD with its thumbnail. No uncovered processed image is ever written; the original
 * upload is removed only after the row points at the new file.
 */
export class StoreImageStage implements PipelineStage {
  readonly name = 'image';

  constructor(
    private readonly images: FrameFiles,
    /** Whether redaction is on: the frame is then marked redacted with the current rules. */
    private readonly redacting = true,
  ) {}

  isNeeded(row: FrameRow): boolean {
    return this.images.isIncoming(row.image_path);
  }

  async run(frame: ClaimedFrame): Promise<void> {
    const original = frame.row.image_path;
    const bytes = await frame.imageBytes();
    let stored: Awaited<ReturnType<typeof coveredStoredImage>>;
    try {
      stored = await coveredStoredImage(bytes, recordBoxes(parseRecord(frame.row.redactions)));
    } catch (error) {
      throw new PermanentStageError(`image cannot be decoded: ${(error as Error).message}`);
    }
    const path = this.images.storedPath(frame.row.id, frame.row.timestamp);
    await this.images.writeAtomic(path, stored.webp, frame.row.id);
    await this.images.writeAtomic(this.images.thumbnailPath(frame.row.id), stored.thumb, frame.row.id);
    await frame.save({
      image_path: path,
      bytes: stored.webp.length,
      width: stored.width,
      height: stored.height,
      ...(this.redacting ? { redaction_version: RULES_VERSION } : {}),
    });
    if (original !== path) await this.images.remove(original, frame.row.id);
  }
}

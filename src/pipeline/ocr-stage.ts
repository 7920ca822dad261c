import type { CjkIndexRepository } from '../store/ports.js';
import type { FrameRow } from '../store/ports.js';
import { composeFrameText, needsOcr } from './frame-text.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import type { ClaimedFrame, PipelineStage } from './stage.js';

/**
 * Makes the frame's text: the one place any text enters a frame (OCR's, and the text a client sent with the image,
 * which ingest only stores aside). Skipped when the frame already has its text (a retry after a later stage failed).
 */
export class OcrStage implements PipelineStage {
  readonly name = 'ocr';

  constructor(
    private readonly engine: OcrEngine,
    /** Indexes CJK text as bigrams (a word inside a run of characters); triggers cannot compute them. */
    private readonly cjk?: CjkIndexRepository,
  ) {}

  isNeeded(row: FrameRow): boolean {
    return row.text === null;
  }

  async run(frame: ClaimedFrame): Promise<void> {
    const supplied = frame.row.supplied_text;
    const ocr = needsOcr(supplied) ? await this.engine.recognize(await frame.greyscale()) : null;
    const text = composeFrameText({ supplied, ocr, url: frame.row.browser_url });
    // The client's text is now in the frame's text (as that text is, e.g. redacted): no raw copy stays beside it.
    await frame.save(supplied == null ? { text } : { text, supplied_text: null });
    await this.cjk?.save(frame.row.id, text);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

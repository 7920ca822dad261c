import type { CjkIndexRepository } from '../store/ports.js';
import type { FrameRow } from '../store/ports.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import type { ClaimedFrame, PipelineStage } from './stage.js';

/** Extracts the text on screen. Skipped when the frame already has OCR text (a retry after a later stage failed). */
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
    const text = await this.engine.recognize(await frame.greyscale());
    await frame.save({ text });
    await this.cjk?.save(frame.row.id, text);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

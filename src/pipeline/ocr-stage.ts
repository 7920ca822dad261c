import type { CjkIndexRepository } from '../store/cjk-index-repository.js';
import type { EntryRow } from '../store/entries-repository.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import type { FrameTask, PipelineStage } from './stage.js';

/** Extracts the text on screen. Skipped when the frame already has OCR text (a retry after a later stage failed). */
export class OcrStage implements PipelineStage {
  readonly name = 'ocr';

  constructor(
    private readonly engine: OcrEngine,
    /** Indexes CJK text as bigrams (a word inside a run of characters); triggers cannot compute them. */
    private readonly cjk?: CjkIndexRepository,
  ) {}

  isNeeded(entry: EntryRow): boolean {
    return entry.text === null;
  }

  async run(task: FrameTask): Promise<void> {
    const text = await this.engine.recognize(await task.greyscale());
    task.save({ text });
    this.cjk?.save(task.entry.id, text);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

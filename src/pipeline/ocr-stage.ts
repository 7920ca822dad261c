import type { EntryRow } from '../store/entries-repository.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import type { FrameTask, PipelineStage } from './stage.js';

/** Extracts the text on screen. Skipped when the frame already has OCR text (a retry after a later stage failed). */
export class OcrStage implements PipelineStage {
  readonly name = 'ocr';

  constructor(private readonly engine: OcrEngine) {}

  isNeeded(entry: EntryRow): boolean {
    return entry.text === null;
  }

  async run(task: FrameTask): Promise<void> {
    const text = await this.engine.recognize(await task.greyscale());
    task.save({ text });
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

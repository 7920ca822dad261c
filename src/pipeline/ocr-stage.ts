import { boxesOf, type RedactionPolicy, recordItems, redactText } from '../redaction/index.js';
import type { CjkIndexRepository } from '../store/ports.js';
import type { FrameRow } from '../store/ports.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import type { ClaimedFrame, PipelineStage } from './stage.js';

/**
 * Extracts the text on screen and redacts it before anything keeps it: the text is saved, indexed and later
 * embedded only in its redacted form, together with where the redacted words are on screen (the image stage,
 * which runs next, covers them). Skipped when the frame already has OCR text (a retry after a later stage
 * failed). A detector that fails fails this stage: nothing is saved, and the frame is retried.
 */
export class OcrStage implements PipelineStage {
  readonly name = 'ocr';

  constructor(
    private readonly engine: OcrEngine,
    /** Indexes CJK text as bigrams (a word inside a run of characters); triggers cannot compute them. */
    private readonly cjk?: CjkIndexRepository,
    /** null: redaction is off (OPENRECALL_REDACT=off). */
    private readonly redaction: RedactionPolicy | null = { pii: false },
  ) {}

  isNeeded(row: FrameRow): boolean {
    return row.text === null;
  }

  async run(frame: ClaimedFrame): Promise<void> {
    const ocr = await this.engine.recognizeWords(await frame.greyscale());
    if (!this.redaction) {
      await frame.save({ text: ocr.text });
      await this.cjk?.save(frame.row.id, ocr.text);
      return;
    }
    const redacted = await redactText(ocr.text, this.redaction);
    const items = recordItems('text', redacted.findings, (f) => boxesOf(f, ocr.words));
    await frame.save({ text: redacted.text, redactions: JSON.stringify({ items }) });
    await this.cjk?.save(frame.row.id, redacted.text);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

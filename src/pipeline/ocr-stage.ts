import { boxesOf, REDACTED, type RedactionPolicy, recordItems, redactText } from '../redaction/index.js';
import type { CjkIndexRepository } from '../store/ports.js';
import type { FrameRow } from '../store/ports.js';
import { composeFrameText, needsOcr } from './frame-text.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import type { ClaimedFrame, PipelineStage } from './stage.js';

/**
 * Makes the frame's text: the one place any text enters a frame (OCR's, and the text a client sent with the image,
 * which ingest stores aside, already redacted). OCR's text is redacted before anything keeps it: it is saved,
 * indexed and later embedded only in its redacted form, together with where the redacted words are on screen
 * (the image stage, which runs next, covers them). Skipped when the frame already has its text (a retry after a
 * later stage failed). A detector that fails fails this stage: nothing is saved, and the frame is retried.
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
    const supplied = frame.row.supplied_text;
    // A value redacted from the client's text was on the screen too: OCR finds where, so its pixels are covered.
    const runOcr = needsOcr(supplied) || (this.redaction !== null && supplied?.includes(REDACTED) === true);
    const ocr = runOcr ? await this.engine.recognizeWords(await frame.greyscale()) : null;
    const redacted = ocr && this.redaction ? await redactText(ocr.text, this.redaction) : null;
    const text = composeFrameText({ supplied, ocr: redacted?.text ?? ocr?.text ?? null, url: frame.row.browser_url });
    const items = ocr && redacted ? recordItems('text', redacted.findings, (f) => boxesOf(f, ocr.words)) : [];
    await frame.save({
      text,
      // The client's text is now in the frame's text: no copy stays beside it.
      ...(supplied == null ? {} : { supplied_text: null }),
      ...(this.redaction ? { redactions: JSON.stringify({ items }) } : {}),
    });
    await this.cjk?.save(frame.row.id, text);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

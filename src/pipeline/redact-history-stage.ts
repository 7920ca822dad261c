import { frameText, normalize, type EmbeddingProvider } from '../ai/embedding-provider.js';
import { coveredStoredImage } from '../images/codec.js';
import type { FrameFiles } from '../images/frame-files.js';
import { boxesOf, type RedactionPolicy, RULES_VERSION, recordItems, redactText } from '../redaction/index.js';
import type { CjkIndexRepository, CompactionRepository, EmbeddingsRepository, FrameRow, FramesRepository, MaintenanceRepository } from '../store/ports.js';
import type { CompactedLayerBlanker } from './compacted-redaction.js';
import type { OcrEngine } from './ocr/ocr-engine.js';
import type { BackfillSource, ClaimedFrame, PipelineStage } from './stage.js';

export interface RedactHistoryDeps {
  images: FrameFiles;
  frames: FramesRepository;
  cjk: CjkIndexRepository;
  compaction: CompactionRepository;
  embeddings: EmbeddingsRepository;
  /** Told when old text was overwritten: its bytes linger in the database files until a scrub. */
  maintenance: MaintenanceRepository;
  embedder?: EmbeddingProvider | undefined;
  /** Paints a compacted frame's covered tiles in the layers it shared (only where the data dir is mounted). */
  layers?: CompactedLayerBlanker | undefined;
  /** Reads the word boxes again: frames stored before redaction kept their text but not where it was. */
  ocr?: OcrEngine | undefined;
}

/**
 * Redacts a frame stored before redaction existed, or by older rules (`openrecall redact`, a backfill):
 * text, window title and AI description, CJK bigrams, the embedding, and the pixels (OCR'd again for the
 * word boxes; a compacted frame becomes a plain covered file, its covered tiles are painted over in the layers
 * it shared wherever no other frame uses them, and it lets go of those layers). New frames
 * are redacted by the OCR and image stages and skip this one. Every step can be repeated after a crash: the
 * marker (redaction_version) is written last.
 */
export class RedactHistoryStage implements PipelineStage {
  readonly name = 'redact';
  readonly backfill: BackfillSource;

  constructor(
    private readonly policy: RedactionPolicy,
    private readonly deps: RedactHistoryDeps,
  ) {
    this.backfill = {
      remaining: () => deps.frames.unredacted(RULES_VERSION),
      candidates: (limit) => deps.frames.unredactedIds(RULES_VERSION, limit),
    };
  }

  isNeeded(row: FrameRow): boolean {
    return row.redaction_version !== RULES_VERSION && !this.deps.images.isIncoming(row.image_path);
  }

  async run(frame: ClaimedFrame): Promise<void> {
    const { images, compaction } = this.deps;
    const row = frame.row;
    const [text, title, description] = await Promise.all([row.text, row.title, row.description].map((t) => redactText(t ?? '', this.policy)));
    const items = [...recordItems('title', title!.findings), ...recordItems('description', description!.findings)];

    const bytes = await frame.imageBytes();
    if (this.deps.ocr) {
      const ocr = await this.deps.ocr.recognizeWords(await frame.greyscale());
      const onScreen = await redactText(ocr.text, this.policy);
      items.push(...recordItems('text', onScreen.findings, (f) => boxesOf(f, ocr.words)));
    } else items.push(...recordItems('text', text!.findings));

    const patch = {
      text: row.text === null ? null : text!.text,
      title: row.title === null ? null : title!.text,
      description: row.description === null ? null : description!.text,
      redactions: JSON.stringify({ items }),
    };
    const boxes = items.flatMap((i) => i.boxes.map(([x, y, width, height]) => ({ x, y, width, height })));
    const compacted = row.image_path?.startsWith('compact/') ?? false;
    if (boxes.length > 0 || (compacted && items.length > 0)) {
      // Before the switch: should it crash after this, the frame's own tiles are black already, no one else's changed.
      if (compacted && boxes.length > 0) await this.deps.layers?.blankCovered(row.id, row.image_path!, boxes);
      const covered = await coveredStoredImage(bytes, boxes);
      const path = images.storedPath(row.id, row.timestamp);
      await images.writeAtomic(path, covered.webp, row.id);
      await images.writeAtomic(images.thumbnailPath(row.id), covered.thumb, row.id);
      await frame.save({ ...patch, image_path: path, bytes: covered.webp.length });
      if (compacted) {
        // The shared layers held this frame's uncovered pixels: the sweep removes those no frame uses now.
        await compaction.release(row.id);
        await images.remove(row.image_path, row.id);
      }
    } else await frame.save(patch);

    if (patch.text !== row.text) await this.deps.cjk.save(row.id, patch.text);
    if (this.deps.embedder && (await this.deps.embeddings.has(row.id, this.deps.embedder.model)) && items.length > 0) {
      const embedText = frameText(frame.row);
      const vector = embedText.trim() ? normalize((await this.deps.embedder.embed([embedText]))[0]!) : null;
      await this.deps.embeddings.save(row.id, this.deps.embedder.model, vector);
    }
    if (items.length > 0) await this.deps.maintenance.markScrubDue();
    await frame.save({ redaction_version: RULES_VERSION });
  }
}

import { frameText, normalize, type EmbeddingProvider } from '../ai/embedding-provider.js';
import type { EmbeddingsRepository, FramePosition } from '../store/ports.js';
import type { FrameRow } from '../store/ports.js';
import type { BackfillSource, ClaimedFrame, PipelineStage } from './stage.js';

/** Frames looked at in one step of the walk for frames without a vector (a few ms of the processor's event loop). */
const WINDOW = 10_000;
/** After a walk of the whole history found none, the next walk starts this much later (ms). */
const WALK_AGAIN_MS = 10 * 60_000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * COMPLETED frames without a vector of the model (a provider switched on, or another model chosen), newest first.
 * A walk through the history in windows: each step costs its window of frames, and between steps this process's
 * event loop answers the server's query embeddings. The walk goes on from where it stopped, so a million frames to
 * embed are found in one pass (asking "the newest without a vector" again after each one read every frame embedded
 * so far, again and again); once a whole walk found none, the next begins WALK_AGAIN_MS later (frames the pipeline
 * processes meanwhile get their vector from it).
 */
export class MissingVectorsWalk implements BackfillSource {
  /** The walk goes on after this frame (null: from the newest). */
  private after: FramePosition | null = null;
  private restAt = 0;

  constructor(
    private readonly embeddings: EmbeddingsRepository,
    private readonly model: string,
    private readonly options: { window?: number; walkAgainMs?: number; now?: () => number } = {},
  ) {}

  remaining(): Promise<number> {
    return this.embeddings.missingCount(this.model);
  }

  async candidates(limit: number): Promise<number[]> {
    const now = this.options.now ?? Date.now;
    if (now() < this.restAt) return [];
    for (;;) {
      const step = await this.embeddings.missingIdsAfter(this.model, this.after, this.options.window ?? WINDOW, limit);
      const first = step.found[0];
      if (first) {
        // The next step starts at the first frame found, included: one embedded meanwhile is passed over, one whose
        // backfill failed is offered again (the worker counts its failures).
        this.after = { timestamp: first.timestamp, id: first.id + 1 };
        return step.found.map((f) => f.id);
      }
      this.after = step.last;
      if (!step.last) {
        this.restAt = now() + (this.options.walkAgainMs ?? WALK_AGAIN_MS);
        return [];
      }
      await nextTurn();
    }
  }
}

/** Embeds what the frame says (AI description, window title, OCR text) for semantic search. */
export class EmbedStage implements PipelineStage {
  readonly name = 'embed';
  readonly backfill: BackfillSource;

  constructor(
    private readonly provider: EmbeddingProvider,
    private readonly embeddings: EmbeddingsRepository,
  ) {
    this.backfill = new MissingVectorsWalk(embeddings, provider.model);
  }

  async isNeeded(row: FrameRow): Promise<boolean> {
    return !(await this.embeddings.has(row.id, this.provider.model));
  }

  async run(frame: ClaimedFrame): Promise<void> {
    const text = frameText(frame.row);
    if (!text.trim()) {
      await this.embeddings.save(frame.row.id, this.provider.model, null); // nothing to embed: don't ask again
      return;
    }
    const [vector] = await this.provider.embed([text]);
    await this.embeddings.save(frame.row.id, this.provider.model, normalize(vector!));
  }

  close(): Promise<void> {
    return this.provider.close?.() ?? Promise.resolve();
  }
}

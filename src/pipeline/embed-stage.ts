import { frameText, normalize, type EmbeddingProvider } from '../ai/embedding-provider.js';
import type { EmbeddingsRepository } from '../store/ports.js';
import type { FrameRow } from '../store/ports.js';
import type { BackfillSource, ClaimedFrame, PipelineStage } from './stage.js';

/** Embeds what the frame says (AI description, window title, OCR text) for semantic search. */
export class EmbedStage implements PipelineStage {
  readonly name = 'embed';
  readonly backfill: BackfillSource;

  constructor(
    private readonly provider: EmbeddingProvider,
    private readonly embeddings: EmbeddingsRepository,
  ) {
    this.backfill = {
      remaining: () => embeddings.missingCount(provider.model),
      candidates: (limit) => embeddings.missingIds(provider.model, limit),
    };
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

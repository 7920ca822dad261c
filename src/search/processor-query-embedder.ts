import type { EmbeddingProvider } from '../ai/embedding-provider.js';

/** How long a search waits for the processor to embed its query before falling back to keyword search. */
export const QUERY_EMBED_TIMEOUT_MS = 4000;

/**
 * Embeds search queries in the processor process, which holds the only copy of the built-in model (it costs
 * about 150 MB: one copy, not two). Frames are never embedded through this.
 */
export class ProcessorQueryEmbedder implements EmbeddingProvider {
  constructor(
    readonly model: string,
    private readonly processor: { embed(text: string, timeoutMs: number): Promise<Float32Array>; readonly semantic?: { enabled: boolean } | undefined },
    private readonly timeoutMs = QUERY_EMBED_TIMEOUT_MS,
  ) {}

  /** While the processor starts it may still load the model: available until it says the model failed. */
  available(): boolean {
    return this.processor.semantic?.enabled ?? true;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return Promise.all(texts.map((text) => this.processor.embed(text, this.timeoutMs)));
  }
}

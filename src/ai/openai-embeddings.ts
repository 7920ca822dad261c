import { endpoint, type EmbeddingConfig } from './config.js';
import type { EmbeddingProvider } from './embedding-provider.js';
import { postJson, ProviderError } from './http-json.js';

/** Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, Ollama, LM Studio, vLLM, llama.cpp server…). */
export class OpenAiEmbeddings implements EmbeddingProvider {
  readonly model: string;
  private readonly url: string;
  private dim: number;

  constructor(private readonly config: EmbeddingConfig) {
    this.model = config.model;
    this.url = endpoint(config.url, '/embeddings');
    this.dim = config.dim;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const body = await postJson(
      this.url,
      { model: this.model, input: texts },
      { apiKey: this.config.apiKey, timeoutMs: this.config.timeoutMs, what: 'embedding provider' },
    );
    const data = (body as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length !== texts.length) {
      throw new ProviderError(`embedding provider: expected ${texts.length} embedding(s) in "data", got ${Array.isArray(data) ? data.length : typeof data}`);
    }
    const ordered = [...data].sort((a, b) => ((a as { index?: number }).index ?? 0) - ((b as { index?: number }).index ?? 0));
    return ordered.map((item) => {
      const values = (item as { embedding?: unknown }).embedding;
      if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new ProviderError('embedding provider: an embedding is not an array of numbers');
      }
      if (this.dim === 0) this.dim = values.length;
      if (values.length !== this.dim) {
        throw new ProviderError(`embedding provider: vector has ${values.length} dimensions, expected ${this.dim} (OPENRECALL_EMBEDDING_DIM)`);
      }
      return Float32Array.from(values as number[]);
    });
  }
}

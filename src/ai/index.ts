import { BuiltinEmbeddings } from './builtin-embeddings.js';
import type { EmbeddingConfig } from './config.js';
import type { EmbeddingProvider } from './embedding-provider.js';
import { LocalEmbeddings } from './local-embeddings.js';
import { OpenAiEmbeddings } from './openai-embeddings.js';

/** The configured embedding provider, or undefined for `none`. A `local` model is loaded (and checked) here. */
export async function createEmbeddingProvider(config: EmbeddingConfig): Promise<EmbeddingProvider | undefined> {
  switch (config.provider) {
    case 'none':
      return undefined;
    case 'openai':
      return new OpenAiEmbeddings(config);
    case 'local':
      return LocalEmbeddings.load(config.model);
    case 'builtin':
      return BuiltinEmbeddings.load(config.model);
  }
}

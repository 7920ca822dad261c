import { BuiltinModelError } from './builtin-embeddings.js';
import type { EmbeddingConfig, EmbeddingProviderName } from './config.js';
import type { EmbeddingProvider } from './embedding-provider.js';
import { createEmbeddingProvider } from './index.js';

/** Whether search by meaning is on, with which model, and if not, why (queue status, doctor, log). */
export interface SemanticStatus {
  enabled: boolean;
  provider: EmbeddingProviderName;
  model: string | null;
  reason: string | null;
}

export interface LoadedEmbedder {
  provider?: EmbeddingProvider;
  status: SemanticStatus;
}

/**
 * Loads the configured provider. The built-in model is the default, so a missing or corrupt copy must not stop
 * the server: semantic search is then off, with the reason. A provider configured on purpose (`local`, `openai`)
 * that is wrong still stops start-up.
 */
export async function loadEmbedder(config: EmbeddingConfig): Promise<LoadedEmbedder> {
  if (config.provider === 'none') {
    return { status: { enabled: false, provider: 'none', model: null, reason: 'OPENRECALL_EMBEDDING_PROVIDER=none' } };
  }
  try {
    const provider = await createEmbeddingProvider(config);
    return { provider, status: { enabled: true, provider: config.provider, model: provider?.model ?? null, reason: null } };
  } catch (error) {
    if (!(error instanceof BuiltinModelError)) throw error;
    return { status: { enabled: false, provider: config.provider, model: null, reason: error.message } };
  }
}

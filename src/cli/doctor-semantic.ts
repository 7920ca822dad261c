import type { ServerConfig } from '../config.js';
import type { CheckStatus } from './doctor-check.js';

type Add = (check: string, status: CheckStatus, message: string) => void;

/** Search by meaning: the built-in model is loaded here once (a few seconds) to prove it works offline. */
export async function semanticCheck(config: ServerConfig, add: Add): Promise<void> {
  const embedding = config.ai.embedding;
  if (embedding.provider === 'none') {
    add('semantic', 'warn', 'OPENRECALL_EMBEDDING_PROVIDER=none: search finds words only, not meaning');
    return;
  }
  if (embedding.provider !== 'builtin') {
    add('semantic', 'ok', `embedding provider ${embedding.provider} (${embedding.model}); checked when the server starts`);
    return;
  }
  const { loadEmbedder } = await import('../ai/semantic-status.js');
  const { provider, status } = await loadEmbedder(embedding);
  await provider?.close?.();
  if (status.enabled) add('semantic', 'ok', `built-in embedding model ${status.model} loads offline`);
  else add('semantic', 'warn', `semantic search will be off: ${status.reason}; keyword search works`);
}

/** OCR languages (OPENRECALL_OCR_LANGUAGES): each one's model is on this machine. */
export async function ocrLanguagesCheck(config: ServerConfig, add: Add): Promise<void> {
  if (config.ocrEngine === 'none') return;
  const { checkOcrLanguages } = await import('../pipeline/ocr/languages.js');
  try {
    checkOcrLanguages(config.ocrEngine, config.ocrLanguages);
    add('ocr-languages', 'ok', `OCR languages ${config.ocrLanguages} installed`);
  } catch (error) {
    add('ocr-languages', 'fail', (error as Error).message);
  }
}

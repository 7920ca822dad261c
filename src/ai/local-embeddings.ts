import fs from 'node:fs';
import path from 'node:path';
import type { EmbeddingProvider } from './embedding-provider.js';

export class LocalModelError extends Error {}

type Extractor = (texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: Float32Array; dims: number[] }>;

/**
 * A sentence-embedding model from a directory on disk (Hugging Face layout: config.json, tokenizer.json,
 * onnx/model.onnx), run with @huggingface/transformers on onnxruntime. Remote models are switched off:
 * nothing is ever fetched from a hub.
 */
export class LocalEmbeddings implements EmbeddingProvider {
  readonly model: string;

  private constructor(
    directory: string,
    private readonly extractor: Extractor & { dispose?: () => Promise<void> },
  ) {
    this.model = `local:${path.basename(directory)}`;
  }

  /** Loads the model; a missing or unusable directory is a LocalModelError naming what is wrong. */
  static async load(directory: string): Promise<LocalEmbeddings> {
    if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
      throw new LocalModelError(`OPENRECALL_EMBEDDING_MODEL=${directory}: no such model directory`);
    }
    for (const required of ['config.json', 'tokenizer.json']) {
      if (!fs.existsSync(path.join(directory, required))) {
        throw new LocalModelError(`OPENRECALL_EMBEDDING_MODEL=${directory}: not a model directory (missing ${required})`);
      }
    }
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(directory);
    try {
      const extractor = await pipeline('feature-extraction', path.basename(directory), { local_files_only: true, dtype: 'fp32' });
      return new LocalEmbeddings(directory, extractor as unknown as Extractor);
    } catch (error) {
      throw new LocalModelError(`OPENRECALL_EMBEDDING_MODEL=${directory}: cannot load the model: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const output = await this.extractor(texts, { pooling: 'mean', normalize: true });
    const dim = output.dims.at(-1)!;
    return texts.map((_, i) => output.data.slice(i * dim, (i + 1) * dim));
  }

  async close(): Promise<void> {
    await this.extractor.dispose?.();
  }
}

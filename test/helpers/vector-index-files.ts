import crypto from 'node:crypto';
import path from 'node:path';
import { createAeadFileCipher } from '../../src/encryption/aead-file-cipher.js';
import type { DataDir } from '../../src/files/data-dir.js';
import type { FileCipher } from '../../src/files/file-cipher.js';
import { openDataDir } from '../../src/files/open-data-dir.js';
import { plainCipher } from '../../src/files/plain-cipher.js';
import { type VectorIndex, vectorIndexFileName } from '../../src/search/vector-index.js';
import type { EmbeddingsRepository, Store } from '../../src/store/ports.js';
import { openDataDirDatabase } from './sqlite-data-dir.js';
import { newFrame } from './store-frames.js';
import { tempDir } from './temp-dir.js';

export const MODEL = 'test-model';
export const DIM = 64;

/** The ciphers the index file is tested with; the encrypted one's key is given as hex (child processes get it). */
export function cipherFor(key: string): FileCipher {
  return key === 'plain' ? plainCipher : createAeadFileCipher(Buffer.from(key, 'hex'));
}
export const CIPHER_KEYS: Array<[string, string]> = [
  ['plain', 'plain'],
  ['encrypted', crypto.randomBytes(32).toString('hex')],
];

/** A deterministic unit vector per seed; nearby seeds are not similar. */
export function vector(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, (_, i) => (Math.sin(seed * 12.9898 + i * 78.233) * 43758.5453) % 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** The store's embeddings, counting the stored vectors read to build the index. */
export function counting(repo: EmbeddingsRepository): EmbeddingsRepository & { rowsRead: number } {
  const wrapper = Object.assign(Object.create(repo) as EmbeddingsRepository, {
    rowsRead: 0,
    bitsSince: async (model: string, seq: number, limit: number) => {
      const rows = await repo.bitsSince(model, seq, limit);
      wrapper.rowsRead += rows.length;
      return rows;
    },
  });
  return wrapper;
}

export interface IndexedDataDir {
  store: Store;
  root: string;
  files: DataDir;
  file: { dataDir: DataDir; path: string };
  /** The index folder on the disk. */
  folder: string;
  ids: number[];
}

export async function addFrames(store: Store, count: number, timestamp = 1_700_000_000): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await store.frames.insertPending(newFrame(timestamp + i));
    await store.embeddings.save(id, MODEL, vector(id));
    ids.push(id);
  }
  return ids;
}

export async function dataDirWithVectors(frames: number, key: string, root = tempDir('openrecall-vector-index-')): Promise<IndexedDataDir> {
  const store = openDataDirDatabase(root);
  const ids = await addFrames(store, frames);
  const files = openDataDir(root, cipherFor(key));
  return { store, root, files, file: { dataDir: files, path: `index/${vectorIndexFileName(MODEL)}` }, folder: path.join(root, 'index'), ids };
}

export async function nearest(index: VectorIndex, seed: number): Promise<number | undefined> {
  return (await index.search(vector(seed), 1))[0]?.id;
}

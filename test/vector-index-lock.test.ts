import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createAeadFileCipher } from '../src/encryption/aead-file-cipher.js';
import { openDataDir } from '../src/files/open-data-dir.js';
import { VectorIndex, vectorIndexFileName } from '../src/search/vector-index.js';
import type { EmbeddingsRepository } from '../src/store/ports.js';
import { addFrames, counting, MODEL, nearest } from './helpers/vector-index-files.js';
import { openDataDirDatabase } from './helpers/sqlite-data-dir.js';
import { tempDir } from './helpers/temp-dir.js';

/**
 * `openrecall lock` closes the server (the vector index with it) and then zeroes the files key in place: the cipher
 * holds that buffer itself. Here the same: close(), then fill(0) on the key the cipher was given. Whatever the index
 * writes after close() resolved is sealed with a zeroed key, and fails to open at the unlock (then it is rebuilt
 * from every stored vector).
 */
function lockable(root: string) {
  const key = crypto.randomBytes(32);
  const unlockKey = Buffer.from(key);
  const file = (k: Buffer) => ({ dataDir: openDataDir(root, createAeadFileCipher(k)), path: `index/${vectorIndexFileName(MODEL)}` });
  return { file: file(key), wipe: () => key.fill(0), unlocked: () => file(Buffer.from(unlockKey)) };
}

/** The store's embeddings, each read held until `release()` (a slow database); `entered` resolves at the first. */
function held(repo: EmbeddingsRepository) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const first = new Promise<void>((resolve) => (entered = resolve));
  const wrapper = Object.assign(Object.create(repo) as EmbeddingsRepository, {
    bitsSince: async (model: string, seq: number, limit: number) => {
      entered();
      await gate;
      return repo.bitsSince(model, seq, limit);
    },
  });
  return { repo: wrapper, entered: first, release };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

/** After the unlock: the file opens with the key (no damaged file, no rebuild) and has `inFile` frames. */
async function opensUnrebuilt(store: ReturnType<typeof openDataDirDatabase>, file: ReturnType<typeof lockable>['file'], total: number, probe: number) {
  const lines: string[] = [];
  const repo = counting(store.embeddings);
  const index = new VectorIndex(MODEL, repo, { file, log: (line) => lines.push(line), batchRows: 10 });
  await index.whenReady();
  assert.deepEqual(lines, [], 'the index file authenticates and matches the store');
  assert.equal(index.size, total);
  assert.equal(await nearest(index, probe), probe);
  await index.close();
  return repo.rowsRead;
}

describe('the vector index file and openrecall lock (encrypted, the key wiped after close)', () => {
  it('a lock during a read from the store (a catch-up): nothing is written after close, the file opens at the unlock', async () => {
    const root = tempDir('openrecall-vector-lock-');
    const store = openDataDirDatabase(root);
    const ids = await addFrames(store, 50);
    const keys = lockable(root);
    const first = new VectorIndex(MODEL, store.embeddings, { file: keys.file });
    await first.whenReady();
    await first.close();
    const later = await addFrames(store, 30, 1_800_000_000);

    const slow = held(store.embeddings);
    const index = new VectorIndex(MODEL, slow.repo, { file: keys.file, batchRows: 10 });
    const refreshing = index.refresh().catch(() => {});
    await slow.entered; // the first batch of the 30 later vectors is being read
    const closing = index.close().then(() => {
      keys.wipe();
      slow.release();
    });
    // A close that waits for the read needs it to finish: the database answers a moment later either way.
    setTimeout(slow.release, 200);
    await closing;
    await refreshing;
    await settle(); // anything still running in the background after close writes now (with the zeroed key)

    const read = await opensUnrebuilt(store, keys.unlocked(), 50 + 30, later[29]!);
    assert.ok(read <= 30, `only the vectors stored after the file was read again, not all 80 (rebuilt): ${read}`);
    assert.equal(ids.length, 50);
    await store.close();
  });

  it('a lock while the file is being loaded: the load finishes with the key, nothing is written after close', async () => {
    const root = tempDir('openrecall-vector-lock-');
    const store = openDataDirDatabase(root);
    const ids = await addFrames(store, 60);
    const keys = lockable(root);
    const first = new VectorIndex(MODEL, store.embeddings, { file: keys.file });
    await first.whenReady();
    await first.close();

    const index = new VectorIndex(MODEL, store.embeddings, { file: keys.file, batchRows: 10, mergeMinBytes: 0, mergeShare: 0 });
    const refreshing = index.refresh().catch(() => {});
    await index.close(); // at once: the base is still being read
    keys.wipe();
    await refreshing;
    await settle();

    assert.equal(await opensUnrebuilt(store, keys.unlocked(), 60, ids[13]!), 0, 'no stored vector read: the file was kept');
    await store.close();
  });

  it('a lock while a merge writes the new base: close waits for it, and the new base opens at the unlock', async () => {
    const root = tempDir('openrecall-vector-lock-');
    const store = openDataDirDatabase(root);
    await addFrames(store, 50);
    const keys = lockable(root);
    const options = { file: keys.file, mergeMinBytes: 0, mergeShare: 0.1 };
    const first = new VectorIndex(MODEL, store.embeddings, options);
    await first.whenReady();
    await first.close();
    const folder = path.join(root, 'index');

    const index = new VectorIndex(MODEL, store.embeddings, options);
    await index.whenReady();
    const later = await addFrames(store, 20, 1_800_000_000);
    await index.refresh(); // the 20 go to the log, past 10 % of the base: a merge starts
    const logs = fs.readdirSync(folder).filter((name) => name.endsWith('.log'));
    assert.equal(logs.length, 2, `the merge is under way (the new log beside the old one): ${logs.join(', ')}`);
    await index.close();
    keys.wipe();
    await settle();

    assert.equal(await opensUnrebuilt(store, keys.unlocked(), 70, later[7]!), 0, 'the merged base holds every frame');
    assert.equal(fs.readdirSync(folder).filter((name) => name.endsWith('.log')).length, 1, 'the merge finished before the lock');
    await store.close();
  });
});

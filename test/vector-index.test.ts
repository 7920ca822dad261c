import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { VectorIndex, vectorIndexFileName } from '../src/search/vector-index.js';
import type { EmbeddingsRepository, Store } from '../src/store/ports.js';
import { openDataDirDatabase } from './helpers/sqlite-data-dir.js';
import { newFrame } from './helpers/store-frames.js';
import { tempDir } from './helpers/temp-dir.js';

const MODEL = 'test-model';
const DIM = 64;

/** A deterministic unit vector per seed; nearby seeds are not similar. */
function vector(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, (_, i) => (Math.sin(seed * 12.9898 + i * 78.233) * 43758.5453) % 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** The store's embeddings, counting the stored vectors read to build the index. */
function counting(repo: EmbeddingsRepository): EmbeddingsRepository & { rowsRead: number } {
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

async function dataDirWithVectors(frames: number): Promise<{ store: Store; dataDir: string; file: string; ids: number[] }> {
  const dataDir = tempDir('openrecall-vector-index-');
  const store = openDataDirDatabase(dataDir);
  const ids: number[] = [];
  for (let i = 0; i < frames; i++) {
    const { id } = await store.frames.insertPending(newFrame(1_700_000_000 + i));
    await store.embeddings.save(id, MODEL, vector(id));
    ids.push(id);
  }
  return { store, dataDir, file: path.join(dataDir, 'index', vectorIndexFileName(MODEL)), ids };
}

async function nearest(index: VectorIndex, seed: number): Promise<number | undefined> {
  return (await index.search(vector(seed), 1))[0]?.id;
}

describe('the vector index file', () => {
  it('is written on the first start and read at the next one without reading the stored vectors again', async () => {
    const { store, file, ids } = await dataDirWithVectors(40);
    const first = new VectorIndex(MODEL, store.embeddings, { file });
    assert.equal(await nearest(first, ids[7]!), ids[7]);
    first.close();
    assert.ok(fs.existsSync(file), 'the index file exists');

    const repo = counting(store.embeddings);
    const second = new VectorIndex(MODEL, repo, { file });
    await second.whenReady();
    assert.equal(repo.rowsRead, 0, 'no stored vector read: the sign bits come from the file');
    assert.equal(second.size, 40);
    for (const id of [ids[0]!, ids[20]!, ids[39]!]) assert.equal(await nearest(second, id), id);

    // Frames embedded later are read from the store (only those) and appended to the file.
    const { id: later } = await store.frames.insertPending(newFrame(1_800_000_000));
    await store.embeddings.save(later, MODEL, vector(later));
    assert.equal(await nearest(second, later), later);
    assert.equal(repo.rowsRead, 1);
    second.close();

    const third = counting(store.embeddings);
    const reopened = new VectorIndex(MODEL, third, { file });
    assert.equal(await nearest(reopened, later), later);
    assert.equal(third.rowsRead, 0, 'the appended frame was in the file');
    reopened.close();
    await store.close();
  });

  it("another database's file is rebuilt in the background; until then search by meaning finds nothing", async () => {
    const a = await dataDirWithVectors(12);
    const warm = new VectorIndex(MODEL, a.store.embeddings, { file: a.file });
    await warm.whenReady();
    warm.close();
    await a.store.close();

    const b = await dataDirWithVectors(30);
    fs.mkdirSync(path.dirname(b.file), { recursive: true });
    fs.copyFileSync(a.file, b.file);
    // b's first twelve vectors have a's sequence numbers and frame ids: embedding b's twelfth frame again (here:
    // no text) moves it past seq 12, so a's file names a vector b does not have.
    await b.store.embeddings.save(b.ids[11]!, MODEL, null);
    const index = new VectorIndex(MODEL, b.store.embeddings, { file: b.file, batchRows: 5 });
    await index.refresh();
    assert.equal(index.ready, false, 'rebuilding');
    assert.deepEqual(await index.search(vector(b.ids[3]!), 5), [], 'nothing while rebuilding');
    await index.whenReady();
    assert.equal(index.size, 29, 'every frame with a vector');
    assert.equal(await nearest(index, b.ids[25]!), b.ids[25]);
    index.close();

    const repo = counting(b.store.embeddings);
    const reopened = new VectorIndex(MODEL, repo, { file: b.file });
    await reopened.whenReady();
    assert.equal(repo.rowsRead, 0, 'the rebuilt file matches the database');
    reopened.close();
    await b.store.close();
  });

  it('a damaged file is rebuilt from the database', async () => {
    const { store, file, ids } = await dataDirWithVectors(10);
    const first = new VectorIndex(MODEL, store.embeddings, { file });
    await first.whenReady();
    first.close();
    const bytes = fs.readFileSync(file);
    bytes[20] = bytes[20]! ^ 0xff; // inside the header: the checksum no longer matches
    fs.writeFileSync(file, bytes);
    const index = new VectorIndex(MODEL, store.embeddings, { file });
    assert.equal(await nearest(index, ids[4]!), ids[4]);
    assert.equal(index.size, 10);
    index.close();

    fs.truncateSync(file, 256 + 10); // shorter than its header says
    const again = new VectorIndex(MODEL, store.embeddings, { file });
    assert.equal(await nearest(again, ids[9]!), ids[9]);
    again.close();
    await store.close();
  });

  it('a deleted frame is never found again, and stays out of the file', async () => {
    const { store, file, ids } = await dataDirWithVectors(20);
    const index = new VectorIndex(MODEL, store.embeddings, { file });
    assert.equal(await nearest(index, ids[5]!), ids[5]);
    assert.equal((await store.frames.delete(ids[5]!)).deleted, true);
    const hits = await index.search(vector(ids[5]!), 20);
    assert.ok(!hits.some((h) => h.id === ids[5]), 'the deleted frame is not a result');
    assert.equal(hits.length, 19, 'every other frame still is');
    assert.equal(index.size, 19);
    index.close();

    const reopened = new VectorIndex(MODEL, store.embeddings, { file });
    await reopened.whenReady();
    assert.equal(reopened.size, 19, 'the file remembers the deletion');
    reopened.close();
    await store.close();
  });

  it('a frame embedded again is found by its new vector only', async () => {
    const { store, file, ids } = await dataDirWithVectors(15);
    const index = new VectorIndex(MODEL, store.embeddings, { file });
    await index.whenReady();
    await store.embeddings.save(ids[2]!, MODEL, vector(9999));
    assert.equal(await nearest(index, 9999), ids[2]);
    assert.notEqual(await nearest(index, ids[2]!), ids[2]);
    assert.equal(index.size, 15);
    index.close();
    const reopened = new VectorIndex(MODEL, store.embeddings, { file });
    assert.equal(await nearest(reopened, 9999), ids[2]);
    assert.equal(reopened.size, 15);
    reopened.close();
    await store.close();
  });
});

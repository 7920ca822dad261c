import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { normalize } from '../src/ai/embedding-provider.js';
import { VectorIndex } from '../src/search/vector-index.js';
import { signBits } from '../src/store/sign-bits.js';
import { addFrames, CIPHER_KEYS, counting, dataDirWithVectors, MODEL, nearest, vector } from './helpers/vector-index-files.js';

const indexFiles = (folder: string) => (fs.existsSync(folder) ? fs.readdirSync(folder).sort() : []);
const logOf = (folder: string) => indexFiles(folder).find((name) => name.endsWith('.log'));
const baseOf = (folder: string) => indexFiles(folder).find((name) => name.endsWith('.bits'))!;
const bytesOf = (folder: string) => indexFiles(folder).reduce((sum, name) => sum + fs.statSync(path.join(folder, name)).size, 0);

/** The log's records: [sealed length u32][checksum u32][sealed bytes] each (files/sealed-log.ts). */
function logRecords(bytes: Buffer): Buffer[] {
  const records: Buffer[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const end = at + 8 + bytes.readUInt32LE(at);
    records.push(bytes.subarray(at, end));
    at = end;
  }
  return records;
}

for (const [name, key] of CIPHER_KEYS) {
  describe(`the vector index file (${name})`, () => {
    it('is written on the first start and read at the next one without reading the stored vectors again', async () => {
      const { store, file, ids } = await dataDirWithVectors(40, key);
      const first = new VectorIndex(MODEL, store.embeddings, { file });
      assert.equal(await nearest(first, ids[7]!), ids[7]);
      await first.close();

      const repo = counting(store.embeddings);
      const second = new VectorIndex(MODEL, repo, { file });
      await second.whenReady();
      assert.equal(repo.rowsRead, 0, 'no stored vector read: the sign bits come from the file');
      assert.equal(second.size, 40);
      for (const id of [ids[0]!, ids[20]!, ids[39]!]) assert.equal(await nearest(second, id), id);

      // Frames embedded later are read from the store (only those) and recorded in the file.
      const [later] = await addFrames(store, 1, 1_800_000_000);
      assert.equal(await nearest(second, later!), later);
      assert.equal(repo.rowsRead, 1);
      await second.close();

      const third = counting(store.embeddings);
      const reopened = new VectorIndex(MODEL, third, { file });
      assert.equal(await nearest(reopened, later!), later);
      assert.equal(third.rowsRead, 0, 'the later frame was in the file');
      await reopened.close();
      await store.close();
    });

    it(name === 'plain' ? 'holds the sign bits (the check below can fail)' : 'holds no sign bits in the clear', async () => {
      const { store, file, folder, ids } = await dataDirWithVectors(30, key);
      const index = new VectorIndex(MODEL, store.embeddings, { file });
      await index.whenReady();
      const more = await addFrames(store, 5, 1_800_000_000);
      await index.whenReady(); // the 5 later frames go to the log
      await index.close();
      assert.ok(logOf(folder), indexFiles(folder).join(', '));
      const disk = Buffer.concat(indexFiles(folder).map((f) => fs.readFileSync(path.join(folder, f))));
      const found = [...ids, ...more].filter((id) => {
        const bits = signBits(normalize(vector(id)));
        return disk.includes(Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength));
      });
      assert.equal(found.length, name === 'plain' ? 35 : 0);
      await store.close();
    });

    it("another database's file is rebuilt in the background; until then search by meaning finds nothing", async () => {
      const a = await dataDirWithVectors(12, key);
      const warm = new VectorIndex(MODEL, a.store.embeddings, { file: a.file });
      await warm.whenReady();
      await warm.close();
      await a.store.close();

      const b = await dataDirWithVectors(30, key);
      fs.cpSync(a.folder, b.folder, { recursive: true });
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
      await index.close();
      assert.equal(indexFiles(b.folder).filter((f) => f.endsWith('.log')).length, 1, `the old log is gone: ${indexFiles(b.folder)}`);

      const repo = counting(b.store.embeddings);
      const reopened = new VectorIndex(MODEL, repo, { file: b.file });
      await reopened.whenReady();
      assert.equal(repo.rowsRead, 0, 'the rebuilt file matches the database');
      await reopened.close();
      await b.store.close();
    });

    it('a damaged or short file is rebuilt from the database', async () => {
      const { store, file, folder, ids } = await dataDirWithVectors(10, key);
      const first = new VectorIndex(MODEL, store.embeddings, { file });
      await first.whenReady();
      await first.close();
      const base = path.join(folder, baseOf(folder));
      const bytes = fs.readFileSync(base);
      bytes[40] = bytes[40]! ^ 0xff; // plain: inside the header (its checksum); sealed: the first chunk
      fs.writeFileSync(base, bytes);
      const repo = counting(store.embeddings);
      const index = new VectorIndex(MODEL, repo, { file });
      assert.equal(await nearest(index, ids[4]!), ids[4]);
      assert.equal(index.size, 10);
      assert.equal(repo.rowsRead, 10, 'read again from the database');
      await index.close();

      fs.truncateSync(path.join(folder, baseOf(folder)), fs.statSync(path.join(folder, baseOf(folder))).size - 5);
      const again = new VectorIndex(MODEL, store.embeddings, { file });
      assert.equal(await nearest(again, ids[9]!), ids[9]);
      assert.equal(again.size, 10);
      await again.close();
      await store.close();
    });

    it('a deleted frame is never found again, and stays out of the file', async () => {
      const { store, file, ids } = await dataDirWithVectors(20, key);
      const index = new VectorIndex(MODEL, store.embeddings, { file });
      assert.equal(await nearest(index, ids[5]!), ids[5]);
      assert.equal((await store.frames.delete(ids[5]!)).deleted, true);
      const hits = await index.search(vector(ids[5]!), 20);
      assert.ok(!hits.some((h) => h.id === ids[5]), 'the deleted frame is not a result');
      assert.equal(hits.length, 19, 'every other frame still is');
      assert.equal(index.size, 19);
      await index.close();

      const reopened = new VectorIndex(MODEL, store.embeddings, { file });
      await reopened.whenReady();
      assert.equal(reopened.size, 19, 'the file remembers the deletion');
      await reopened.close();
      await store.close();
    });

    it('a frame embedded again is found by its new vector only', async () => {
      const { store, file, ids } = await dataDirWithVectors(15, key);
      const index = new VectorIndex(MODEL, store.embeddings, { file });
      await index.whenReady();
      await store.embeddings.save(ids[2]!, MODEL, vector(9999));
      assert.equal(await nearest(index, 9999), ids[2]);
      assert.notEqual(await nearest(index, ids[2]!), ids[2]);
      assert.equal(index.size, 15);
      await index.close();
      const reopened = new VectorIndex(MODEL, store.embeddings, { file });
      assert.equal(await nearest(reopened, 9999), ids[2]);
      assert.equal(reopened.size, 15);
      await reopened.close();
      await store.close();
    });

    it('a log cut short anywhere, or with records out of order, never gives a wrong result', async () => {
      // 1 000 frames: a query's 200 candidates come from the sign bits, so a frame with wrong bits is missed.
      const { store, file, folder, ids } = await dataDirWithVectors(1000, key);
      const build = new VectorIndex(MODEL, store.embeddings, { file, batchRows: 100, mergeMinBytes: 1 << 30 });
      await build.whenReady(); // a base of the first 100, then 9 segments
      const deleted = [ids[3]!, ids[500]!, ids[950]!];
      for (const id of deleted) await store.frames.delete(id);
      for (const id of deleted) assert.notEqual(await nearest(build, id), id); // a segment with each one's tombstone
      await build.close();
      const base = fs.readFileSync(path.join(folder, baseOf(folder)));
      const logName = logOf(folder)!;
      const log = fs.readFileSync(path.join(folder, logName));
      const records = logRecords(log);
      assert.equal(records.length, 12);

      const check = async (what: string) => {
        const repo = counting(store.embeddings);
        const index = new VectorIndex(MODEL, repo, { file });
        await index.whenReady();
        for (const i of [0, 99, 100, 101, 450, 899, 900, 999]) assert.equal(await nearest(index, ids[i]!), ids[i], `${what}: frame ${i}`);
        for (const id of deleted) assert.ok(!(await index.search(vector(id), 5)).some((h) => h.id === id), `${what}: deleted ${id}`);
        // A deletion the file lost stays in the index until a search meets the frame: the searches above did.
        assert.equal(index.size, 997, `${what}: every stored frame once`);
        await index.close();
        return repo.rowsRead;
      };
      const baseName = baseOf(folder);
      const put = (logBytes: Buffer) => {
        for (const f of indexFiles(folder)) fs.rmSync(path.join(folder, f));
        fs.writeFileSync(path.join(folder, baseName), base);
        fs.writeFileSync(path.join(folder, logName), logBytes);
      };
      let boundary = 0;
      const cuts: number[] = [];
      for (const record of records) {
        for (const d of [0, 1, 7, 9, Math.floor(record.length / 2)]) cuts.push(boundary + d);
        boundary += record.length;
      }
      for (const cut of cuts) {
        put(log.subarray(0, cut));
        const rowsRead = await check(`cut at ${cut} of ${log.length}`);
        assert.ok(rowsRead <= 900, 'at most what the log held is read again');
      }
      // Segments 2 and 3 swapped: both (and all after) are refused, and read again from the store.
      put(Buffer.concat([...records.slice(0, 2), records[3]!, records[2]!, ...records.slice(4)]));
      assert.equal(await check('segments swapped'), 698); // frames 300-999 but two deleted
      // A segment repeated: refused, with all after it.
      put(Buffer.concat([...records.slice(0, 5), records[1]!, ...records.slice(6)]));
      assert.equal(await check('a segment repeated'), 399);
      // A byte changed in a segment: it and all after it are refused.
      const changed = Buffer.from(log);
      changed[records[0]!.length + records[1]!.length + 60]! ^= 0x10;
      put(changed);
      assert.equal(await check('a changed byte'), 698);
      await store.close();
    });

    it('tombstones past 10 % of the records are dropped: the same results, a smaller file', async () => {
      const { store, file, folder, ids } = await dataDirWithVectors(200, key);
      const first = new VectorIndex(MODEL, store.embeddings, { file });
      await first.whenReady();
      await first.close();
      const before = bytesOf(folder);
      const baseBefore = fs.statSync(path.join(folder, baseOf(folder))).size;

      const index = new VectorIndex(MODEL, store.embeddings, { file });
      await index.whenReady();
      const gone = ids.filter((_, i) => i % 6 === 0); // 34 of 200: 17 %
      for (const id of gone) await store.frames.delete(id);
      const queries = [...ids.slice(0, 20), 5001, 5002, 5003];
      const results = [];
      for (const q of queries) results.push(await index.search(vector(q), 10)); // the first meets every deleted frame
      assert.equal(index.size, 166);
      await index.close();
      const baseAfter = fs.statSync(path.join(folder, baseOf(folder))).size;
      assert.ok(baseAfter < baseBefore, `the base shrank: ${baseBefore} -> ${baseAfter} bytes`);
      assert.ok(bytesOf(folder) < before, 'the files shrank');
      assert.equal(indexFiles(folder).filter((f) => f.endsWith('.log')).length, 1, `one log: ${indexFiles(folder)}`);

      const repo = counting(store.embeddings);
      const reopened = new VectorIndex(MODEL, repo, { file });
      const inMemory = new VectorIndex(MODEL, store.embeddings);
      for (const [i, q] of queries.entries()) {
        const again = await reopened.search(vector(q), 10);
        assert.deepEqual(again, results[i], `query ${q}: the same hits after compaction`);
        assert.deepEqual(await inMemory.search(vector(q), 10), results[i], `query ${q}: as an index built from the store`);
      }
      assert.equal(repo.rowsRead, 0);
      assert.equal(reopened.size, 166);
      await reopened.close();
      await store.close();
    });

    it('the log is merged into a new base once it grows past its share', async () => {
      const { store, file, folder } = await dataDirWithVectors(50, key);
      const options = { file, mergeMinBytes: 0, mergeShare: 0.1 };
      const first = new VectorIndex(MODEL, store.embeddings, options);
      await first.whenReady();
      await first.close();
      const baseBefore = fs.statSync(path.join(folder, baseOf(folder))).size;
      const index = new VectorIndex(MODEL, store.embeddings, options);
      await index.whenReady();
      const later = await addFrames(store, 20, 1_800_000_000);
      assert.equal(await nearest(index, later[19]!), later[19]);
      await index.close();
      assert.ok(fs.statSync(path.join(folder, baseOf(folder))).size > baseBefore, 'a new, larger base');
      assert.equal(fs.statSync(path.join(folder, logOf(folder)!)).size, 0, 'and an empty log');
      assert.equal(indexFiles(folder).length, 2, indexFiles(folder).join(', '));
      const repo = counting(store.embeddings);
      const reopened = new VectorIndex(MODEL, repo, { file });
      assert.equal(await nearest(reopened, later[5]!), later[5]);
      assert.equal(repo.rowsRead, 0);
      await reopened.close();
      await store.close();
    });
  });
}

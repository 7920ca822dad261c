// The vector index file read into, and written from, records in the kernel's WebAssembly memory, which grow in
// place: a growth detaches the memory's old buffer, so a base being written meanwhile must not hold views of it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BitsFile } from '../src/files/bits-file.js';
import { openDataDir } from '../src/files/open-data-dir.js';
import { growKernelRecords, kernelRecordsMemory, newKernelRecords } from '../src/search/hamming-kernel.js';
import { CIPHER_KEYS, cipherFor } from './helpers/vector-index-files.js';
import { seededRandom } from './helpers/seeded-random.js';
import { tempDir } from './helpers/temp-dir.js';

const WORDS = 16;
const STRIDE = WORDS + 1;
const COUNT = 20_000; // 1.36 MB of records: more than one piece of the base

for (const [name, key] of CIPHER_KEYS) {
  describe(`the index file and records in kernel memory (${name})`, () => {
    it('a base written while the records grow holds the records, and loads back into kernel memory', async () => {
      const dir = openDataDir(tempDir('openrecall-bits-kernel-'), cipherFor(key));
      const random = seededRandom(11);
      let records = newKernelRecords((COUNT + 100) * STRIDE, WORDS);
      for (let i = 0; i < COUNT * STRIDE; i++) records[i] = i % STRIDE === 0 ? i / STRIDE + 1 : (random() * 2 ** 32) >>> 0;
      const expected = records.slice(0, COUNT * STRIDE);
      const header = { model: 'm', words: WORDS, count: COUNT, lastSeq: COUNT, lastEntryId: COUNT };
      const { file, written } = BitsFile.create(dir, 'index/m.bits', header, () => records);
      // Frames embedded while the base is written: the records grow (in place), the old array is detached.
      const before = records;
      records = growKernelRecords(records, COUNT * 4 * STRIDE, WORDS);
      assert.equal(before.length, 0, 'the growth detached the old buffer');
      await written;
      await file.close();

      const loaded = await BitsFile.load(dir, 'index/m.bits', 'm', kernelRecordsMemory);
      assert.ok(loaded, 'the base loads');
      assert.equal(loaded.header.count, COUNT);
      assert.deepEqual(loaded.records.subarray(0, COUNT * STRIDE), expected);
      assert.ok(loaded.records.length >= COUNT * STRIDE);
      await loaded.file.close();
    });
  });
}

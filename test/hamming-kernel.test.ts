import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { growKernelRecords, inKernelMemory, kernelBytes, kernelRecordsMemory, nearestBySignBits, newKernelRecords } from '../src/search/hamming-kernel.js';
import { referenceCandidates } from './helpers/hamming-reference.js';
import { seededRandom } from './helpers/seeded-random.js';

const TOMBSTONE = 0xffffffff;

/**
 * `count` records of `words` words (ids 1..count, a few tombstones), room for `spare` more. `flips` > 0 makes
 * records near `base` (that many random bits flipped), so distances are small and tie often; 0: random bits.
 */
function records(random: () => number, words: number, count: number, spare: number, base: Uint32Array, flips: number): Uint32Array {
  const stride = words + 1;
  const all = new Uint32Array((count + spare) * stride);
  for (let slot = 0; slot < count; slot++) {
    all[slot * stride] = random() < 0.03 ? TOMBSTONE : slot + 1;
    for (let w = 0; w < words; w++) all[slot * stride + 1 + w] = flips ? base[w]! : (random() * 2 ** 32) >>> 0;
    for (let f = 0; f < flips * random(); f++) {
      const bit = Math.floor(random() * words * 32);
      all[slot * stride + 1 + (bit >>> 5)]! ^= 1 << (bit & 31);
    }
  }
  // What lies past `count` must never be read.
  for (let i = count * stride; i < all.length; i++) all[i] = (random() * 2 ** 32) >>> 0;
  return all;
}

const randomWords = (random: () => number, words: number) => Uint32Array.from({ length: words }, () => (random() * 2 ** 32) >>> 0);

describe('the Hamming kernel (WebAssembly)', () => {
  it('picks the same frames in the same order as the JavaScript loop it replaces, ties and tombstones included', () => {
    const random = seededRandom(24);
    let compared = 0;
    let tiesCut = 0;
    for (const words of [1, 2, 3, 8, 16, 17, 48]) {
      for (const flips of [0, 3, 40]) {
        const count = 1 + Math.floor(random() * 3000);
        const base = randomWords(random, words);
        const plain = records(random, words, count, 50, base, flips);
        const inKernel = inKernelMemory(plain, words);
        for (const wanted of [1, 7, 200, 600, count + 10]) {
          const query = flips && random() < 0.5 ? base : randomWords(random, words);
          const expected = referenceCandidates(plain, words, count, query, wanted);
          assert.deepEqual(nearestBySignBits(inKernel, count, query, wanted), expected, `${words} words, ${count} records, ${flips} flips, wanted ${wanted}`);
          compared++;
          // Count the cases where the cut fell inside a group of equal distances (the order of ties matters).
          if (expected.length === wanted && wanted < count) tiesCut++;
        }
      }
    }
    assert.equal(compared, 105);
    assert.ok(tiesCut > 50, `ties at the cut in ${tiesCut} cases`);
  });

  it('restricted to some frames, picks what the JavaScript loop picked with the same frames allowed', () => {
    const random = seededRandom(7);
    for (const words of [1, 16, 17]) {
      const count = 2000;
      const base = randomWords(random, words);
      const plain = records(random, words, count, 0, base, words === 1 ? 0 : 20);
      const inKernel = inKernelMemory(plain, words);
      const slots = Array.from({ length: count }, (_, slot) => slot).filter(() => random() < 0.2);
      const allowedIds = new Set(slots.map((slot) => plain[slot * (words + 1)]!).filter((id) => id !== TOMBSTONE));
      for (const wanted of [5, 150, 1000]) {
        const query = randomWords(random, words);
        const expected = referenceCandidates(plain, words, count, query, wanted, allowedIds);
        assert.ok(expected.every((id) => allowedIds.has(id)));
        assert.deepEqual(nearestBySignBits(inKernel, count, query, wanted, slots), expected, `${words} words, wanted ${wanted}`);
        // Then without the restriction again: the mask of the last search is not left behind.
        assert.deepEqual(nearestBySignBits(inKernel, count, query, wanted), referenceCandidates(plain, words, count, query, wanted));
      }
    }
  });

  it('takes every frame below the cut in slot order, then frames at the cut in slot order', () => {
    const words = 3; // 64 bits read as one i64 plus the last 32 bits alone
    const stride = words + 1;
    const query = Uint32Array.from([0, 0, 0]);
    const plain = newKernelRecords(6 * stride, words);
    // Distances by slot: 5 (the first word), 1 (the last word only), 0, 1 (the second word), 40 (two words), 1.
    const bits = [
      [0x1f, 0, 0],
      [0, 0, 0x8000_0000],
      [0, 0, 0],
      [0, 1, 0],
      [0xffffffff, 0xff, 0],
      [0, 0, 1],
    ];
    for (const [slot, b] of bits.entries()) plain.set([100 + slot, ...b], slot * stride);
    assert.deepEqual(nearestBySignBits(plain, 6, query, 1), [102]);
    assert.deepEqual(nearestBySignBits(plain, 6, query, 3), [102, 101, 103], 'the first two of the three at distance 1, by slot');
    assert.deepEqual(nearestBySignBits(plain, 6, query, 5), [101, 102, 103, 105, 100], 'cut at 5: the four below it by slot, then the one at 5');
    assert.deepEqual(nearestBySignBits(plain, 6, query, 6), [100, 101, 102, 103, 105, 104]);
    plain[2 * stride] = TOMBSTONE;
    assert.deepEqual(nearestBySignBits(plain, 6, query, 2), [101, 103], 'a tombstone is never a candidate');
    assert.deepEqual(nearestBySignBits(plain, 6, query, 10), [100, 101, 103, 104, 105]);
  });

  it('sees records written to the array it returned, and grows them in place without changing them', () => {
    const random = seededRandom(3);
    const words = 16;
    const stride = words + 1;
    const plain = records(random, words, 500, 100, randomWords(random, words), 0);
    const inKernel = inKernelMemory(plain, words);
    assert.deepEqual(inKernel, plain);
    assert.equal(inKernelMemory(inKernel, words), inKernel, 'records already in kernel memory are not copied again');
    const query = randomWords(random, words);
    // Frame 9999 appended with the query's own bits: the nearest.
    inKernel.set([9999, ...query], 500 * stride);
    assert.equal(nearestBySignBits(inKernel, 501, query, 1)[0], 9999);
    assert.equal(nearestBySignBits(inKernel, 500, query, 1)[0] === 9999, false, 'a record past count is not read');
    assert.throws(() => nearestBySignBits(plain, 500, query, 1), /not in kernel memory/);
    assert.throws(() => nearestBySignBits(inKernel, 601, query, 1), /room for 600/);

    // Grown: the same records, at the same place in the same memory; the room after them reads as zeros, though a
    // search wrote its distances and histogram there before; the old array is refused.
    const expected = referenceCandidates(inKernel, words, 501, query, 50);
    const before = inKernel.slice();
    const offset = inKernel.byteOffset;
    const grown = growKernelRecords(inKernel, 40_000 * stride, words);
    assert.equal(inKernel.length, 0, 'the memory grew: its old buffer is detached');
    assert.equal(grown.byteOffset, offset);
    assert.deepEqual(grown.subarray(0, before.length), before);
    assert.ok(
      grown.subarray(before.length).every((word) => word === 0),
      'the room after the records is zeros',
    );
    assert.deepEqual(nearestBySignBits(grown, 501, query, 50), expected);
    assert.throws(() => nearestBySignBits(inKernel, 501, query, 50), /grew since/);
    grown.set([7777, ...query], 39_999 * stride);
    assert.deepEqual(nearestBySignBits(grown, 40_000, query, 1), [9999], 'slot order among equals: 9999 first');
    assert.equal(nearestBySignBits(grown, 40_000, query, 2)[1], 7777);
  });

  it('gives room to read a file into, with its header before the records, and grows it in place', () => {
    const words = 2;
    const stride = words + 1;
    const reserved = kernelRecordsMemory.reserve(256, 10 * stride * 4);
    assert.equal(reserved.bytes.length, 256 + 10 * stride * 4);
    reserved.bytes.fill(0xaa, 0, 256); // a header: must not reach the records
    const file = Uint32Array.from([1, 0b1111, 0, 2, 0b0011, 0, 3, 0b0001, 0]);
    reserved.bytes.set(new Uint8Array(file.buffer), 256);
    const records = reserved.records(words, 10 * stride);
    assert.equal(records.length, 10 * stride);
    assert.deepEqual(records.subarray(0, 9), file);
    const query = Uint32Array.from([0, 0]);
    assert.deepEqual(nearestBySignBits(records, 3, query, 2), [3, 2]);
    const grown = kernelRecordsMemory.grow(records, 100_000 * stride, words);
    assert.deepEqual(grown.subarray(0, 9), file);
    assert.deepEqual(nearestBySignBits(grown, 3, query, 3), [2, 3, 1], 'below the cut (4) in slot order, then the one at it');
    assert.throws(() => kernelRecordsMemory.reserve(260, 16), /room for 256 bytes/);
  });

  it('is a valid module for every record size, and small', () => {
    for (const words of [1, 2, 12, 16, 17, 48, 96]) assert.ok(WebAssembly.validate(kernelBytes(words)), `${words} words`);
    assert.ok(kernelBytes(16).length < 600, `${kernelBytes(16).length} bytes at 512-d`);
  });
});

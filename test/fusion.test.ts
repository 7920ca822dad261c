import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuse } from '../src/search/search-service.js';

const frame = (id: number, timestamp = 1_700_000_000 + id) => ({ id, score: 0, timestamp });

describe('hybrid fusion (reciprocal ranks)', () => {
  it('puts the best keyword match first even when it is not among the nearest vectors and is older', () => {
    // A rare word (a name): one frame has it; the vectors rank 100 other, newer frames above it.
    const keyword = [frame(1, 1_600_000_000)];
    const vector = Array.from({ length: 100 }, (_, i) => frame(100 + i));
    assert.equal(fuse(keyword, vector)[0]!.id, 1);
  });

  it('ranks a frame both lists found above frames only one found', () => {
    const fused = fuse([frame(1), frame(2), frame(3)], [frame(3), frame(4), frame(5)]);
    assert.equal(fused[0]!.id, 3);
    assert.deepEqual(new Set(fused.map((c) => c.id)), new Set([1, 2, 3, 4, 5]));
  });

  it('keeps the vector order for frames the keywords did not find (a paraphrase)', () => {
    assert.deepEqual(
      fuse([], [frame(7), frame(3), frame(9)]).map((c) => c.id),
      [7, 3, 9],
    );
  });
});

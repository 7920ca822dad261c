// The statements reading candidates' vectors (SqliteEmbeddingsRepository.vectors) are kept prepared, one per
// number of ids: each call, whatever sizes came before, reads exactly its own frames of its own model.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteEmbeddingsRepository } from '../../src/store/sqlite/embeddings-repository.js';
import { tempDir } from '../helpers/temp-dir.js';

const DIM = 4;
const vectorOf = (i: number) => {
  const v = Float32Array.from({ length: DIM }, (_, d) => Math.sin(i * 3.7 + d));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};

describe('vectors of candidates, statements kept prepared', () => {
  it('reads the frames asked for, for every size and model, in any order of calls', async () => {
    const dataDir = tempDir('openrecall-vector-statements-');
    const db = openDatabase(path.join(dataDir, 'recall.db'), { dataDir });
    try {
      const insert = db.prepare(`INSERT INTO entries (timestamp, app, title, text, status) VALUES (?, 'App', 'w', 't', 'COMPLETED')`);
      const ids = db.transaction(() => Array.from({ length: 1200 }, (_, i) => Number(insert.run(1_700_000_000 + i).lastInsertRowid)))();
      const embeddings = new SqliteEmbeddingsRepository(db);
      for (const id of ids) await embeddings.save(id, id % 3 === 0 ? 'other' : 'mini', vectorOf(id));

      // More sizes than statements kept, sizes coming back after being dropped, chunks of 500 and their rest,
      // ids of the other model and ids that do not exist.
      const sizes = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 3, 1, 600, 1001, 2, 55, 13, 1200];
      for (const [round, size] of sizes.entries()) {
        const asked = Array.from({ length: size }, (_, i) => ids[(i * 7 + round * 31) % ids.length]!);
        if (round % 4 === 0) asked.push(999_999);
        for (const model of ['mini', 'other']) {
          const vectors = await embeddings.vectors(model, asked);
          const expected = [...new Set(asked.filter((id) => id !== 999_999 && (id % 3 === 0) === (model === 'other')))].sort((a, b) => a - b);
          assert.deepEqual(
            [...vectors.keys()].sort((a, b) => a - b),
            expected,
            `${size} ids, ${model}`,
          );
          for (const id of expected) {
            const want = vectorOf(id);
            const got = vectors.get(id)!;
            for (let d = 0; d < DIM; d++) assert.ok(Math.abs(got[d]! - want[d]!) < 0.02, `frame ${id}, dimension ${d}`);
          }
        }
      }
    } finally {
      db.close();
    }
  });
});

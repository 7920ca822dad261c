// A server data dir holding a history, made from a bench/search.ts fixture (--fixture DIR): what `openrecall server`
// finds after a year of use, for bench/server-start.ts, bench/server-memory.ts and bench/write-growth.ts.
//   node --import tsx bench/server-fixture.ts --from /work/bench-fixtures/search-1m-512-w30 \
//     --data-dir /work/bench-fixtures/server-1m [--thumbnails] [--model builtin:use-lite-512@0.2.0]
// The fixture's database is copied, then, as the product would have left it:
// - its vectors are stored under the server's model (the built-in one by default: same dimension, 512);
// - every frame has its image size, the current redaction rules version, and is compacted: its row points at a
//   manifest under compact/frames/, with compact_frames / compact_layers / compact_refs rows (a layer per 10
//   frames), so no background stage (redaction, compaction, sizes) finds a million frames to work on;
// - the vector index file is written (as the server writes it once the index is built);
// - with --thumbnails, thumbnails/<id>.webp exists for every frame (1 byte each: the walk's cost is the files'
//   number, not their size; about 4 GB of blocks for a million).
// No image files are made: nothing at start reads them. Keep the data dir out of git.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_MODEL } from '../src/ai/builtin-embeddings.js';
import { openDataDir } from '../src/files/open-data-dir.js';
import { RULES_VERSION } from '../src/redaction/index.js';
import { VectorIndex, vectorIndexFileName } from '../src/search/vector-index.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import { SqliteEmbeddingsRepository } from '../src/store/sqlite/embeddings-repository.js';
import { round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    'data-dir': { type: 'string' },
    model: { type: 'string', default: BUILTIN_MODEL },
    thumbnails: { type: 'boolean', default: false },
  },
});
if (!values.from || !values['data-dir']) throw new Error('--from FIXTURE --data-dir DIR');
const from = path.resolve(values.from, 'db', 'recall.db');
const dataDir = path.resolve(values['data-dir']);
if (fs.existsSync(path.join(dataDir, 'db'))) throw new Error(`${dataDir} holds a database already: give a new folder`);
const started = performance.now();
const step = (what: string) => console.error(`${round((performance.now() - started) / 1000, 1)} s: ${what}`);

fs.mkdirSync(path.join(dataDir, 'db'), { recursive: true, mode: 0o700 });
fs.chmodSync(dataDir, 0o700);
fs.copyFileSync(from, path.join(dataDir, 'db', 'recall.db'));
step('database copied');
const db = openDatabase(path.join(dataDir, 'db', 'recall.db'), { dataDir });
db.pragma('cache_size = -262144');
const frames = db.prepare('SELECT count(*) FROM entries').pluck().get() as number;

db.transaction(() => {
  db.prepare('UPDATE embeddings SET model = ?').run(values.model);
})();
step(`${frames} vectors stored under ${values.model}`);

db.transaction(() => {
  // Image sizes of 40-120 KB (a WebP screenshot), the redaction rules of this version, a compacted frame's manifest.
  db.prepare(
    `UPDATE entries SET bytes = 40000 + (id * 7919) % 80000, redaction_version = ?,
       image_path = 'compact/frames/' || strftime('%Y/%m/%d', timestamp, 'unixepoch') || '/' || id || '.json.gz'`,
  ).run(RULES_VERSION);
  db.exec(`
    INSERT INTO compact_layers (id, path, bytes, sha256)
      SELECT id, 'compact/layers/' || strftime('%Y/%m/%d', timestamp, 'unixepoch') || '/' || id || '.tiles', 200000, 'fixture'
      FROM entries WHERE (id - 1) % 10 = 0;
    INSERT INTO compact_frames (entry_id, monitor, manifest_bytes, original_bytes, compacted_at)
      SELECT id, NULL, 1500, bytes, timestamp + 600 FROM entries;
    INSERT INTO compact_refs (entry_id, layer_id) SELECT id, id - (id - 1) % 10 FROM entries;`);
})();
step('sizes, redaction version and compaction rows written');
db.pragma('wal_checkpoint(TRUNCATE)');
step('checkpointed');

const index = new VectorIndex(values.model, new SqliteEmbeddingsRepository(db), {
  file: { dataDir: openDataDir(dataDir), path: `index/${vectorIndexFileName(values.model)}` },
  log: (message) => console.error(message),
});
await index.whenReady();
await index.close();
step(`vector index file written (${index.size} records)`);
db.close();

if (values.thumbnails) {
  const folder = path.join(dataDir, 'thumbnails');
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const one = Buffer.from([0]);
  for (let id = 1; id <= frames; id++) {
    fs.writeFileSync(path.join(folder, `${id}.webp`), one, { mode: 0o600 });
    if (id % 100_000 === 0) step(`${id} thumbnails`);
  }
}
step('done');

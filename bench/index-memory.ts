// The vector index's memory after it is loaded at start: N random 512-d records in an index file (plain, or sealed
// as in an encrypted data dir), loaded by VectorIndex in a fresh process, with this process's RSS and PSS
// (/proc/self/smaps_rollup) before the load, right after it, and after a full garbage collection.
//   node --import tsx bench/index-memory.ts --write --records 1000000 --dir /work/bench-fixtures/index-1m [--sealed]
//   node --expose-gc --import tsx bench/index-memory.ts --records 1000000 --dir /work/bench-fixtures/index-1m [--sealed]
// The load takes only VectorIndex's public API, so the same script run from another tree's copy (bench/ beside
// its src/) measures that tree's load of the same file: interleave the two.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createAeadFileCipher } from '../src/encryption/aead-file-cipher.js';
import { BitsFile } from '../src/files/bits-file.js';
import { openDataDir } from '../src/files/open-data-dir.js';
import { plainCipher } from '../src/files/plain-cipher.js';
import { VectorIndex } from '../src/search/vector-index.js';
import type { EmbeddingsRepository } from '../src/store/ports.js';
import { seededRandom } from '../test/helpers/seeded-random.js';
import { round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    dir: { type: 'string' },
    write: { type: 'boolean', default: false },
    sealed: { type: 'boolean', default: false },
  },
});
if (!values.dir) throw new Error('--dir is where the index file is written, or read');
const N = Number(values.records);
const WORDS = 16;
const STRIDE = WORDS + 1;
const MODEL = 'bench-index-memory';
const cipher = values.sealed ? createAeadFileCipher(createHash('sha256').update('openrecall bench key').digest()) : plainCipher;
fs.mkdirSync(values.dir, { recursive: true });
const dataDir = openDataDir(values.dir, cipher);
const file = { dataDir, path: `${values.sealed ? 'index-sealed' : 'index'}/vectors-${N}.bits` };
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

function memoryMb() {
  const rollup = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? Number.NaN);
  return { rss_mb: round(kb('Rss') / 1024, 1), pss_mb: round(kb('Pss') / 1024, 1) };
}

if (values.write) {
  const random = seededRandom(2024);
  const records = new Uint32Array(N * STRIDE);
  for (let slot = 0; slot < N; slot++) {
    records[slot * STRIDE] = slot + 1;
    for (let w = 1; w <= WORDS; w++) records[slot * STRIDE + w] = (random() * 2 ** 32) >>> 0;
  }
  const header = { model: MODEL, words: WORDS, count: N, lastSeq: N, lastEntryId: N };
  const { file: bits, written } = BitsFile.create(dataDir, file.path, header, () => records);
  await written;
  await bits.close();
  console.log(JSON.stringify({ written: file.path, records: N, sealed: values.sealed }));
} else {
  const store = {
    entryAtSeq: async (_model: string, seq: number) => (seq === N ? N : undefined),
    bitsSince: async () => [],
  } as unknown as EmbeddingsRepository;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = memoryMb();
  const start = performance.now();
  const index = new VectorIndex(MODEL, store, { file });
  await index.whenReady();
  const loadMs = performance.now() - start;
  const afterLoad = memoryMb();
  gc?.();
  const afterGc = memoryMb();
  if (index.size !== N) throw new Error(`loaded ${index.size} records, not ${N}`);
  console.log(
    JSON.stringify({
      records: N,
      sealed: values.sealed,
      load_ms: round(loadMs, 1),
      before,
      after_load: afterLoad,
      after_gc: gc ? afterGc : 'run with --expose-gc',
      pss_growth_after_load_mb: round(afterLoad.pss_mb - before.pss_mb, 1),
      pss_growth_after_gc_mb: round(afterGc.pss_mb - before.pss_mb, 1),
      loadavg: loadavg(),
    }),
  );
  await index.close();
}

// The vector index's first pass alone, at a year of frames, without a database: N random sign-bit records (512-d:
// 16 words) written to an index file and loaded by VectorIndex as at a server's start (the store is a stand-in whose
// vectors are made up on demand), then searches of k = 150 (as hybrid search asks: 600 candidates), interleaved:
//   js     — the JavaScript loop the index used before the WebAssembly kernel (test/helpers/hamming-reference.ts)
//   kernel — nearestBySignBits over the same records in kernel memory (src/search/hamming-kernel.ts)
//   search — VectorIndex.search: the kernel, then exact rescoring of the candidates (stand-in vectors, no reads)
// Every query's candidates are checked equal (ids and order) between js and kernel.
//   node --import tsx bench/vector-pass.ts [--records 1000000] [--dim 512] [--queries 40] [--rounds 3]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { normalize } from '../src/ai/embedding-provider.js';
import { BitsFile } from '../src/files/bits-file.js';
import { DataDir } from '../src/files/data-dir.js';
import { plainCipher } from '../src/files/plain-cipher.js';
import { inKernelMemory, nearestBySignBits } from '../src/search/hamming-kernel.js';
import { VectorIndex } from '../src/search/vector-index.js';
import type { EmbeddingsRepository } from '../src/store/ports.js';
import { signBits } from '../src/store/sign-bits.js';
import { referenceCandidates } from '../test/helpers/hamming-reference.js';
import { seededRandom } from '../test/helpers/seeded-random.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { percentile, round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '512' },
    queries: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(values.records);
const DIM = Number(values.dim);
const QUERIES = Number(values.queries);
const ROUNDS = Number(values.rounds);
const WORDS = Math.ceil(DIM / 32);
const STRIDE = WORDS + 1;
const MODEL = 'bench-vector-pass';
const K = 150;
const WANTED = Math.max(K * 4, 200); // what VectorIndex.search asks the first pass for
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

const random = seededRandom(2024);
const unitVector = (seed: number) => {
  const r = seededRandom(seed);
  return normalize(Float32Array.from({ length: DIM }, () => r() * 2 - 1));
};

// The records as the index file holds them: [entry id][sign bits], ids 1..N.
console.error(`writing ${N} records… loadavg ${loadavg()}`);
const dir = tempDir('openrecall-bench-vector-pass-');
const dataDir = new DataDir(dir, plainCipher);
const file = { dataDir, path: 'vectors.bits' };
const records = new Uint32Array(N * STRIDE);
for (let slot = 0; slot < N; slot++) {
  records[slot * STRIDE] = slot + 1;
  for (let w = 1; w <= WORDS; w++) records[slot * STRIDE + w] = (random() * 2 ** 32) >>> 0;
}
const header = { model: MODEL, words: WORDS, count: N, lastSeq: N, lastEntryId: N };
const { file: bitsFile, written } = BitsFile.create(dataDir, file.path, header, () => records);
await written;
await bitsFile.close();

// The stand-in store's float vectors: a pool (making 600 vectors a search would cost more than the search).
const pool = Array.from({ length: 1024 }, (_, i) => unitVector(i));
const store = {
  entryAtSeq: async (_model: string, seq: number) => (seq === N ? N : undefined),
  bitsSince: async () => [],
  vectors: async (_model: string, ids: number[]) => new Map(ids.map((id) => [id, pool[id % pool.length]!])),
} as unknown as EmbeddingsRepository;

const rssBefore = process.memoryUsage().rss;
const loadStart = performance.now();
const index = new VectorIndex(MODEL, store, { file });
await index.whenReady();
const loadMs = performance.now() - loadStart;
const rssGrowth = (process.memoryUsage().rss - rssBefore) / 1048576;

const queries = Array.from({ length: QUERIES }, (_, i) => unitVector(1_000_000_000 + i));
const inKernel = inKernelMemory(records, WORDS);

// The first search after the load (kernel compiled at baseline tier, fresh pages for its distances).
const firstStart = performance.now();
await index.search(queries[0]!, K);
const firstSearchMs = performance.now() - firstStart;

const times: Record<'js' | 'kernel' | 'search', number[]> = { js: [], kernel: [], search: [] };
let mismatches = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const query of queries) {
    const bits = signBits(query);
    let start = performance.now();
    const expected = referenceCandidates(records, WORDS, N, bits, WANTED);
    times.js.push(performance.now() - start);
    start = performance.now();
    const got = nearestBySignBits(inKernel, N, bits, WANTED);
    times.kernel.push(performance.now() - start);
    if (got.length !== expected.length || got.some((id, i) => id !== expected[i])) mismatches++;
    start = performance.now();
    await index.search(query, K);
    times.search.push(performance.now() - start);
  }
}
index.close();
fs.rmSync(dir, { recursive: true, force: true });

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: round(s[0]!, 1), p50: round(percentile(s, 50), 1), p99: round(percentile(s, 99), 1), n: s.length };
};
console.log(
  JSON.stringify(
    {
      benchmark: 'vector-pass',
      records: N,
      dim: DIM,
      k: K,
      candidates: WANTED,
      index_load_ms: round(loadMs, 1),
      index_rss_growth_mb: round(rssGrowth, 1),
      first_search_ms: round(firstSearchMs, 1),
      js_pass_ms: summary(times.js),
      kernel_pass_ms: summary(times.kernel),
      index_search_ms: summary(times.search),
      candidate_lists_differing: mismatches,
      loadavg: loadavg(),
    },
    null,
    2,
  ),
);

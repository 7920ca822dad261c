// Search at scale: N synthetic frames (OCR-like text of ~300 words from a Zipf-distributed vocabulary,
// app names, window titles) with 384-d vectors, then keyword and hybrid latency over a mixed query set.
// Prints index build time, DB size and p50/p99 per query kind.
// --store postgres|both also copies the SQLite database into a fresh PostgreSQL database (copySqliteToPostgres,
// as `openrecall migrate-db` does; OPENRECALL_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test names
// the server) and runs the same query set through the PostgreSQL store; the database is dropped afterwards.
//   node --import tsx bench/search.ts [--frames 100000] [--queries 300] [--store sqlite|postgres|both]
// To iterate on PostgreSQL without seeding each time: OPENRECALL_BENCH_KEEP_PG=1 keeps the database it fills
// (and prints its URL); OPENRECALL_BENCH_PG_URL=<that url> with --store postgres reuses it (same --frames:
// the frames are generated again, not written, so the query set is the same) and leaves it in place.
// PostgreSQL's figures carry `pg_pages`: pages read in and found in shared buffers a search, and the time a read took.
// OPENRECALL_BENCH_KEYWORD_ONLY=1 skips the hybrid measurement. --dump FILE writes each measured search's answer (ids,
// scores, total, snippets) and its timings (ms, cpu_ms, parts) as a JSON line, to compare two versions of the code
// answer by answer (strip the timings first) and to find the slowest searches.
// --fixture DIR builds the SQLite data dir in DIR once (with fixture.json beside it) and reuses it on later runs with
// the same --frames and --dim (written in bulk: bulkLoad, the full-text indexes built once at the end; 100 000 frames of
// 300 words took 1.5-7 minutes on the shared 2-core machine, see BENCHMARKS.md): keep fixtures out of git, e.g. under
// /work/bench-fixtures/. --no-index-file loads the vector index by reading every row (as before issue 24).
// --key-file FILE opens the SQLite database with the raw 32-byte key in FILE, as an encrypted data dir's database is
// opened, with --cipher (src/encryption/data-key.ts: aegis-256-raw-key, the default, or sqlcipher-v4-raw-key);
// bench/encryption.ts makes an encrypted copy of a plain fixture.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EmbeddingProvider } from '../src/ai/embedding-provider.js';
import { normalize } from '../src/ai/embedding-provider.js';
import { createAeadFileCipher } from '../src/encryption/aead-file-cipher.js';
import { DATABASE_CIPHERS, NEW_DATABASE_CIPHER, type DatabaseCipher } from '../src/encryption/data-key.js';
import type { DataDir } from '../src/files/data-dir.js';
import { openDataDir } from '../src/files/open-data-dir.js';
import { plainCipher } from '../src/files/plain-cipher.js';
import { SearchService } from '../src/search/search-service.js';
import { VectorIndex, vectorIndexFileName } from '../src/search/vector-index.js';
import { copySqliteToPostgres } from '../src/store/migrate-to-postgres.js';
import { openPostgresStore } from '../src/store/postgres/pg-store.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import { bulkLoad } from '../src/store/sqlite/bulk-load.js';
import { SqliteEmbeddingsRepository } from '../src/store/sqlite/embeddings-repository.js';
import { signBits } from '../src/store/sign-bits.js';
import { encodeStoredVector } from '../src/store/vector-codec.js';
import { SqliteSearchRepository } from '../src/store/sqlite/search-repository.js';
import type { EmbeddingsRepository, SearchRepository, Store } from '../src/store/ports.js';
import { createTestDatabase, queryDatabase } from '../test/helpers/postgres.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { percentile, round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '300' },
    dim: { type: 'string', default: '384' },
    store: { type: 'string', default: 'both' },
    fixture: { type: 'string' },
    words: { type: 'string', default: '300' },
    'no-index-file': { type: 'boolean', default: false },
    // The index file sealed as in an encrypted data dir (AEAD, a fixed bench key), kept in index-sealed/.
    'encrypted-index': { type: 'boolean', default: false },
    'key-file': { type: 'string' },
    cipher: { type: 'string', default: NEW_DATABASE_CIPHER },
    // Writes every measured search's answer (ids, scores, totals; one JSON line each) to this file: two runs, before
    // and after a change, can then be compared answer by answer (`cmp`), not only by their timings.
    dump: { type: 'string' },
  },
});
if (!['sqlite', 'postgres', 'both'].includes(values.store)) throw new Error('--store is sqlite, postgres or both');
const measureSqlite = values.store !== 'postgres';
const measurePostgres = values.store !== 'sqlite';
const FRAMES = Number(values.frames);
const QUERIES = Number(values.queries);
const DIM = Number(values.dim);
const WORDS = Number(values.words);
const TOPICS = 64;
const REUSE_PG_URL = process.env.OPENRECALL_BENCH_PG_URL;
const KEEP_PG = process.env.OPENRECALL_BENCH_KEEP_PG === '1';
const KEYWORD_ONLY = process.env.OPENRECALL_BENCH_KEYWORD_ONLY === '1';
if (REUSE_PG_URL && measureSqlite) throw new Error('OPENRECALL_BENCH_PG_URL goes with --store postgres');

// Deterministic pseudo-random numbers.
let seed = 42;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

// A 30 000-word vocabulary of pronounceable words; word i has Zipf frequency ~ 1/(i+1)^1.07.
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ro',
  'sa',
  'tu',
  'vi',
  'de',
  'fa',
  'gi',
  'ho',
  'ju',
  'pe',
  'qui',
  'ra',
  'shi',
  'to',
  'ul',
  'ven',
  'bor',
  'cal',
  'dun',
  'est',
  'fin',
  'gor',
  'hal',
  'ist',
  'jor',
  'kel',
];
const vocabulary: string[] = [];
const seen = new Set<string>();
while (vocabulary.length < 30_000) {
  const n = 1 + Math.floor(random() * 3) + (vocabulary.length > 2000 ? 1 : 0);
  let word = '';
  for (let i = 0; i < n; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
  if (!seen.has(word)) seen.add(word), vocabulary.push(word);
}
const cumulative = new Float64Array(vocabulary.length);
let total = 0;
for (let i = 0; i < vocabulary.length; i++) cumulative[i] = total += 1 / (i + 1) ** 1.07;
const zipfWord = () => {
  const x = random() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return vocabulary[lo]!;
};
const APPS = ['Firefox', 'Chromium', 'Terminal', 'Code', 'Slack', 'Mail', 'Calendar', 'Writer', 'Sheets', 'Files', 'Zoom', 'Figma'];

// Topic vectors: each frame's vector is its topic plus noise, as real embeddings cluster by subject.
const topicVectors = Array.from({ length: TOPICS }, () => Float32Array.from({ length: DIM }, () => random() * 2 - 1));
const frameVector = (topic: number) => normalize(Float32Array.from(topicVectors[topic]!, (x) => x + (random() * 2 - 1) * 0.9));

const dataDir = values.fixture ? path.resolve(values.fixture) : tempDir('openrecall-bench-search-');
const dbFile = path.join(dataDir, 'db', 'recall.db');
const fixtureFile = path.join(dataDir, 'fixture.json');
interface FixtureMeta {
  frames: number;
  dim: number;
  words: number;
  seedAfterFrames: number;
  insertSeconds: number;
  rebuildSeconds: number;
}
const fixture: FixtureMeta | undefined = values.fixture && fs.existsSync(fixtureFile) ? JSON.parse(fs.readFileSync(fixtureFile, 'utf8')) : undefined;
if (fixture && (fixture.frames !== FRAMES || fixture.dim !== DIM || (fixture.words ?? 300) !== WORDS)) {
  throw new Error(`${fixtureFile}: built for ${fixture.frames} frames, ${fixture.dim}-d, ${fixture.words ?? 300} words`);
}
if (values.fixture && !fixture) fs.rmSync(path.join(dataDir, 'db'), { recursive: true, force: true });
if (!DATABASE_CIPHERS.includes(values.cipher as DatabaseCipher)) throw new Error(`--cipher is one of ${DATABASE_CIPHERS.join(', ')}`);
const databaseKey = values['key-file'] ? { key: fs.readFileSync(values['key-file']), cipher: values.cipher as DatabaseCipher } : undefined;
const db = openDatabase(dbFile, { dataDir, ...(databaseKey ? { databaseKey } : {}) });
const insert = db.prepare(`INSERT INTO entries (timestamp, app, title, text, status, image_path, received_at, attempts, processing_finished_at)
  VALUES (?, ?, ?, ?, 'COMPLETED', ?, ?, 1, ?)`);
const insertVector = db.prepare(`INSERT INTO embeddings (entry_id, model, dim, vector, bits, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
const asBuffer = (array: Uint32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
const embeddings = new SqliteEmbeddingsRepository(db);
const MODEL = 'bench-384';

const t0 = 1_700_000_000;
const topics: number[] = [];
const insertStart = performance.now();
if (fixture) console.error(`reusing the fixture in ${dataDir}`);
else console.error(`generating ${FRAMES} frames…`);
let rebuildSeconds = 0;
// Frames and vectors are written as the product writes them (the same rows; a vector and its sign bits as
// SqliteEmbeddingsRepository.save stores them), in transactions of 10 000 frames, with the full-text insert
// triggers dropped: bulkLoad then indexes every frame once (the rebuild) and puts the triggers back.
const generate = () => {
  for (let batch = 0; batch < FRAMES; batch += 10_000) {
    db.transaction(() => {
      for (let i = batch; i < Math.min(FRAMES, batch + 10_000); i++) {
        const words: string[] = [];
        for (let w = 0; w < WORDS; w++) words.push(zipfWord());
        const app = APPS[Math.floor(random() * APPS.length)]!;
        const title = `${zipfWord()} ${zipfWord()} - ${app}`;
        const topic = Math.floor(random() * TOPICS);
        topics.push(topic);
        const timestamp = t0 + i * 10;
        if (REUSE_PG_URL) {
          frameVector(topic); // the same random sequence, so the same queries
          continue;
        }
        const id = Number(insert.run(timestamp, app, title, words.join(' '), `screenshots/${i}.webp`, timestamp, timestamp).lastInsertRowid);
        const vector = frameVector(topic);
        insertVector.run(id, MODEL, DIM, encodeStoredVector(vector), asBuffer(signBits(vector)), timestamp);
      }
    })();
    if (batch % 100_000 === 0) console.error(`  ${batch}/${FRAMES} ${round((performance.now() - insertStart) / 1000, 1)} s`);
  }
  rebuildStart = performance.now();
};
let rebuildStart = 0;
if (!fixture) {
  db.pragma('cache_size = -262144');
  bulkLoad(db, generate);
  rebuildSeconds = (performance.now() - rebuildStart) / 1000;
}
let insertSeconds = (rebuildStart - insertStart) / 1000;
if (fixture) {
  seed = fixture.seedAfterFrames;
  insertSeconds = fixture.insertSeconds;
  rebuildSeconds = fixture.rebuildSeconds;
} else {
  db.exec(`INSERT INTO entries_fts(entries_fts) VALUES ('optimize'); INSERT INTO entries_trigram(entries_trigram) VALUES ('optimize');`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  console.error(`  written in ${round(insertSeconds, 1)} s, indexed in ${round(rebuildSeconds, 1)} s`);
  if (values.fixture) {
    const meta: FixtureMeta = { frames: FRAMES, dim: DIM, words: WORDS, seedAfterFrames: seed, insertSeconds, rebuildSeconds };
    fs.writeFileSync(fixtureFile, JSON.stringify(meta));
  }
}
const dbBytes = fs.statSync(dbFile).size;
const pageSize = Number(db.pragma('page_size', { simple: true }));
// What each table and index costs a frame (bytes of its pages; FTS5 shadow tables by name).
const storage = Object.fromEntries(
  (db.prepare(`SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC`).all() as Array<{ name: string; bytes: number }>)
    .filter((r) => r.bytes / FRAMES >= 1)
    .map((r) => [r.name, round(r.bytes / FRAMES, 0)]),
);

// Query embedding: the topic vector of the query's first word's frames, as a model would place it.
const wordTopic = (word: string) => vocabulary.indexOf(word) % TOPICS;
const provider: EmbeddingProvider = {
  model: MODEL,
  embed: async (texts) => texts.map((t) => frameVector(Math.abs(wordTopic(t.split(' ')[0]!.replace(/[^a-z]/g, ''))))),
};

// A mixed query set, as people search: mostly specific words, some common ones, pairs, phrases, prefixes.
const pick = (from: number, to: number) => vocabulary[from + Math.floor(random() * (to - from))]!;
const kinds: Array<[string, number, () => string]> = [
  ['rare word', 0.35, () => pick(5000, 30000)],
  ['mid word', 0.25, () => pick(300, 5000)],
  ['common word', 0.1, () => pick(0, 300)],
  ['two words', 0.15, () => `${pick(300, 5000)} ${pick(300, 30000)}`],
  ['phrase', 0.05, () => `"${pick(100, 3000)} ${pick(100, 3000)}"`],
  ['prefix', 0.05, () => `${pick(300, 5000).slice(0, 4)}*`],
  ['filtered', 0.05, () => pick(300, 5000)],
  // Narrower filters (a restricted vector search: at most 20 000 frames pass), added after the others so that the
  // queries above stay the same: one app in the last tenth of the time, and a word of the window titles.
  ['filtered, narrow', 0.05, () => pick(300, 5000)],
  ['filtered, window', 0.05, () => pick(300, 5000)],
];
/** The filters of the filtered kinds (the window filter is a title word drawn once per query, below). */
const windowWords = new Map<number, string>();
const queries: Array<{ kind: string; q: string }> = [];
for (const [kind, share, make] of kinds) for (let i = 0; i < Math.round(QUERIES * share); i++) queries.push({ kind, q: make() });
for (const [i, { kind }] of queries.entries()) if (kind === 'filtered, window') windowWords.set(i, pick(100, 2000));
const filtersOf = (kind: string, i: number) =>
  kind === 'filtered'
    ? { app: 'Slack', start: t0 + FRAMES * 5 }
    : kind === 'filtered, narrow'
      ? { app: 'Slack', start: t0 + FRAMES * 9 }
      : kind === 'filtered, window'
        ? { window: windowWords.get(i)! }
        : {};

/**
 * Where a search's time goes: the calls of the search service into its parts are timed (the store is synchronous
 * underneath, so they never overlap) and what is left is the service's own work (fusion, folding, hits).
 */
const parts = {
  current: new Map<string, number>(),
  /** The process's CPU time in each part (what the machine's load inflates much less than the wall time). */
  cpu: new Map<string, number>(),
  add(part: string, ms: number, cpuMs = 0) {
    this.current.set(part, (this.current.get(part) ?? 0) + ms);
    this.cpu.set(part, (this.cpu.get(part) ?? 0) + cpuMs);
  },
  /** Replaces `target[name]` by a timed call, counted in `part` (less what nested timed calls counted). */
  time<T extends object>(target: T, name: keyof T & string, part: string) {
    const original = (target[name] as (...args: unknown[]) => Promise<unknown>).bind(target);
    const timed = async (...args: unknown[]) => {
      const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      const before = sum(this.current);
      const cpuBefore = sum(this.cpu);
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      try {
        return await original(...args);
      } finally {
        const cpu = process.cpuUsage(cpuStart);
        const nested = sum(this.current) - before;
        const nestedCpu = sum(this.cpu) - cpuBefore;
        this.add(part, performance.now() - start - nested, (cpu.user + cpu.system) / 1000 - nestedCpu);
      }
    };
    Object.assign(target, { [name]: timed });
  },
};

/** The answers of the measured searches (--dump), written at the end. */
const dump: string[] | undefined = values.dump ? [] : undefined;

/** Searches run before each measurement (not timed). */
const WARM_UP_SEARCHES = 10;

async function measure(service: SearchService, mode: 'keyword' | 'hybrid') {
  const byKind = new Map<string, number[]>();
  const all: number[] = [];
  const byPart = new Map<string, number[]>();
  const byPartCpu = new Map<string, number[]>();
  /** The process's CPU time during each search: what the machine's load does not inflate (much). */
  const cpuMs: number[] = [];
  for (const { q } of queries.slice(0, WARM_UP_SEARCHES)) await service.search({ q, mode, limit: 20, offset: 0 });
  for (const [i, { kind, q }] of queries.entries()) {
    const filters = filtersOf(kind, i);
    parts.current.clear();
    parts.cpu.clear();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const answer = await service.search({ q, mode, limit: 20, offset: 0, ...filters });
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    // The answer, then its timings (`ms`, `cpu_ms`, `parts`: what to strip before comparing two runs).
    if (dump) {
      const timings = {
        ms: round(ms),
        cpu_ms: round((cpu.user + cpu.system) / 1000),
        parts: Object.fromEntries([...parts.current].map(([k, v]) => [k, round(v)])),
      };
      dump.push(JSON.stringify({ mode, kind, q, filters, total: answer.total, results: answer.results, related: answer.related, ...timings }));
    }
    all.push(ms);
    (byKind.get(kind) ?? byKind.set(kind, []).get(kind)!).push(ms);
    const timed = [...parts.current.values()].reduce((a, b) => a + b, 0);
    for (const [part, partMs] of [...parts.current, ['service (fusion, folding, hits)', ms - timed] as const]) {
      (byPart.get(part) ?? byPart.set(part, []).get(part)!).push(partMs);
    }
    const timedCpu = [...parts.cpu.values()].reduce((a, b) => a + b, 0);
    for (const [part, partMs] of [...parts.cpu, ['service (fusion, folding, hits)', (cpu.user + cpu.system) / 1000 - timedCpu] as const]) {
      (byPartCpu.get(part) ?? byPartCpu.set(part, []).get(part)!).push(partMs);
    }
  }
  const summary = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), n: s.length };
  };
  const cpuSorted = [...cpuMs].sort((a, b) => a - b);
  return {
    all: { ...summary(all), cpu_p50: round(percentile(cpuSorted, 50)), cpu_p99: round(percentile(cpuSorted, 99)) },
    cpu: summary(cpuMs),
    ...Object.fromEntries([...byKind].map(([k, xs]) => [k, summary(xs)])),
    parts: Object.fromEntries([...byPart].map(([part, xs]) => [part, summary(xs)])),
    parts_cpu: Object.fromEntries([...byPartCpu].map(([part, xs]) => [part, summary(xs)])),
  };
}

/**
 * Times the parts of a search (see `parts`): the query's embedding, the vector search and its reads, the store's
 * statements. The embedder is timed once per process (PostgreSQL measured after SQLite shares it).
 */
function timeParts(search: SearchRepository, vectorIndex: VectorIndex, repository: EmbeddingsRepository, embedder: EmbeddingProvider | undefined) {
  if (embedder) parts.time(embedder, 'embed', 'embed the query');
  parts.time(vectorIndex, 'search', 'vector search without its reads (pass 1, scoring)');
  parts.time(repository, 'vectors', 'vector rescoring reads');
  parts.time(search, 'keyword', 'keyword statements');
  parts.time(search, 'filteredIds', 'filter ids');
  for (const name of ['keys', 'rows', 'snippets', 'matchingAny'] as const) parts.time(search, name, 'rows, keys, snippets, exclusions');
}

/** Opens the vector index and waits until it is ready; counts the stored vectors it reads to get there. */
async function loadIndex(repository: EmbeddingsRepository, file?: { dataDir: DataDir; path: string }) {
  let rowsRead = 0;
  const counting: EmbeddingsRepository = Object.assign(Object.create(repository), {
    bitsSince: async (model: string, seq: number, limit: number) => {
      const rows = await repository.bitsSince(model, seq, limit);
      rowsRead += rows.length;
      return rows;
    },
  });
  const index = new VectorIndex(MODEL, counting, file ? { file } : {});
  const started = performance.now();
  await index.whenReady();
  return { index, ms: performance.now() - started, rowsRead };
}

/** This process's memory: RSS and PSS (shared pages counted by share) from /proc, in MB. */
function memoryMb() {
  const rollup = fs.existsSync('/proc/self/smaps_rollup') ? fs.readFileSync('/proc/self/smaps_rollup', 'utf8') : '';
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? Number.NaN);
  return {
    rss_mb: round(process.memoryUsage().rss / 1048576, 1),
    pss_mb: round(kb('Pss') / 1024, 1),
    heap_mb: round(process.memoryUsage().heapUsed / 1048576, 1),
  };
}

/**
 * Builds PostgreSQL's packed word index as the idle processor does, a segment at a time, and reports how long that
 * took and what the index weighs (nothing to build when a reused database has it already).
 */
async function buildWordIndex(store: Store, url: string) {
  const started = performance.now();
  let segments = 0;
  while (await store.wordIndex?.step()) if (++segments % 10 === 0) console.error(`  word index: ${segments} segments`);
  const [size] = await queryDatabase<{ bytes: string }>(
    url,
    `SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c WHERE c.relname IN ('word_packs', 'word_segments', 'word_index_dirty')`,
  );
  return { segments_built: segments, build_seconds: round((performance.now() - started) / 1000, 1), mb: round(Number(size?.bytes ?? 0) / 1048576, 1) };
}

/**
 * PostgreSQL's page traffic while `run` measures: pages found in shared buffers (hit) and read in (from the OS cache,
 * or the disk when the OS no longer holds them), per search (its warm-up searches counted too), and the time a read
 * took (track_io_timing, see timePageReads()). The same code can run 2x slower when its pages come from the disk:
 * these figures tell the machine's state from the code's.
 */
async function withPageReads<T extends { all: { n: number } }>(url: string, run: () => Promise<T>) {
  const snapshot = async () =>
    (
      await queryDatabase<{ read: string; hit: string; read_ms: number }>(
        url,
        'SELECT blks_read AS read, blks_hit AS hit, blk_read_time AS read_ms FROM pg_stat_database WHERE datname = current_database()',
      )
    )[0]!;
  // Backends report their counts once idle for about a second (PostgreSQL 15's shared-memory statistics).
  const settle = () => new Promise((resolve) => setTimeout(resolve, 2_000));
  await settle();
  const before = await snapshot();
  const result = await run();
  await settle();
  const after = await snapshot();
  const reads = Number(after.read) - Number(before.read);
  const searches = result.all.n + WARM_UP_SEARCHES;
  return {
    ...result,
    pg_pages: {
      read_a_search: round(reads / searches),
      hit_a_search: round((Number(after.hit) - Number(before.hit)) / searches),
      us_a_read: reads > 0 && after.read_ms > before.read_ms ? round(((after.read_ms - before.read_ms) * 1000) / reads, 1) : null,
    },
  };
}

/**
 * Lets the store's connections, opened after this, time their page reads. Superuser only: otherwise
 * pg_pages.us_a_read stays null.
 */
const timePageReads = (url: string) =>
  queryDatabase(url, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET track_io_timing = on', current_database()); END $$").catch(() => []);

let sqlite: Record<string, unknown> | undefined;
if (measureSqlite) {
  console.error(`sqlite: loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const sealed = values['encrypted-index'];
  const files = openDataDir(dataDir, sealed ? createAeadFileCipher(createHash('sha256').update('openrecall bench key').digest()) : plainCipher);
  const indexFile = values['no-index-file'] ? undefined : { dataDir: files, path: `${sealed ? 'index-sealed' : 'index'}/${vectorIndexFileName(MODEL)}` };
  let rebuild: Record<string, number> = {};
  if (indexFile && !files.existsSync(indexFile.path)) {
    // The first start with no index file: every stored vector is read once and the file written.
    const built = await loadIndex(embeddings, indexFile);
    await built.index.close();
    rebuild = { vector_index_rebuild_ms: round(built.ms, 1), vector_index_rebuild_rows_read: built.rowsRead };
    console.error(`sqlite: index file written in ${round(built.ms / 1000, 1)} s; loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  }
  const { index, ms, rowsRead } = await loadIndex(embeddings, indexFile);
  const afterLoad = memoryMb();
  const searchRepository = new SqliteSearchRepository(db);
  timeParts(searchRepository, index, embeddings, provider);
  const service = new SearchService(searchRepository, { provider, index });
  sqlite = {
    vector_index: indexFile ? (sealed ? 'file, sealed (AEAD)' : 'file') : 'every row read from the database',
    ...rebuild,
    vector_index_load_ms: round(ms, 1),
    vector_index_load_rows_read: rowsRead,
    loadavg_at_load: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
    memory_after_index_load: afterLoad,
    keyword_ms: await measure(service, 'keyword'),
    ...(KEYWORD_ONLY ? {} : { hybrid_ms: await measure(service, 'hybrid') }),
    memory_after_queries: memoryMb(),
    loadavg_after_queries: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
  };
  await index.close();
}
db.close();

let postgres: Record<string, unknown> | undefined;
if (measurePostgres && REUSE_PG_URL) {
  console.error(`postgres: reusing ${REUSE_PG_URL}; measuring… loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  await timePageReads(REUSE_PG_URL);
  const store = await openPostgresStore(REUSE_PG_URL, { applicationName: 'openrecall-bench' });
  try {
    const { index, ms } = await loadIndex(store.embeddings);
    timeParts(store.search, index, store.embeddings, measureSqlite ? undefined : provider);
    const service = new SearchService(store.search, { provider, index });
    postgres = {
      reused_database: true,
      vector_index_load_ms: round(ms, 1),
      word_index: await buildWordIndex(store, REUSE_PG_URL),
      keyword_ms: await withPageReads(REUSE_PG_URL, () => measure(service, 'keyword')),
      ...(KEYWORD_ONLY ? {} : { hybrid_ms: await withPageReads(REUSE_PG_URL, () => measure(service, 'hybrid')) }),
    };
  } finally {
    await store.close();
  }
} else if (measurePostgres) {
  const target = await createTestDatabase();
  try {
    console.error(`postgres: copying into ${target.name}… loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
    const copyStart = performance.now();
    const counts = await copySqliteToPostgres(dbFile, target.url, {
      batchSize: 1000,
      onProgress: (table, copied, total) => {
        if (copied % 20_000 === 0 || copied === total) console.error(`  ${table} ${copied}/${total}`);
      },
    });
    const copySeconds = (performance.now() - copyStart) / 1000;
    for (const c of counts) if (c.sqlite !== c.postgres) throw new Error(`copy of ${c.table}: sqlite ${c.sqlite}, postgres ${c.postgres}`);
    await timePageReads(target.url);
    const store = await openPostgresStore(target.url, { applicationName: 'openrecall-bench' });
    try {
      const analyzeStart = performance.now();
      const pool = new (await import('pg')).default.Client({ connectionString: target.url });
      await pool.connect();
      await pool.query('VACUUM ANALYZE');
      const analyzeSeconds = (performance.now() - analyzeStart) / 1000;
      const size = Number((await pool.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
      await pool.end();
      const wordIndex = await buildWordIndex(store, target.url);
      console.error(`postgres: measuring… loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
      const { index, ms } = await loadIndex(store.embeddings);
      timeParts(store.search, index, store.embeddings, measureSqlite ? undefined : provider);
      const service = new SearchService(store.search, { provider, index });
      postgres = {
        copy_seconds: round(copySeconds, 1),
        vacuum_analyze_seconds: round(analyzeSeconds, 1),
        db_mb: round(size / 1024 / 1024, 1),
        vector_index_load_ms: round(ms, 1),
        word_index: wordIndex,
        keyword_ms: await withPageReads(target.url, () => measure(service, 'keyword')),
        ...(KEYWORD_ONLY ? {} : { hybrid_ms: await withPageReads(target.url, () => measure(service, 'hybrid')) }),
      };
    } finally {
      await store.close();
    }
  } finally {
    if (KEEP_PG) console.error(`postgres: kept ${target.url}`);
    else await target.drop();
  }
}

if (dump && values.dump) fs.writeFileSync(values.dump, `${dump.join('\n')}\n`);

console.log(
  JSON.stringify(
    {
      benchmark: 'search',
      frames: FRAMES,
      words_per_frame: WORDS,
      encrypted: databaseKey?.cipher ?? false,
      vector_dim: DIM,
      fixture_write_seconds: round(insertSeconds, 1),
      fixture_full_text_index_seconds: round(rebuildSeconds, 1),
      db_mb: round(dbBytes / 1024 / 1024, 1),
      page_size: pageSize,
      bytes_a_frame: round(dbBytes / FRAMES, 0),
      bytes_a_frame_by_table: storage,
      // The SQLite figures stay at the top level (as before --store existed); PostgreSQL's under `postgres`.
      ...(sqlite ?? {}),
      ...(postgres ? { postgres } : {}),
    },
    null,
    2,
  ),
);

// Encryption at rest (issue 20): the same build with OPENRECALL_ENCRYPTION off and on, side by side in one run.
// Plain and encrypted runs alternate (A B A B …, --rounds pairs) so the machine's load falls on both alike.
//   - ingest p99: bench/ingest.ts --twin encrypted (16 uploaders x 2 frames/s, 1080p PNG, OCR busy on both servers; the
//     plain and encrypted servers' rounds alternate within one run, 3 each), goal encrypted <= 1.1x plain;
//   - /image: bench/frame-fetch.ts (the recorded sequence compacted by the server, then fetched from a fresh
//     server in random order), TTFB p95, goal <= 1.2x;
//   - search p50 at --search-frames (default 100 000): bench/search.ts on a plain fixture and on an encrypted copy
//     of the same file (--search-cipher: what a new data dir gets, AEGIS-256, or sqlcipher-v4-raw-key as data dirs
//     encrypted before it have), keyword and hybrid, goal <= 1.2x;
//   - OCR: bench/ocr.ts (the server pipeline's frames per second), goal unchanged within noise.
// One JSON on stdout, then a table; progress and the load average before each run on stderr.
//   node --import tsx bench/encryption.ts [--rounds 2] [--only ingest,image,search,ocr] [--search-frames 100000]
//     [--fixtures /work/bench-fixtures] [--ingest-requests 40] [--ocr-frames 4] [--image-frames 49]
// The search fixtures are built once in --fixtures (search-plain-<frames>; search-encrypted-<frames> (SQLCipher) or
// search-encrypted-aegis-<frames> (AEGIS-256), each with its key beside it)
// and reused by later runs. Run `npm run build` first: the servers are the built CLI.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3-multiple-ciphers';
import { DATABASE_CIPHERS, NEW_DATABASE_CIPHER, type DatabaseCipher } from '../src/encryption/data-key.js';
import { rekeyPlainDatabase } from '../src/store/sqlite/database.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { percentile, round } from './fixtures.js';
import { compactAndFetch, recordedFrames } from './frame-fetch.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    only: { type: 'string', default: 'ingest,image,search,ocr' },
    'search-frames': { type: 'string', default: '100000' },
    fixtures: { type: 'string', default: '/work/bench-fixtures' },
    'ingest-requests': { type: 'string', default: '40' },
    'ocr-frames': { type: 'string', default: '4' },
    'image-frames': { type: 'string', default: '49' },
    'search-cipher': { type: 'string', default: NEW_DATABASE_CIPHER },
  },
});
const rounds = Number(values.rounds);
const only = new Set(values.only.split(','));
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

type Mode = 'plain' | 'encrypted';
const MODES: Mode[] = ['plain', 'encrypted'];

/** The environment of a server of `mode`: encrypted ones get a new key file (made 0600 at the first start). */
function serverEnv(mode: Mode): Record<string, string> {
  if (mode === 'plain') return { OPENRECALL_ENCRYPTION: 'off' };
  return { OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: path.join(tempDir('openrecall-bench-key-'), 'openrecall.key') };
}

/** Runs another bench script and returns the JSON it prints last on stdout. */
function runScript(script: string, args: string[], env: Record<string, string>): Record<string, any> {
  const { OPENRECALL_ENCRYPTION: _e, OPENRECALL_ENCRYPTION_KEY_FILE: _k, ...inherited } = process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, script), ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`bench/${script} exited ${result.status ?? result.signal}`);
  const stdout = result.stdout;
  return JSON.parse(stdout.slice(stdout.startsWith('{') ? 0 : stdout.lastIndexOf('\n{') + 1));
}

interface Sample {
  round: number;
  loadavg_before: string;
  [figure: string]: unknown;
}
const samples: Record<string, Record<Mode, Sample[]>> = {};
const record = (bench: string, mode: Mode, pass: number, before: string, figures: Record<string, unknown>) => {
  samples[bench] ??= { plain: [], encrypted: [] };
  const sample = { round: pass, loadavg_before: before, ...figures };
  samples[bench][mode].push(sample);
  // As it comes, so a run cut short still leaves its figures.
  console.error(`sample ${JSON.stringify({ bench, mode, ...sample })}`);
};

// ------------------------------------------------------------------------------------------------ the runs

/**
 * One bench/ingest.ts run measures both: the plain server and its encrypted twin, their paced rounds alternating
 * in the same minutes (--rounds 3 inside), so the machine's load falls on both alike; p99 is over the pooled rounds.
 */
async function ingest(pass: number) {
  const args = ['--uploaders', '16', '--requests', values['ingest-requests'], '--interval', '500', '--saturated', 'false'];
  const before = loadavg();
  const out = runScript('ingest.ts', [...args, '--twin', 'encrypted', '--floor', 'false', '--rounds', '3'], {});
  for (const [mode, paced, lost] of [
    ['plain', out.paced, out.lost],
    ['encrypted', out.twin_paced, out.twin_lost],
  ] as const) {
    record('ingest', mode, pass, before, {
      p50_ms: paced.latency_ms.p50,
      p99_ms: paced.latency_ms.p99,
      handler_p99_ms: paced.handler_ms.p99,
      accepted: paced.accepted,
      lost,
      cpu_ms_per_upload: paced.cpu_ms_per_upload,
    });
  }
}

async function image(mode: Mode, pass: number) {
  const frames = recordedFrames().slice(0, Number(values['image-frames']));
  const before = loadavg();
  const { cold, scrub, compactSeconds } = await compactAndFetch(tempDir('openrecall-bench-image-'), frames, serverEnv(mode));
  const p = (xs: number[], at: number) =>
    round(
      percentile(
        [...xs].sort((a, b) => a - b),
        at,
      ),
      1,
    );
  record('image', mode, pass, before, {
    ttfb_p50_ms: p(cold.ttfb, 50),
    ttfb_p95_ms: p(cold.ttfb, 95),
    total_p95_ms: p(cold.total, 95),
    scrub_ttfb_p95_ms: p(scrub.ttfb, 95),
    compaction_seconds: round(compactSeconds, 1),
  });
}

const searchFrames = Number(values['search-frames']);
const plainFixture = path.join(values.fixtures, `search-plain-${searchFrames}`);
const searchCipher = values['search-cipher'] as DatabaseCipher;
if (!DATABASE_CIPHERS.includes(searchCipher)) throw new Error(`--search-cipher is one of ${DATABASE_CIPHERS.join(', ')}`);
const encryptedFixture = path.join(values.fixtures, `search-encrypted-${searchCipher === 'sqlcipher-v4-raw-key' ? '' : 'aegis-'}${searchFrames}`);
const searchKeyFile = `${encryptedFixture}.key`;

/** The plain fixture (built by bench/search.ts), then its encrypted copy: the same file, rekeyed as `openrecall encrypt` does. */
function searchFixtures() {
  if (!fs.existsSync(path.join(plainFixture, 'fixture.json'))) {
    console.error(`== building the plain search fixture (${searchFrames} frames) in ${plainFixture}; loadavg ${loadavg()}`);
    fs.mkdirSync(plainFixture, { recursive: true });
    runScript('search.ts', ['--frames', String(searchFrames), '--store', 'sqlite', '--fixture', plainFixture, '--no-index-file', '--queries', '10'], {
      OPENRECALL_BENCH_KEYWORD_ONLY: '1',
    });
  }
  if (fs.existsSync(path.join(encryptedFixture, 'fixture.json'))) return;
  console.error(`== encrypting a copy of the fixture into ${encryptedFixture}; loadavg ${loadavg()}`);
  const started = performance.now();
  fs.rmSync(encryptedFixture, { recursive: true, force: true });
  fs.mkdirSync(path.join(encryptedFixture, 'db'), { recursive: true });
  const file = path.join(encryptedFixture, 'db', 'recall.db');
  fs.copyFileSync(path.join(plainFixture, 'db', 'recall.db'), file);
  const key = crypto.randomBytes(32);
  fs.writeFileSync(searchKeyFile, key, { mode: 0o600 });
  const db = new Database(file);
  rekeyPlainDatabase(db, { key, cipher: searchCipher });
  db.pragma('journal_mode = WAL');
  db.close();
  fs.copyFileSync(path.join(plainFixture, 'fixture.json'), path.join(encryptedFixture, 'fixture.json'));
  console.error(`   encrypted in ${round((performance.now() - started) / 1000, 1)} s`);
}

/**
 * Reads a fixture's database file once, so its pages are in the OS cache for either mode: a fixture just made (the
 * encrypted copy) or pushed out by other work would otherwise wait for the disk where the other does not.
 */
function warmFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(16 << 20);
    while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    fs.closeSync(fd);
  }
}

async function search(mode: Mode, pass: number) {
  warmFile(path.join(mode === 'plain' ? plainFixture : encryptedFixture, 'db', 'recall.db'));
  const args = ['--frames', String(searchFrames), '--store', 'sqlite', '--no-index-file'];
  const fixtureArgs = mode === 'plain' ? ['--fixture', plainFixture] : ['--fixture', encryptedFixture, '--key-file', searchKeyFile, '--cipher', searchCipher];
  const before = loadavg();
  const out = runScript('search.ts', [...args, ...fixtureArgs], {});
  record('search', mode, pass, before, {
    keyword_p50_ms: out.keyword_ms.all.p50,
    keyword_p99_ms: out.keyword_ms.all.p99,
    keyword_cpu_p50_ms: out.keyword_ms.all.cpu_p50,
    hybrid_p50_ms: out.hybrid_ms.all.p50,
    hybrid_p99_ms: out.hybrid_ms.all.p99,
    hybrid_cpu_p50_ms: out.hybrid_ms.all.cpu_p50,
    vector_index_load_ms: out.vector_index_load_ms,
    db_mb: out.db_mb,
  });
}

async function ocr(mode: Mode, pass: number) {
  const before = loadavg();
  const out = runScript('ocr.ts', ['--frames', values['ocr-frames'], '--workers', '1'], serverEnv(mode));
  record('ocr', mode, pass, before, {
    frames_per_second: out.pipeline.frames_per_second,
    seconds: out.pipeline.seconds,
    word_recall: out.pipeline.word_recall,
  });
}

const benches: Array<[string, (mode: Mode, pass: number) => Promise<void>]> = [
  ['image', image],
  ['search', search],
  ['ocr', ocr],
];
const started = new Date();
if (only.has('search')) searchFixtures();
for (let r = 1; r <= rounds; r++) {
  if (only.has('ingest')) {
    console.error(`== round ${r}/${rounds} ingest, plain and encrypted alternating: loadavg ${loadavg()}`);
    await ingest(r);
  }
  for (const [name, run] of benches) {
    if (!only.has(name)) continue;
    // A B in odd rounds, B A in even ones: neither mode always runs first (a warmer cache, a quieter minute).
    for (const mode of r % 2 === 1 ? MODES : [...MODES].reverse()) {
      console.error(`== round ${r}/${rounds} ${name} ${mode}: loadavg ${loadavg()}`);
      await run(mode, r);
    }
  }
}

// ------------------------------------------------------------------------------------------------ the summary

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
interface Goal {
  bench: string;
  figure: string;
  label: string;
  /** The largest encrypted / plain ratio allowed; for a throughput, the smallest. */
  limit: number;
  higherIsBetter?: boolean;
}
const GOALS: Goal[] = [
  { bench: 'ingest', figure: 'p99_ms', label: 'ingest p99 (ms)', limit: 1.1 },
  { bench: 'image', figure: 'ttfb_p95_ms', label: '/image TTFB p95, compacted, fresh server (ms)', limit: 1.2 },
  { bench: 'search', figure: 'keyword_p50_ms', label: `keyword search p50 at ${searchFrames} frames (ms)`, limit: 1.2 },
  { bench: 'search', figure: 'hybrid_p50_ms', label: `hybrid search p50 at ${searchFrames} frames (ms)`, limit: 1.2 },
  { bench: 'search', figure: 'keyword_cpu_p50_ms', label: 'keyword search CPU per query p50 (ms; not waiting for a core)', limit: 1.2 },
  { bench: 'search', figure: 'hybrid_cpu_p50_ms', label: 'hybrid search CPU per query p50 (ms)', limit: 1.2 },
  { bench: 'ingest', figure: 'cpu_ms_per_upload', label: 'ingest: server CPU per upload (ms)', limit: 1.1 },
  { bench: 'ocr', figure: 'frames_per_second', label: 'OCR frames per second (pipeline, 1 worker)', limit: 0.9, higherIsBetter: true },
];
const comparisons = GOALS.filter((g) => samples[g.bench]).map((g) => {
  const of = (mode: Mode) => samples[g.bench]![mode].map((s) => Number(s[g.figure]));
  const plain = median(of('plain'));
  const encrypted = median(of('encrypted'));
  const ratio = round(encrypted / plain, 3);
  return {
    ...g,
    plain_runs: of('plain'),
    encrypted_runs: of('encrypted'),
    plain_median: round(plain, 3),
    encrypted_median: round(encrypted, 3),
    ratio,
    met: g.higherIsBetter ? ratio >= g.limit : ratio <= g.limit,
  };
});

console.log(
  JSON.stringify(
    { benchmark: 'encryption', started: started.toISOString(), finished: new Date().toISOString(), rounds, comparisons, samples, loadavg_after: loadavg() },
    null,
    2,
  ),
);
const table = [
  '| figure | plain runs | encrypted runs | plain median | encrypted median | ratio | goal | |',
  '|---|---|---|---|---|---|---|---|',
  ...comparisons.map(
    (c) =>
      `| ${c.label} | ${c.plain_runs.join(', ')} | ${c.encrypted_runs.join(', ')} | ${c.plain_median} | ${c.encrypted_median} | ${c.ratio}× | ` +
      `${c.higherIsBetter ? '≥' : '≤'} ${c.limit}× | ${c.met ? 'met' : 'missed'} |`,
  ),
];
console.log(`\n${table.join('\n')}`);

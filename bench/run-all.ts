// `npm run bench`: every benchmark in turn, each in its own process (its JSON on stdout, progress on stderr),
// then markdown tables ready for BENCHMARKS.md, printed and written to bench/results/<time>.md.
//
// Sizes (environment variables; defaults give ~12-15 minutes on a quiet 2-core machine):
//   BENCH_INGEST_UPLOADERS=16 BENCH_INGEST_REQUESTS=40   ingest: uploaders x requests each, paced and saturated
//   BENCH_OCR_FRAMES=8                                   ocr: 1080p screenshots, pipeline vs tesseract CLI
//   BENCH_SEARCH_FRAMES=100000                           search: synthetic frames (the slowest part, 3-6 min)
//   BENCH_SEARCH_STORE=both                              search: sqlite, postgres (copied from the SQLite database) or both
//   BENCH_TP_FRAMES=24 BENCH_TP_WORKERS=1,2,3            worker throughput: 1080p frames; worker processes on PostgreSQL
//   BENCH_COMPARE_REQUESTS=40                            store compare: ingest on SQLite and PostgreSQL, 16 x 1 frame / 500 ms
// The PostgreSQL benchmarks (worker-throughput, store-compare, search's postgres half) create and drop their own
// databases on OPENRECALL_TEST_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/test).
//   BENCH_FRAMES=20 BENCH_CPU_SECONDS=120                client capture: frames timed; seconds of CPU sampling
//   BENCH_RSS_SECONDS=60                                 server RSS: seconds of paced load (1 upload / 3 s)
//   BENCH_ONLY=ingest,ocr                                run a subset
//   BENCH_TIMEOUT_MINUTES=12                             a benchmark running longer is killed and reported
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
type Json = Record<string, any>;

const runs: Array<{ name: string; script: string; args: string[] }> = [
  { name: 'ingest', script: 'ingest.ts', args: ['--uploaders', env.BENCH_INGEST_UPLOADERS ?? '16', '--requests', env.BENCH_INGEST_REQUESTS ?? '40'] },
  { name: 'ocr', script: 'ocr.ts', args: ['--frames', env.BENCH_OCR_FRAMES ?? '8'] },
  { name: 'search', script: 'search.ts', args: ['--frames', env.BENCH_SEARCH_FRAMES ?? '100000', '--store', env.BENCH_SEARCH_STORE ?? 'both'] },
  { name: 'worker-throughput', script: 'worker-throughput.ts', args: ['--frames', env.BENCH_TP_FRAMES ?? '24', '--workers', env.BENCH_TP_WORKERS ?? '1,2,3'] },
  {
    name: 'store-compare',
    script: 'store-compare.ts',
    args: ['--uploaders', '16', '--requests', env.BENCH_COMPARE_REQUESTS ?? '40', '--interval', '500', '--saturated', 'false'],
  },
  { name: 'client-capture', script: 'client-capture.ts', args: [] },
  { name: 'server-rss', script: 'server-rss.ts', args: ['--seconds', env.BENCH_RSS_SECONDS ?? '60'] },
];
const only = env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const timeoutMs = Number(env.BENCH_TIMEOUT_MINUTES ?? 12) * 60_000;

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const startedAt = new Date();
const loadBefore = load();
const results: Record<string, { json?: Json; seconds: number; status: string }> = {};

for (const run of runs) {
  if (only && !only.includes(run.name)) continue;
  console.error(`\n== ${run.name}: node --import tsx bench/${run.script} ${run.args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, run.script), ...run.args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stderr.write(result.stdout ?? '');
  const status = result.error ? `killed after ${seconds} s (${result.error.message})` : result.status === 0 ? 'ok' : `exit ${result.status ?? result.signal}`;
  let json: Json | undefined;
  const stdout = result.stdout ?? '';
  const start = stdout.startsWith('{') ? 0 : stdout.lastIndexOf('\n{') + 1;
  if (start >= 0 && stdout.slice(start).trim()) {
    try {
      json = JSON.parse(stdout.slice(start)) as Json;
    } catch {
      json = undefined;
    }
  }
  results[run.name] = { json, seconds, status };
  console.error(`== ${run.name}: ${status} in ${seconds} s`);
}

// ---- markdown ----
const n = (x: unknown, digits = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a');
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**missed**');
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const lines: string[] = [];
lines.push(`Run of ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}: \`npm run bench\`${only ? ` (BENCH_ONLY=${only.join(',')})` : ''}.`, '');
lines.push('| machine | |', '|---|---|');
lines.push(`| CPU | ${os.availableParallelism()} x ${cpu} |`);
lines.push(`| memory | ${Math.round(os.totalmem() / 2 ** 30)} GiB |`);
lines.push(`| OS | ${os.type()} ${os.release()} ${os.arch()} |`);
lines.push(`| Node.js | ${process.version} |`);
lines.push(`| load average (1/5/15 min) | before ${loadBefore}; after ${load()} |`);
lines.push(
  `| sizes | ${runs
    .filter((r) => !only || only.includes(r.name))
    .map((r) => `${r.name} ${r.args.join(' ') || '(defaults)'}`)
    .join('; ')} |`,
  '',
);

const ingest = results.ingest?.json;
const ocr = results.ocr?.json;
const search = results.search?.json;
const client = results['client-capture']?.json;
const rss = results['server-rss']?.json;
const throughput = results['worker-throughput']?.json;
const compare = results['store-compare']?.json;

lines.push('| target | goal | measured | |', '|---|---|---|---|');
if (ingest) {
  lines.push(
    `| ingest p99 under load (${ingest.uploaders} uploaders, 1 frame / ${ingest.paced.interval_ms} ms each, OCR busy) | ≤ 20 ms | ${n(ingest.paced.latency_ms.p99, 2)} ms | ${verdict(ingest.paced.latency_ms.p99 <= 20)} |`,
    `| ingest p50, p99 over the durable floor (bare node:http: fsync, rename, fsync folder; same run) | ≤ 1.5× | ${n(ingest.over_floor.p50, 2)}×, ${n(ingest.over_floor.p99, 2)}× | ${verdict(ingest.over_floor.p50 <= 1.5 && ingest.over_floor.p99 <= 1.5)} |`,
  );
} else lines.push(`| ingest p99 under load | ≤ 20 ms | ${results.ingest?.status ?? 'not run'} | ${verdict(undefined)} |`);
if (ocr) {
  lines.push(
    `| OCR throughput vs the native tesseract CLI (${ocr.frames} frames, ${ocr.pipeline.workers} worker(s)) | ≥ 1.5× | ${n(ocr.speed_ratio_vs_cli, 2)}× | ${verdict(ocr.speed_ratio_vs_cli >= 1.5)} |`,
  );
  lines.push(
    `| stored bytes per 1080p frame vs PNG | ≤ ¼ (0.25) | ${n(ocr.stored_vs_png, 3)} (${n(ocr.stored_bytes_per_frame / 1024, 0)} KB vs ${n(ocr.png_bytes_per_frame / 1024, 0)} KB) | ${verdict(ocr.stored_vs_png <= 0.25)} |`,
  );
} else lines.push(`| OCR vs CLI; stored bytes vs PNG | ≥ 1.5×; ≤ ¼ | ${results.ocr?.status ?? 'not run'} | ${verdict(undefined)} |`);
if (search) {
  const at = search.frames === 100_000 ? '' : ` (at ${n(search.frames, 0)} frames, not 100 000: not comparable)`;
  lines.push(
    `| keyword search p50 at ${n(search.frames, 0)} frames | ≤ 10 ms | ${n(search.keyword_ms.all.p50, 2)} ms${at} | ${verdict(search.frames >= 100_000 ? search.keyword_ms.all.p50 <= 10 : undefined)} |`,
  );
} else lines.push(`| keyword search p50 at 100 000 frames | ≤ 10 ms | ${results.search?.status ?? 'not run'} | ${verdict(undefined)} |`);
if (rss) {
  const s = rss.steady_rss_mb;
  lines.push(
    `| server RSS steady, 1 OCR worker (server + processor, max of ${rss.samples} samples) | ≤ 300 MB | ${n(s.sum.max, 0)} MB (server ${n(s.server.max, 0)} + processor ${n(s.processor.max, 0)}) | ${verdict(s.sum.max <= 300)} |`,
  );
} else lines.push(`| server RSS steady, 1 OCR worker | ≤ 300 MB | ${results['server-rss']?.status ?? 'not run'} | ${verdict(undefined)} |`);
lines.push('');

if (ingest) {
  lines.push(
    `**Ingest** (\`bench/ingest.ts\`): ${ingest.image}; real server process, ${ingest.ocr_workers} OCR worker(s) busy throughout: ${ingest.ocr_busy_during_run}; frames lost: ${ingest.lost}.`,
    '',
  );
  lines.push('| load | accepted | failed | p50 ms | p90 ms | p99 ms | max ms | handler p50 / p99 ms | requests/s |', '|---|---|---|---|---|---|---|---|---|');
  for (const [label, r] of [
    [`paced (1 / ${ingest.paced.interval_ms} ms per uploader)`, ingest.paced],
    ['saturated (back to back)', ingest.saturated],
  ] as const) {
    lines.push(
      `| ${label} | ${r.accepted} | ${r.failed} | ${n(r.latency_ms.p50, 2)} | ${n(r.latency_ms.p90, 2)} | ${n(r.latency_ms.p99, 2)} | ${n(r.latency_ms.max, 2)} | ${n(r.handler_ms.p50, 2)} / ${n(r.handler_ms.p99, 2)} | ${n(r.requests_per_second)} |`,
    );
  }
  lines.push('');
}
if (ocr) {
  lines.push(`**OCR** (\`bench/ocr.ts\`): ${ocr.frames} rendered 1080p application screenshots, ~${ocr.words_per_frame} words each.`, '');
  lines.push('| engine | seconds | frames/s | word recall |', '|---|---|---|---|');
  lines.push(
    `| pipeline: upload → WebP → tesseract.js, ${ocr.pipeline.workers} worker(s) | ${n(ocr.pipeline.seconds, 2)} | ${n(ocr.pipeline.frames_per_second, 3)} | ${n(ocr.pipeline.word_recall, 3)} |`,
  );
  lines.push(
    `| native \`tesseract\` CLI, one process per frame | ${n(ocr.native_cli.seconds, 2)} | ${n(ocr.native_cli.frames_per_second, 3)} | ${n(ocr.native_cli.word_recall, 3)} |`,
  );
  lines.push('');
}
if (search) {
  lines.push(
    `**Search** (\`bench/search.ts\`): ${n(search.frames, 0)} synthetic frames of ${search.words_per_frame} words, ${search.vector_dim}-d vectors; insert with triggers ${n(search.insert_with_triggers_seconds)} s, database ${n(search.db_mb)} MB, vector index load ${n(search.vector_index_load_ms)} ms.`,
    '',
  );
  lines.push('| query kind | keyword p50 ms | keyword p99 ms | hybrid p50 ms | hybrid p99 ms | n |', '|---|---|---|---|---|---|');
  for (const kind of Object.keys(search.keyword_ms)) {
    const k = search.keyword_ms[kind];
    const h = search.hybrid_ms[kind] ?? {};
    lines.push(`| ${kind} | ${n(k.p50, 2)} | ${n(k.p99, 2)} | ${n(h.p50, 2)} | ${n(h.p99, 2)} | ${k.n} |`);
  }
  lines.push('');
}
if (search?.postgres) {
  const pg = search.postgres;
  lines.push(
    `**Search on PostgreSQL** (\`bench/search.ts --store both\`): the same ${n(search.frames, 0)} frames copied from the SQLite database with copySqliteToPostgres in ${n(pg.copy_seconds)} s (+ VACUUM ANALYZE ${n(pg.vacuum_analyze_seconds)} s), database ${n(pg.db_mb)} MB (SQLite ${n(search.db_mb)} MB), vector index load ${n(pg.vector_index_load_ms)} ms.`,
    '',
  );
  lines.push(
    '| query kind | SQLite keyword p50 / p99 ms | PostgreSQL keyword p50 / p99 ms | SQLite hybrid p50 / p99 ms | PostgreSQL hybrid p50 / p99 ms | n |',
    '|---|---|---|---|---|---|',
  );
  for (const kind of Object.keys(pg.keyword_ms)) {
    const pair = (x: Json | undefined) => (x ? `${n(x.p50, 2)} / ${n(x.p99, 2)}` : 'n/a');
    lines.push(
      `| ${kind} | ${pair(search.keyword_ms?.[kind])} | ${pair(pg.keyword_ms[kind])} | ${pair(search.hybrid_ms?.[kind])} | ${pair(pg.hybrid_ms[kind])} | ${pg.keyword_ms[kind].n} |`,
    );
  }
  lines.push('');
}
if (throughput) {
  lines.push(
    `**Processing throughput** (\`bench/worker-throughput.ts\`): ${throughput.frames} rendered 1080p screenshots, OPENRECALL_WORKERS=1 per process, embeddings ${throughput.embeddings}, ${throughput.cores} cores; CPU = user + system seconds of the processing processes per frame.`,
    '',
  );
  lines.push('| deployment | seconds | frames/min | CPU s / frame | completed / failed | load before |', '|---|---|---|---|---|---|');
  for (const [key, r] of Object.entries(throughput) as Array<[string, Json]>) {
    if (typeof r !== 'object' || r === null || !('seconds' in r)) continue;
    const label =
      key === 'sqlite_embedded_processor' ? 'SQLite, server + its processor' : `PostgreSQL, server --no-processing + ${key.split('_')[1]} worker(s)`;
    lines.push(
      `| ${label} | ${n(r.seconds)} | ${n(r.frames_per_minute)} | ${n(r.processing_cpu_seconds_per_frame, 2)} | ${r.completed} / ${r.failed} | ${r.load_before?.[0] ?? 'n/a'} |`,
    );
  }
  lines.push('');
}
if (compare) {
  lines.push(`**Ingest, SQLite vs PostgreSQL** (\`bench/store-compare.ts\`, ${compare.args}): one real server each, 1 OCR worker busy.`, '');
  lines.push('| store | accepted | failed | p50 ms | p90 ms | p99 ms | max ms | handler p50 / p99 ms | load before |', '|---|---|---|---|---|---|---|---|---|');
  for (const [label, r] of [
    ['SQLite', compare.sqlite],
    ['PostgreSQL', compare.postgres],
  ] as const) {
    const p = r.paced;
    lines.push(
      `| ${label} | ${p.accepted} | ${p.failed} | ${n(p.latency_ms.p50, 2)} | ${n(p.latency_ms.p90, 2)} | ${n(p.latency_ms.p99, 2)} | ${n(p.latency_ms.max, 2)} | ${n(p.handler_ms.p50, 2)} / ${n(p.handler_ms.p99, 2)} | ${r.loadavg_before.split(' ')[0]} |`,
    );
  }
  lines.push('');
}
if (rss) {
  const s = rss.steady_rss_mb;
  lines.push(
    `**Server RSS** (\`bench/server-rss.ts\`): \`openrecall server\` with 1 tesseract.js worker, one upload every ${rss.upload_interval_ms} ms for ${rss.seconds} s (${rss.uploads} uploads, ${rss.completed} processed, ${rss.pending_at_end} still queued at the end); VmRSS sampled every second, steady = after the first ${rss.warmup_seconds} s (warm-up peak ${n(rss.warmup_max_rss_mb, 0)} MB).`,
    '',
  );
  lines.push('| process | p50 MB | max MB |', '|---|---|---|');
  lines.push(`| server (HTTP) | ${n(s.server.p50, 0)} | ${n(s.server.max, 0)} |`);
  lines.push(`| processor (OCR child) | ${n(s.processor.p50, 0)} | ${n(s.processor.max, 0)} |`);
  lines.push(`| sum | ${n(s.sum.p50, 0)} | ${n(s.sum.max, 0)} |`);
  lines.push('');
}
if (client) {
  lines.push(
    `**Capture client** (\`bench/client-capture.ts\`, Xvfb 1920x1080 + openbox): an unchanged frame (idle check, active window, capture, grey copy, change detection) ${n(client.unchanged_frame_ms)} ms; WebP encode ${n(client.webp_encode_ms)} ms (${n(client.webp_bytes / 1024, 0)} KB vs PNG ${n(client.png_bytes / 1024, 0)} KB); buffer write ${n(client.buffer_write_ms)} ms` +
      (client.cpu_percent_of_one_core !== undefined
        ? `; the real client at one capture per ${client.cpu_interval_seconds} s used ${n(client.cpu_percent_of_one_core, 2)} % of one core over ${client.cpu_seconds} s.`
        : '.'),
    '',
  );
}
lines.push('| benchmark | wall time | result |', '|---|---|---|');
for (const [name, r] of Object.entries(results)) lines.push(`| ${name} | ${r.seconds} s | ${r.status} |`);

const markdown = `${lines.join('\n')}\n`;
const dir = path.join(here, 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.md`);
fs.writeFileSync(file, markdown);
fs.writeFileSync(path.join(dir, `${path.basename(file, '.md')}.json`), JSON.stringify({ load_before: loadBefore, results }, null, 2));
console.log(markdown);
console.error(`written to ${path.relative(process.cwd(), file)}`);
process.exit(Object.values(results).every((r) => r.status === 'ok') ? 0 : 1);

// Server memory in steady state: the real `openrecall server` process with one OCR worker (tesseract.js) under a
// steady paced upload load of real 1080p screenshots, sampling VmRSS of the server process and of its processor
// child from /proc/<pid>/status once a second. The first BENCH_RSS_WARMUP seconds (start-up, first OCR) are
// reported separately; the steady figures are over the rest.
//   node --import tsx bench/server-rss.ts [--seconds 60] [--warmup 15] [--interval 3000] [--shots 6]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { getJson } from '../test/helpers/api.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { percentile, renderScreenshots, round } from './fixtures.js';
import { UploadLoad } from './http-load.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.BENCH_RSS_SECONDS ?? '60' },
    warmup: { type: 'string', default: process.env.BENCH_RSS_WARMUP ?? '15' },
    interval: { type: 'string', default: process.env.BENCH_RSS_INTERVAL_MS ?? '3000' },
    shots: { type: 'string', default: '6' },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const intervalMs = Number(values.interval);

/** VmRSS in MB, or undefined when the process is gone. */
function rssMb(pid: number): number | undefined {
  try {
    const match = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident kB per mapped file, and anonymous resident kB, from /proc/<pid>/smaps. */
function residentPages(pid: number): { anon: number; files: Map<string, number> } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const files = new Map<string, number>();
  let anon = 0;
  let file: string | undefined;
  for (const line of text.split('\n')) {
    const mapping = line.match(/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/);
    if (mapping) {
      file = mapping[1] !== '0' && mapping[2]!.startsWith('/') ? mapping[2] : undefined;
      continue;
    }
    const rss = line.match(/^Rss:\s+(\d+) kB/);
    if (!rss) continue;
    if (file) files.set(file, (files.get(file) ?? 0) + Number(rss[1]));
    else anon += Number(rss[1]);
  }
  return { anon, files };
}

/**
 * Memory the server's two processes hold together, in MB: both processes' anonymous pages, plus each mapped file's
 * resident pages once. Adding the two RSS figures counts twice the pages of the node binary and the shared
 * libraries that both processes map from the same files (the same physical pages).
 */
function treeMb(pids: number[]): number | undefined {
  const parts = pids.map(residentPages);
  if (parts.some((p) => p === undefined)) return undefined;
  let kb = 0;
  const files = new Map<string, number>();
  for (const part of parts) {
    kb += part!.anon;
    for (const [name, rss] of part!.files) files.set(name, Math.max(files.get(name) ?? 0, rss));
  }
  for (const rss of files.values()) kb += rss;
  return kb / 1024;
}

/** Child processes of pid (the processor is the server's only child). */
function children(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const shots = await renderScreenshots(Number(values.shots));
// The defaults, embedding provider included (the built-in model); OPENRECALL_EMBEDDING_PROVIDER=none to compare.
const provider = process.env.OPENRECALL_EMBEDDING_PROVIDER ?? '';
const server = await startServerProcess(tempDir('openrecall-bench-rss-'), {
  OPENRECALL_WORKERS: '1',
  OPENRECALL_OCR_ENGINE: 'tesseract-js',
  OPENRECALL_EMBEDDING_PROVIDER: provider,
});
const serverPid = server.child.pid!;
const loads = shots.map((s) => new UploadLoad(new URL(`${server.api}/upload`), s.png, 1));

const samples: Array<{ t: number; server: number; processor: number; tree: number }> = [];
let sent = 0;
let rejected = 0;
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const sampler = setInterval(() => {
  const processorPid = children(serverPid)[0];
  const s = rssMb(serverPid);
  const p = processorPid ? rssMb(processorPid) : undefined;
  const tree = processorPid ? treeMb([serverPid, processorPid]) : undefined;
  if (s !== undefined && p !== undefined && tree !== undefined) samples.push({ t: elapsed(), server: s, processor: p, tree });
}, 1000);

while (elapsed() < seconds) {
  const due = performance.now() + intervalMs;
  const response = await loads[sent % loads.length]!.send();
  sent++;
  if (response.status !== 202) rejected++;
  await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
}
clearInterval(sampler);
const status = (await getJson(`${server.api}/queue/status`)).body;
for (const load of loads) load.close();
await server.stop();

const steady = samples.filter((s) => s.t >= warmup);
const summary = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 1), max: round(sorted.at(-1) ?? NaN, 1) };
};
console.log(
  JSON.stringify(
    {
      benchmark: 'server-rss',
      ocr_workers: 1,
      seconds,
      warmup_seconds: warmup,
      upload_interval_ms: intervalMs,
      image: `1920x1080 PNG, ${Math.round(shots.reduce((a, s) => a + s.png.length, 0) / shots.length)} bytes on average, ${shots.length} distinct`,
      uploads: sent,
      rejected,
      completed: status.queue.completed,
      semantic: status.semantic?.enabled ? status.semantic.model : 'off',
      embeddings_missing_at_end: status.backfill.embedding,
      pending_at_end: status.queue.pending + status.queue.processing,
      samples: steady.length,
      steady_rss_mb: {
        server: summary(steady.map((s) => s.server)),
        processor: summary(steady.map((s) => s.processor)),
        sum: summary(steady.map((s) => s.server + s.processor)),
      },
      // Both processes' own pages plus each shared file's pages once: the memory the server takes from the machine.
      steady_tree_mb: summary(steady.map((s) => s.tree)),
      warmup_max_rss_mb: summary(samples.filter((s) => s.t < warmup).map((s) => s.server + s.processor)).max,
    },
    null,
    2,
  ),
);

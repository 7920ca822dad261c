// Processing throughput of a scaled-out deployment: one PostgreSQL database, one server started with
// --no-processing, and 1, 2, 3 `openrecall worker` processes (OPENRECALL_WORKERS=1 each) on the shared data dir;
// the embedded SQLite server (its own processor, OPENRECALL_WORKERS=1) alongside as the baseline. Each run
// starts the processing, then times from queueing the same N 1080p screenshots until every frame is done
// (COMPLETED or FAILED). CPU seconds of the processing processes (and their descendants, read from /proc) are
// reported per frame, so a reader can extrapolate to a machine with more cores than this one.
//   node --import tsx bench/worker-throughput.ts [--frames 24] [--workers 1,2,3] [--embeddings none|builtin]
// --embeddings none (default) leaves OCR alone on the CPU; builtin loads the built-in embedding model in each
// processing process, as the default configuration does.
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { uploadFrame } from '../src/api-client/upload.js';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { createTestDatabase } from '../test/helpers/postgres.js';
import { runCli, type CliProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { renderScreenshots, round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '24' },
    workers: { type: 'string', default: '1,2,3' },
    embeddings: { type: 'string', default: 'none' },
    sqlite: { type: 'string', default: 'true' },
  },
});
const FRAMES = Number(values.frames);
console.error(`rendering ${FRAMES} 1080p screenshots…`);
const shots = await renderScreenshots(FRAMES);
const base = {
  OPENRECALL_PORT: '0',
  OPENRECALL_WORKERS: '1',
  OPENRECALL_COMPACT_AFTER_MINUTES: '100000',
  // '' is the true default (the built-in model); runCli's own default is 'none'.
  OPENRECALL_EMBEDDING_PROVIDER: values.embeddings === 'builtin' ? '' : 'none',
};
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime (seconds) of a process and all its live descendants. */
function treeCpuSeconds(rootPid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === pid) queue.push(child);
  }
  return ticks / CLOCK_TICKS;
}

async function listening(cli: CliProcess): Promise<string> {
  return `${(await cli.waitFor(/listening on (http:\/\/[^\s]+)/, 120_000))[1]}/api`;
}

async function queueAll(api: string): Promise<void> {
  let ms = Date.now() - 3_600_000;
  for (const shot of shots) {
    ms += 1000;
    const answer = await uploadFrame(api, { image: shot.png, contentType: 'image/png', timestamp: ms / 1000, app: 'Bench', title: 'frame' });
    if (answer.status !== 202) throw new Error(`upload answered ${answer.status}`);
  }
}

async function measure(api: string, processing: CliProcess[]) {
  const cpuBefore = processing.reduce((sum, p) => sum + treeCpuSeconds(p.child.pid!), 0);
  const started = performance.now();
  await queueAll(api);
  let queue: { completed: number; failed: number } = { completed: 0, failed: 0 };
  await waitUntil(
    async () => {
      queue = (await getJson(`${api}/queue/status`)).body.queue;
      return queue.completed + queue.failed >= FRAMES;
    },
    { timeoutMs: 1_800_000, intervalMs: 200, what: `${FRAMES} frames processed` },
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = processing.reduce((sum, p) => sum + treeCpuSeconds(p.child.pid!), 0) - cpuBefore;
  return {
    seconds: round(seconds, 1),
    frames_per_minute: round((FRAMES / seconds) * 60, 1),
    completed: queue.completed,
    failed: queue.failed,
    processing_cpu_seconds_per_frame: round(cpu / FRAMES, 2),
    load_before: os.loadavg().map((l) => round(l, 2)),
  };
}

const results: Record<string, unknown> = {};

// Baseline: SQLite, the server's own processor (a child process of the server, counted in its tree).
if (values.sqlite !== 'false') {
  console.error(`loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const server = runCli(['server'], { ...base, OPENRECALL_DATA_DIR: tempDir('openrecall-bench-tp-') });
  const api = await listening(server);
  await new Promise((r) => setTimeout(r, 3000)); // the processor child starting up
  const result = await measure(api, [server]);
  results.sqlite_embedded_processor = result;
  server.child.kill('SIGTERM');
  await server.exited;
  console.error(`sqlite: ${JSON.stringify(result)}`);
}

for (const count of values.workers.split(',').map(Number)) {
  console.error(`loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const db = await createTestDatabase();
  try {
    const env = { ...base, OPENRECALL_DATABASE_URL: db.url, OPENRECALL_DATA_DIR: tempDir('openrecall-bench-tp-') };
    const server = runCli(['server', '--no-processing'], env);
    const api = await listening(server);
    const workers: CliProcess[] = [];
    for (let i = 0; i < count; i++) workers.push(runCli(['worker'], env));
    await Promise.all(workers.map((w) => w.waitFor(/worker \S+ ready/, 120_000)));
    const result = await measure(api, workers);
    results[`postgres_${count}_worker${count > 1 ? 's' : ''}`] = result;
    console.error(`postgres, ${count} worker(s): ${JSON.stringify(result)}`);
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    server.child.kill('SIGTERM');
    await server.exited;
  } finally {
    await db.drop();
  }
}

console.log(
  JSON.stringify({ benchmark: 'worker-throughput', frames: FRAMES, cores: os.availableParallelism(), embeddings: values.embeddings, ...results }, null, 2),
);

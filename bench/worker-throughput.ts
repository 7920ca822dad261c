// Processing throughput of a scaled-out deployment: one PostgreSQL database, one server started with
// --no-processing, and 1, 2, 3 `openrecall worker` processes (OPENRECALL_WORKERS=1 each) on the shared data dir;
// the embedded SQLite server (its own processor, OPENRECALL_WORKERS=1) alongside as the baseline. Each run
// starts the processing, then times from queueing the same N 1080p screenshots until every frame is COMPLETED.
//   node --import tsx bench/worker-throughput.ts [--frames 24] [--workers 1,2,3]
import { parseArgs } from 'node:util';
import { uploadFrame } from '../src/api-client/upload.js';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { createTestDatabase } from '../test/helpers/postgres.js';
import { runCli, type CliProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { renderScreenshots, round } from './fixtures.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '24' }, workers: { type: 'string', default: '1,2,3' } } });
const FRAMES = Number(values.frames);
const shots = await renderScreenshots(FRAMES);
const base = { OPENRECALL_PORT: '0', OPENRECALL_WORKERS: '1', OPENRECALL_COMPACT_AFTER_MINUTES: '100000', OPENRECALL_EMBEDDING_PROVIDER: '' };

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

async function timeUntilDone(api: string, start: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await start();
  await waitUntil(async () => (await getJson(`${api}/queue/status`)).body.queue.completed === FRAMES, { timeoutMs: 1_800_000, intervalMs: 200 });
  return (performance.now() - started) / 1000;
}

const results: Record<string, unknown> = {};

// Baseline: SQLite, the server's own processor (started before it listens).
{
  const server = runCli(['server'], { ...base, OPENRECALL_DATA_DIR: tempDir('openrecall-bench-tp-') });
  const api = await listening(server);
  const seconds = await timeUntilDone(api, () => queueAll(api));
  results.sqlite_embedded_processor = { seconds: round(seconds, 1), frames_per_minute: round((FRAMES / seconds) * 60, 1) };
  server.child.kill('SIGTERM');
  await server.exited;
  console.error(`sqlite: ${round(seconds, 1)} s`);
}

for (const count of values.workers.split(',').map(Number)) {
  const db = await createTestDatabase();
  const env = { ...base, OPENRECALL_DATABASE_URL: db.url, OPENRECALL_DATA_DIR: tempDir('openrecall-bench-tp-') };
  const server = runCli(['server', '--no-processing'], env);
  const api = await listening(server);
  const workers: CliProcess[] = [];
  for (let i = 0; i < count; i++) workers.push(runCli(['worker'], env));
  await Promise.all(workers.map((w) => w.waitFor(/worker \S+ ready/, 120_000)));
  const seconds = await timeUntilDone(api, () => queueAll(api));
  results[`postgres_${count}_worker${count > 1 ? 's' : ''}`] = { seconds: round(seconds, 1), frames_per_minute: round((FRAMES / seconds) * 60, 1) };
  console.error(`postgres, ${count} worker(s): ${round(seconds, 1)} s`);
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  server.child.kill('SIGTERM');
  await server.exited;
  await db.drop();
}

console.log(JSON.stringify({ benchmark: 'worker-throughput', frames: FRAMES, cores: (await import('node:os')).availableParallelism(), ...results }, null, 2));

// Writing as the history grows (issue 24): on a copy of a data dir holding N frames (bench/server-fixture.ts, or a
// bench/search.ts fixture), what an upload's commit and the processor's save of a processed frame cost, through the
// store's own repositories and two connections as in the server (its connection without checkpoints, the
// processor's with them):
// - commit: `frames.insertPending` (the PENDING row, group-committed, then the WAL fsynced: what a 202 waits for);
// - save: what the processor's stages write for one frame: its OCR text (the full-text indexes by trigger) and the CJK
//   index, the stored image's row (its path switch, WAL fsynced), the vector, then COMPLETED.
// Wall time and this process's CPU time per frame (CPU leaves out the fsync waits). Run it at two history sizes and
// compare.
//   node --import tsx bench/write-growth.ts --data-dir /work/bench-fixtures/server-1m [--frames 300] [--words 300]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_MODEL } from '../src/ai/builtin-embeddings.js';
import { normalize } from '../src/ai/embedding-provider.js';
import { RULES_VERSION } from '../src/redaction/index.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { percentile, round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    frames: { type: 'string', default: '300' },
    words: { type: 'string', default: '300' },
    model: { type: 'string', default: BUILTIN_MODEL },
    // Where the copy is made (removed afterwards); default: beside the data dir.
    scratch: { type: 'string' },
  },
});
if (!values['data-dir']) throw new Error('--data-dir names a data dir holding a history (its db/recall.db is copied)');
const FRAMES = Number(values.frames);
const WORDS = Number(values.words);
const source = path.resolve(values['data-dir'], 'db', 'recall.db');
const dataDir = fs.mkdtempSync(path.join(values.scratch ?? path.dirname(path.resolve(values['data-dir'])), 'write-growth-'));
fs.mkdirSync(path.join(dataDir, 'db'));
fs.copyFileSync(source, path.join(dataDir, 'db', 'recall.db'));
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

let seed = 7;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const vocabulary = Array.from({ length: 20_000 }, (_, i) => `w${(i * 2654435761) % 1_000_003}x${i % 97}`);
const text = () => Array.from({ length: WORDS }, () => vocabulary[Math.floor(random() ** 2 * vocabulary.length)]).join(' ');

const file = path.join(dataDir, 'db', 'recall.db');
const server = openSqliteStore(file, { dataDir, checkpoints: false });
const processor = openSqliteStore(file, { dataDir });
const history = server.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
const lease = { workerId: 'bench-writer', seconds: 60 };
const cpuMs = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};
const figures: Record<string, number[]> = { commit: [], commit_cpu: [], save: [], save_cpu: [], text: [], image_row: [], vector: [], complete: [] };
const startedAt = loadavg();
const t0 = 1_800_000_000;
for (let i = 0; i < FRAMES; i++) {
  let cpu = process.cpuUsage();
  let at = performance.now();
  const { id } = await server.frames.insertPending({
    captureId: `write-growth-${i}`,
    timestamp: t0 + i,
    app: 'Firefox',
    title: `write growth ${i} - Firefox`,
    monitor: 0,
    imagePath: `screenshots/incoming/write-growth-${i}.png`,
    width: 1920,
    height: 1080,
    bytes: 150_000,
    receivedAt: t0 + i,
  });
  figures.commit!.push(performance.now() - at);
  figures.commit_cpu!.push(cpuMs(cpu));

  const claimed = await processor.frames.claimNext(0, lease);
  if (claimed?.entry.id !== id) throw new Error(`claimed ${claimed?.entry.id}, expected ${id}`);
  const words = text();
  const vector = normalize(Float32Array.from({ length: 512 }, () => random() * 2 - 1));
  cpu = process.cpuUsage();
  const start = performance.now();
  at = start;
  const step = (name: string) => {
    const now = performance.now();
    figures[name]!.push(now - at);
    at = now;
  };
  await processor.frames.saveResults(id, { text: words, redactions: JSON.stringify({ items: [] }) }, lease.workerId);
  await processor.cjkIndex.save(id, words);
  step('text');
  await processor.frames.saveResults(
    id,
    { image_path: `screenshots/2027/01/15/${id}.webp`, bytes: 80_000, width: 1920, height: 1080, redaction_version: RULES_VERSION },
    lease.workerId,
  );
  step('image_row');
  await processor.embeddings.save(id, values.model, vector);
  step('vector');
  if (!(await processor.frames.complete(id, lease.workerId))) throw new Error(`frame ${id} not completed`);
  step('complete');
  figures.save!.push(performance.now() - start);
  figures.save_cpu!.push(cpuMs(cpu));
}
await processor.close();
await server.close();
fs.rmSync(dataDir, { recursive: true, force: true });

const sorted = (list: number[]) => [...list].sort((a, b) => a - b);
const summary = Object.fromEntries(
  Object.entries(figures).map(([name, list]) => [
    name,
    {
      p50_ms: round(percentile(sorted(list), 50), 2),
      p99_ms: round(percentile(sorted(list), 99), 2),
      mean_ms: round(list.reduce((a, b) => a + b, 0) / list.length, 2),
    },
  ]),
);
console.log(
  JSON.stringify({ history_frames: history, frames_written: FRAMES, words: WORDS, ...summary, loadavg_before: startedAt, loadavg_after: loadavg() }, null, 1),
);

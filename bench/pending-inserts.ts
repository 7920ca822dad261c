// What grouping the PENDING rows of uploads in flight saves the server's CPU (issue 18): the SQLite store alone,
// `--concurrency` uploaders each inserting its next frame as soon as the last one is durable, with every row in its
// own transaction (maxBatch 1: what each upload cost before) and grouped (store/sqlite/pending-inserts.ts). The WAL
// is fsynced as in the server (grouped, wal-sync.ts). Interleaved runs, each on a new database.
//   node --import tsx bench/pending-inserts.ts [--rows 4000] [--concurrency 16] [--rounds 3]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/sqlite/database.js';
import { SqliteFramesRepository } from '../src/store/sqlite/frames-repository.js';
import { newFrame } from '../test/helpers/store-frames.js';
import { tempDir } from '../test/helpers/temp-dir.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '16' }, rounds: { type: 'string', default: '3' } },
});
const rows = Number(values.rows);
const concurrency = Number(values.concurrency);

async function run(maxBatch: number) {
  const dir = tempDir('openrecall-bench-pending-inserts-');
  const db = openDatabase(path.join(dir, 'db', 'recall.db'), { dataDir: dir });
  const frames = new SqliteFramesRepository(db, { maxBatch });
  const all = Array.from({ length: rows }, (_, i) => newFrame(1_750_000_000 + i, { title: `a window ${i % 50}` }));
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < rows) await frames.insertPending(all[next++]!);
    }),
  );
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await frames.closeDurable();
  const count = db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (count !== rows) throw new Error(`${count} rows, expected ${rows}`);
  return { cpuMs: (used.user + used.system) / 1000 / rows, wallMs: wallMs / rows };
}

const table: Array<Record<string, unknown>> = [];
await run(64); // warm-up
for (let round = 0; round < Number(values.rounds); round++) {
  for (const maxBatch of [1, 64]) {
    const r = await run(maxBatch);
    table.push({ round, rows_per_commit: maxBatch === 1 ? '1' : `≤${maxBatch}`, cpu_ms_per_row: r.cpuMs.toFixed(3), wall_ms_per_row: r.wallMs.toFixed(3) });
  }
}
console.table(table);
console.log(`rows ${rows}, ${concurrency} at once; load average: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);

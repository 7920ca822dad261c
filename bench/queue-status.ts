// What each figure of GET /api/queue/status costs on a database (the web UI asks every 5 s, on every page): the
// statements behind it, through the repositories, warm, median of 5 after one unmeasured call.
//   node --import tsx bench/queue-status.ts --db /work/bench-fixtures/search-1m-512-w300/db/recall.db
// Run it on a copy (cp the .db file alone): opening a database runs its migrations.
import { parseArgs } from 'node:util';
import { silentLogger } from '../src/log.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { RULES_VERSION } from '../src/redaction/index.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, runs: { type: 'string', default: '5' } } });
if (!values.db) throw new Error('--db FILE');
const store = openSqliteStore(values.db, { dataDir: '/nonexistent', log: silentLogger, checkpoints: false });
const model = (store.db.prepare('SELECT model FROM embeddings LIMIT 1').pluck().get() as string | undefined) ?? 'none';
const frames = store.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
const now = Date.now() / 1000;

const figures: Record<string, () => Promise<unknown>> = {
  'counts by status': () => store.frames.counts(),
  'done in the last minute': () => store.frames.completedSince(now - 60),
  'done in the last 5 minutes': () => store.frames.completedSince(now - 300),
  'oldest pending': () => store.frames.oldestPendingReceivedAt(),
  'without a vector': () => store.embeddings.missingCount(model),
  'without a description (VLM on)': () => store.frames.completedWithoutDescription(),
  'not redacted by these rules': () => store.frames.unredacted(RULES_VERSION),
  'compaction candidates': () => store.compaction.countCandidates(Number.POSITIVE_INFINITY),
  'oldest frame': () => store.storage.oldestTimestamp(),
};
const result: Record<string, number> = {};
for (const [name, figure] of Object.entries(figures)) {
  await figure();
  const ms: number[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const t = performance.now();
    await figure();
    ms.push(performance.now() - t);
  }
  result[name] = Math.round(ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]! * 100) / 100;
}
console.log(
  JSON.stringify(
    {
      frames,
      model,
      median_ms: result,
      loadavg: (await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    null,
    1,
  ),
);
store.db.close();

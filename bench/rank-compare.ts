// Compares the answers of two bench/search.ts runs (--dump files) on the same fixture, e.g. FTS5's rank (before) and
// openrecall_bm25 (after, issue 24), answer by answer: the same frames in the same order with the same scores and
// total, or how many of the top 10 (and 20) they share. Each query is put with the largest number of matches of a
// phrase of its word-index expression (true counts, every match visited) so that answers can be split into those
// whose every phrase has at most the cap of matches (expected identical) and the others.
//   node --import tsx bench/rank-compare.ts --fixture DIR --before FILE --after FILE [--cap 20000]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseQuery } from '../src/search/query-parser.js';
import { hasBm25Extension } from '../src/store/sqlite/bm25-extension.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import { wordIndexExpression } from '../src/store/sqlite/fts5-query.js';
import { RANK_COUNT_CAP } from '../src/store/sqlite/search-repository.js';
import { round } from './fixtures.js';

const { values } = parseArgs({
  options: { fixture: { type: 'string' }, before: { type: 'string' }, after: { type: 'string' }, cap: { type: 'string', default: String(RANK_COUNT_CAP) } },
});
if (!values.fixture || !values.before || !values.after) throw new Error('--fixture DIR --before FILE --after FILE');
const cap = Number(values.cap);
const dataDir = path.resolve(values.fixture);
const db = openDatabase(path.join(dataDir, 'db', 'recall.db'), { dataDir, readonly: true });
if (!hasBm25Extension(db)) throw new Error('openrecall_bm25 did not load: npm run build');

interface Answer {
  mode: string;
  kind: string;
  q: string;
  filters: unknown;
  total: number;
  results: Array<{ id: number; score: number }>;
}
const read = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Answer);
const before = read(values.before);
const after = read(values.after);
if (before.length !== after.length) throw new Error(`${before.length} answers before, ${after.length} after`);

/** The largest true number of matches of a phrase of the query's word-index expression. */
const largest = new Map<string, number>();
const phraseMatches = (q: string) => {
  if (largest.has(q)) return largest.get(q)!;
  const expression = wordIndexExpression(parseQuery(q));
  let most = 0;
  if (expression) {
    const count = db.prepare('SELECT openrecall_bm25_hits(entries_fts, ?) FROM entries_fts WHERE entries_fts MATCH ? LIMIT 1').pluck();
    for (let i = 0; ; i++) {
      let n: number | undefined;
      try {
        n = count.get(BigInt(i), expression) as number | undefined;
      } catch {
        break; // no such phrase: all counted
      }
      if (n === undefined) break; // nothing matches the query
      most = Math.max(most, n);
    }
  }
  largest.set(q, most);
  return most;
};

const report: Record<string, Record<string, unknown>> = {};
for (const [i, a] of before.entries()) {
  const b = after[i]!;
  if (a.q !== b.q || a.mode !== b.mode || JSON.stringify(a.filters) !== JSON.stringify(b.filters)) throw new Error(`answer ${i}: not the same search`);
  const group = `${a.mode}, ${phraseMatches(a.q) > cap ? `a phrase with more than ${cap} matches` : `every phrase at most ${cap} matches`}`;
  const r = (report[group] ??= {
    searches: 0,
    identical: 0,
    same_frames_in_order: 0,
    top10_overlap: [] as number[],
    top20_overlap: [] as number[],
    differing: [],
  });
  (r.searches as number)++;
  const ids = (x: Answer, n: number) => x.results.slice(0, n).map((h) => h.id);
  const sameOrder = JSON.stringify(ids(a, 1e9)) === JSON.stringify(ids(b, 1e9));
  if (sameOrder) (r.same_frames_in_order as number)++;
  if (sameOrder && a.total === b.total && a.results.every((h, j) => h.score === b.results[j]!.score)) (r.identical as number)++;
  else if ((r.differing as unknown[]).length < 5) (r.differing as unknown[]).push({ kind: a.kind, q: a.q, most_matches: phraseMatches(a.q) });
  const overlap = (n: number) => {
    const x = new Set(ids(a, n));
    const y = ids(b, n);
    return x.size === 0 && y.length === 0 ? 1 : y.filter((id) => x.has(id)).length / Math.max(x.size, y.length);
  };
  (r.top10_overlap as number[]).push(overlap(10));
  (r.top20_overlap as number[]).push(overlap(20));
}
for (const r of Object.values(report)) {
  for (const key of ['top10_overlap', 'top20_overlap']) {
    const xs = r[key] as number[];
    r[key] = { mean: round(xs.reduce((s, x) => s + x, 0) / xs.length, 3), min: round(Math.min(...xs), 3) };
  }
}
console.log(JSON.stringify({ benchmark: 'rank-compare', cap, before: values.before, after: values.after, groups: report }, null, 2));
db.close();

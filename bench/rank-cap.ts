// The cap of openrecall_bm25 (native/openrecall_bm25.c, issue 24): what ranking the RANK_WINDOW most recent matches
// costs with FTS5's bm25 (every match of each phrase counted) and with each cap, and how far the estimated counts of
// phrases above the cap are from their true counts, on a bench/search.ts fixture.
//   node --import tsx bench/rank-cap.ts --fixture /work/bench-fixtures/search-1m-512-w300 [--caps 5000,10000,20000,50000]
//     [--frames-sampled 40] [--runs 5]
// Terms: the distinct words of a few frames spread over the fixture, and phrases of two adjacent words of theirs; the
// true count of each is openrecall_bm25_hits without bounds (every match visited). Timings: CPU of the statement
// search-repository.ts runs (the window of the 2 000 most recent matches, scored), median of --runs, per query kind.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/sqlite/database.js';
import { hasBm25Extension } from '../src/store/sqlite/bm25-extension.js';
import { RANK_WINDOW } from '../src/store/sqlite/search-repository.js';
import { percentile, round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    fixture: { type: 'string' },
    caps: { type: 'string', default: '5000,10000,20000,50000' },
    'frames-sampled': { type: 'string', default: '40' },
    runs: { type: 'string', default: '5' },
  },
});
if (!values.fixture) throw new Error('--fixture DIR (a bench/search.ts fixture)');
const dataDir = path.resolve(values.fixture);
const db = openDatabase(path.join(dataDir, 'db', 'recall.db'), { dataDir, readonly: true });
if (!hasBm25Extension(db)) throw new Error('openrecall_bm25 did not load: npm run build');
const caps = values.caps.split(',').map(Number);
const runs = Number(values.runs);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const loadavg = () => (fs.existsSync('/proc/loadavg') ? fs.readFileSync('/proc/loadavg', 'utf8').trim() : '');

const { low, high, rows } = db.prepare('SELECT min(id) AS low, max(id) AS high, count(*) AS rows FROM entries').get() as {
  low: number;
  high: number;
  rows: number;
};
const sampled = Number(values['frames-sampled']);
const texts = db
  .prepare('SELECT text FROM entries WHERE id IN (SELECT value FROM json_each(?))')
  .pluck()
  .all(JSON.stringify(Array.from({ length: sampled }, (_, i) => low + Math.floor(((high - low) * (i + 0.5)) / sampled)))) as string[];
const words = [...new Set(texts.flatMap((t) => t.split(/\s+/)))];
const pairs = [...new Set(texts.flatMap((t) => t.split(/\s+/).flatMap((w, i, all) => (i + 1 < all.length ? [`"${w} ${all[i + 1]}"`] : []))))];

const hits = (expression: string, limits = '') =>
  db.prepare(`SELECT openrecall_bm25_hits(entries_fts, 0${limits}) FROM entries_fts WHERE entries_fts MATCH ? LIMIT 1`).pluck().get(expression) as number;
const idf = (n: number) => Math.max(1e-6, Math.log((rows - n + 0.5) / (n + 0.5)));

// True counts: every word of the sample (most are rare), and a random few hundred of the pairs.
console.error(`counting ${words.length} words and pairs exactly; loadavg ${loadavg()}`);
const counted = new Map<string, number>();
for (const w of words) counted.set(w, hits(w));
const pairSample = pairs.filter((_, i) => i % Math.max(1, Math.floor(pairs.length / 400)) === 0);
for (const p of pairSample) counted.set(p, hits(p));

/** Estimate errors of the terms above each cap: relative error of the count, absolute error of the IDF. */
const errors = Object.fromEntries(
  caps.map((cap) => {
    const above = [...counted].filter(([, n]) => n > cap);
    const countErr: number[] = [];
    const idfErr: number[] = [];
    let worst: Record<string, string | number> = {};
    for (const [term, exact] of above) {
      const estimate = hits(term, `, ${low}, ${high}, ${cap}`);
      const e = Math.abs(estimate - exact) / exact;
      countErr.push(e);
      idfErr.push(Math.abs(idf(estimate) - idf(exact)));
      if (e >= Math.max(...countErr)) worst = { term, exact, estimate, idf: round(idf(exact), 5), estimated_idf: round(idf(estimate), 5) };
    }
    const s = (xs: number[]) => [...xs].sort((a, b) => a - b);
    return [
      cap,
      {
        terms_above_cap: above.length,
        count_error_pct: { p50: round(100 * percentile(s(countErr), 50), 3), max: round(100 * Math.max(0, ...countErr), 3) },
        // The IDF's absolute error (an IDF is 0-2.3 for a phrase in more than 10 % of the rows, 1e-6 past half).
        idf_error: { p50: round(percentile(s(idfErr), 50), 5), max: round(Math.max(0, ...idfErr), 5) },
        worst,
      },
    ];
  }),
);

// Timed queries: words and pairs by their share of frames, as the search ranks them.
const byShare = (share: number, from: Map<string, number>, isPair: boolean) =>
  [...from].filter(([t]) => t.startsWith('"') === isPair).sort((a, b) => Math.abs(a[1] / rows - share) - Math.abs(b[1] / rows - share))[0]!;
const timed: Array<[string, string]> = [];
for (const share of [1, 0.8, 0.5, 0.2, 0.05, 0.02]) {
  const [w, n] = byShare(share, counted, false);
  timed.push([`word in ${round((100 * n) / rows, 1)} %`, w]);
}
for (const share of [0.3, 0.1, 0.03]) {
  const [p, n] = byShare(share, counted, true);
  timed.push([`phrase in ${round((100 * n) / rows, 1)} %`, p]);
}
const common = [...counted].filter(([t]) => !t.startsWith('"')).sort((a, b) => b[1] - a[1]);
timed.push(['two common words', `${common[0]![0]} ${common[3]![0]}`]);
timed.push(['common word NOT a common word', `${common[1]![0]} NOT ${common[2]![0]}`]);
timed.push(['prefix', `${common[5]![0].slice(0, 3)}*`]);

const statement = (score: string) =>
  db.prepare(`SELECT f.rowid AS id, ${score} AS score FROM entries_fts f WHERE entries_fts MATCH ? ORDER BY f.rowid DESC LIMIT ${RANK_WINDOW}`);
const scores: Array<[string, string]> = [
  ['rank (bm25, every match)', '-f.rank'],
  ['no score', '0'],
  ...caps.map((cap) => [`cap ${cap}`, `-openrecall_bm25(entries_fts, 1.0, 0.8, 0.4, 0.6, ${low}, ${high}, ${cap})`] as [string, string]),
];
console.error(`timing; loadavg ${loadavg()}`);
const timings: Record<string, Record<string, number>> = {};
for (const [kind, q] of timed) {
  timings[`${kind}: ${q}`] = {};
  const prepared = scores.map(([name, score]) => [name, statement(score)] as const);
  for (const [, s] of prepared) s.all(q); // warm
  const samples = new Map<string, number[]>(prepared.map(([name]) => [name, []]));
  for (let r = 0; r < runs; r++)
    for (const [name, s] of prepared) {
      const start = cpu();
      s.all(q);
      samples.get(name)!.push(cpu() - start);
    }
  for (const [name, xs] of samples)
    timings[`${kind}: ${q}`]![name] = round(
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      ),
      2,
    );
}
console.log(JSON.stringify({ benchmark: 'rank-cap', rows, terms_counted: counted.size, errors, cpu_ms_median: timings, loadavg_after: loadavg() }, null, 2));
db.close();

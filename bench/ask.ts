// Ask's own overhead, without the model: retrieval (time phrase, hybrid-or-keyword search grouped into
// moments, per-word fill-up), reading the frames' text and building the labelled, fenced prompt, for questions
// over N synthetic frames (200 words each from a 3 000-word vocabulary, runs of near-identical frames). The
// chat model's own time is not included: that is the model's, not OpenRecall's.
//   node --import tsx bench/ask.ts [--frames 20000] [--questions 200]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SearchService } from '../src/search/search-service.js';
import { AskService } from '../src/services/ask-service.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import { SqliteSearchRepository } from '../src/store/sqlite/search-repository.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { percentile, round } from './fixtures.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '20000' }, questions: { type: 'string', default: '200' } } });
const FRAMES = Number(values.frames);
const QUESTIONS = Number(values.questions);

let seed = 7;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ro', 'sa', 'tu', 've', 'zi', 'po', 'da', 'fe', 'gu', 'hi', 'ju'];
const vocabulary = Array.from({ length: 3000 }, (_, i) => {
  let word = '';
  for (let n = i + 1; n > 0; n = Math.floor(n / SYLLABLES.length)) word += SYLLABLES[n % SYLLABLES.length];
  return `${word}${SYLLABLES[i % 7]}`;
});
// Roughly Zipf: low indexes are common words.
const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 2.5)]!;
const APPS = ['Firefox', 'Terminal', 'Code', 'Slack', 'Mail', 'Calendar', 'Writer'];

const dataDir = tempDir('openrecall-bench-ask-');
const db = openDatabase(path.join(dataDir, 'db', 'recall.db'), { dataDir });
const insert = db.prepare(`INSERT INTO entries (timestamp, app, title, text, status, image_path, received_at, attempts, processing_finished_at)
  VALUES (?, ?, ?, ?, 'COMPLETED', ?, ?, 1, ?)`);
const now = Math.floor(Date.now() / 1000);
const t0 = now - 3 * 86_400;
const started = performance.now();
db.transaction(() => {
  let text = '';
  let app = APPS[0]!;
  let title = '';
  for (let i = 0; i < FRAMES; i++) {
    // A new screen every few frames; in between the same window with the same text (a document being read).
    if (i % 5 === 0 || random() < 0.3) {
      text = Array.from({ length: 200 }, word).join(' ');
      app = APPS[Math.floor(random() * APPS.length)]!;
      title = `${word()} ${word()} - ${app}`;
    }
    const timestamp = t0 + Math.floor((i * (3 * 86_400)) / FRAMES);
    insert.run(timestamp, app, title, text, `screenshots/${i}.webp`, timestamp, timestamp);
  }
})();
const seedSeconds = (performance.now() - started) / 1000;

const repo = new SqliteSearchRepository(db);
const ask = new AskService(new SearchService(repo), repo, undefined, { contextTokens: 3000 });
const PHRASES = ['', ' yesterday', ' this morning', ' in the last 2 hours', ' today'];
const times: number[] = [];
let considered = 0;
for (let i = 0; i < QUESTIONS; i++) {
  const question = `What did I read about ${word()} and ${word()}${PHRASES[i % PHRASES.length]}?`;
  const t = performance.now();
  const context = await ask.context({ question });
  times.push(performance.now() - t);
  considered += context.frames_considered;
}
times.sort((a, b) => a - b);
console.log(
  JSON.stringify(
    {
      benchmark: 'ask-overhead',
      frames: FRAMES,
      questions: QUESTIONS,
      seed_seconds: round(seedSeconds, 1),
      mean_frames_considered: round(considered / QUESTIONS, 1),
      ms: { p50: round(percentile(times, 50), 2), p95: round(percentile(times, 95), 2), max: round(times.at(-1)!, 2) },
      goal: 'p95 <= 150 ms',
      loadavg: (await import('node:os')).loadavg().map((x) => round(x, 2)),
    },
    null,
    2,
  ),
);
db.close();

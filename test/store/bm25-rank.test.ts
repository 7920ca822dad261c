// Keyword ranking at a year of memory (issue 24): openrecall_bm25 (native/openrecall_bm25.c, loaded by openDatabase)
// scores as FTS5's bm25 with the same weights, but counts each phrase's matches only up to a cap and estimates a
// larger count, where bm25 visits every match of every phrase once per statement. Below the cap its scores and the
// search's answers are bm25's; above it the count is estimated within a stated tolerance without visiting every match.
// Built by `npm run build` (scripts/build-native.mjs): these tests fail when it could not be built.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DATABASE_CIPHERS, type DatabaseKey } from '../../src/encryption/data-key.js';
import { parseQuery } from '../../src/search/query-parser.js';
import type { SearchFilters } from '../../src/store/ports.js';
import { BM25_EXTENSION_FILE, hasBm25Extension } from '../../src/store/sqlite/bm25-extension.js';
import type { Db } from '../../src/store/sqlite/database.js';
import { RANK_COUNT_CAP, SqliteSearchRepository } from '../../src/store/sqlite/search-repository.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { tempDir } from '../helpers/temp-dir.js';

const WEIGHTS = '1.0, 0.8, 0.4, 0.6';

function openStore(dataDir: string, options: { databaseKey?: DatabaseKey; bm25Extension?: string | false } = {}): SqliteStore {
  return openSqliteStore(path.join(dataDir, 'db', 'recall.db'), { dataDir, ...options });
}

/** `count` completed frames of words drawn with skewed frequencies, in every indexed column (text, description, app, title). */
function addFrames(db: Db, count: number, seed: number): void {
  const random = seededRandom(seed);
  const vocabulary = ['alpha', 'budget', 'invoice', 'ledger', 'meeting', 'quokka', 'roadmap', 'salary', 'travel', 'zebra', 'pixel', 'kayak'];
  const word = () => vocabulary[Math.min(vocabulary.length - 1, Math.floor(vocabulary.length * random() ** 2))]!;
  const words = (n: number) => Array.from({ length: n }, word).join(' ');
  const insert = db.prepare(`INSERT INTO entries (timestamp, app, title, text, description, status, image_path, received_at, attempts, processing_finished_at)
    VALUES (?, ?, ?, ?, ?, 'COMPLETED', ?, ?, 1, ?)`);
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const t = 1_700_000_000 + i * 10;
      const description = i % 3 === 0 ? words(1 + Math.floor(random() * 6)) : null;
      insert.run(t, `App${word()}`, `${words(2)} - window`, words(5 + Math.floor(random() * 40)), description, `screenshots/${i}.webp`, t, t);
    }
  })();
}

/** Queries of every shape the word index gets: words, phrases, prefixes, NOT, OR, column filters. */
const EXPRESSIONS = [
  'alpha',
  'zebra',
  'kayak',
  'budget ledger',
  '"budget ledger"',
  '"alpha alpha"',
  'inv*',
  'sal* travel',
  'alpha NOT zebra',
  'quokka OR pixel',
  '{title} : roadmap',
  '{description} : meeting',
  '{title text} : "travel salary"',
  'NEAR(alpha kayak, 3)',
];

const scores = (db: Db, expression: string, score: string) =>
  db.prepare(`SELECT rowid AS id, ${score} AS score FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rowid`).all(expression) as Array<{
    id: number;
    score: number;
  }>;

describe('openrecall_bm25 (keyword ranking with capped match counts)', () => {
  it('is built and loaded on the connections openDatabase opens; SQL still cannot load an extension', async () => {
    assert.ok(fs.existsSync(BM25_EXTENSION_FILE), `${BM25_EXTENSION_FILE} is built by npm run build (a C compiler is needed)`);
    const store = openStore(tempDir());
    try {
      assert.equal(hasBm25Extension(store.db), true);
      assert.throws(() => store.db.prepare('SELECT load_extension(?)').get(BM25_EXTENSION_FILE), /not authorized/);
      assert.throws(() => store.db.prepare('SELECT load_extension(?, ?)').get(BM25_EXTENSION_FILE, 'sqlite3_openrecallbm_init'), /not authorized/);
    } finally {
      await store.close();
    }
  });

  it("scores every kind of query exactly as bm25 with the table's weights while each phrase has at most the cap of matches", async () => {
    const store = openStore(tempDir());
    try {
      addFrames(store.db, 600, 7);
      const bounds = '(SELECT min(id) FROM entries), (SELECT max(id) FROM entries)';
      for (const expression of EXPRESSIONS) {
        const expected = scores(store.db, expression, `bm25(entries_fts, ${WEIGHTS})`);
        assert.ok(expected.length > 0, `${expression} matches`);
        const rank = scores(store.db, expression, 'rank');
        for (const score of [`openrecall_bm25(entries_fts, ${WEIGHTS})`, `openrecall_bm25(entries_fts, ${WEIGHTS}, ${bounds}, ${RANK_COUNT_CAP})`]) {
          const got = scores(store.db, expression, score);
          assert.deepEqual(
            got.map((r) => r.id),
            expected.map((r) => r.id),
          );
          for (const [i, row] of got.entries()) {
            assert.ok(Math.abs(row.score - expected[i]!.score) <= 1e-9 * Math.abs(expected[i]!.score), `${expression}: ${row.score} vs ${expected[i]!.score}`);
            assert.equal(rank[i]!.score, expected[i]!.score); // the persisted rank is bm25 with these weights
          }
        }
      }
      // The other tables' rank: bm25 with FTS5's default weights (1.0 a column).
      const trigram = (score: string) =>
        store.db.prepare(`SELECT ${score} FROM entries_trigram WHERE entries_trigram MATCH 'edge' ORDER BY rowid`).pluck().all() as number[];
      const plain = trigram('rank');
      assert.ok(plain.length > 0);
      for (const [i, s] of trigram(`openrecall_bm25(entries_trigram, 1.0, 1.0, 1.0, 1, 1000000, ${RANK_COUNT_CAP})`).entries())
        assert.ok(Math.abs(s - plain[i]!) <= 1e-9 * Math.abs(plain[i]!));
    } finally {
      await store.close();
    }
  });

  it('gives the same keyword answers as FTS5 rank (a connection without the extension) below the cap, word, substring and CJK matches', async () => {
    const dataDir = tempDir();
    const store = openStore(dataDir);
    const fallback = openStore(dataDir, { bm25Extension: false });
    try {
      addFrames(store.db, 600, 11);
      // A CJK frame (the bigram index, as the OCR stage writes it) and titles only substrings find.
      const cjk = store.db
        .prepare(
          `INSERT INTO entries (timestamp, app, title, text, status, image_path, received_at, attempts) VALUES (1, 'Writer', 'docs', ?, 'COMPLETED', 'x', 1, 1)`,
        )
        .run('系统设计文档 review').lastInsertRowid;
      await store.cjkIndex.save(Number(cjk), '系统设计文档 review');
      assert.equal(hasBm25Extension(store.db), true);
      assert.equal(hasBm25Extension(fallback.db), false);
      const capped = new SqliteSearchRepository(store.db);
      const plain = new SqliteSearchRepository(fallback.db);
      const filters: SearchFilters[] = [{}, { app: 'Appalpha' }, { window: 'budget' }, { start: 1_700_000_000 + 3000 }];
      let substring = 0;
      let cjkHits = 0;
      for (const q of [...EXPRESSIONS.filter((e) => !e.includes('{') && !e.startsWith('NEAR')), 'ledg', 'dget', '设计', 'indow', 'alpha -zebra']) {
        for (const f of filters) {
          for (const sort of ['relevance', 'time'] as const) {
            const a = await capped.keyword(parseQuery(q), f, sort, 50);
            const b = await plain.keyword(parseQuery(q), f, sort, 50);
            assert.equal(a.total, b.total, q);
            assert.deepEqual(
              a.candidates.map((c) => [c.id, c.source]),
              b.candidates.map((c) => [c.id, c.source]),
              q,
            );
            for (const [i, c] of a.candidates.entries()) assert.ok(Math.abs(c.score - b.candidates[i]!.score) <= 1e-9 * Math.abs(b.candidates[i]!.score), q);
            substring += a.candidates.filter((c) => c.source === 'substring').length;
            cjkHits += a.candidates.filter((c) => c.source === 'cjk').length;
          }
        }
      }
      assert.ok(substring > 0, 'trigram matches were ranked');
      assert.ok(cjkHits > 0, 'CJK matches were ranked');
    } finally {
      await fallback.close();
      await store.close();
    }
  });

  it('stops counting a phrase at the cap and estimates its matches within 4 / sqrt(cap) (2.8 % at 20 000), and ranks with that estimate', async () => {
    const store = openStore(tempDir());
    const { db } = store;
    try {
      // A table of its own (the function serves any FTS5 table): 60 000 rows, `every` in each, `half` in about one
      // of two, `tenth` in one of ten, `rare` in one of 500, the oldest 1 000 ids deleted (a range starting past 1).
      db.exec(`CREATE VIRTUAL TABLE temp.t USING fts5(body)`);
      const random = seededRandom(3);
      const insert = db.prepare('INSERT INTO t (rowid, body) VALUES (?, ?)');
      db.transaction(() => {
        for (let id = 1; id <= 60_000; id++) {
          const words = ['every', random() < 0.5 ? 'half' : 'other', random() < 0.1 ? 'tenth' : 'filler', random() < 0.002 ? 'rare' : 'none'];
          insert.run(id, words.join(' '));
        }
        db.exec('DELETE FROM t WHERE rowid <= 1000');
      })();
      const visits = () => db.prepare('SELECT openrecall_bm25_visits()').pluck().get() as number;
      const hits = (word: string, limits: string) => {
        const before = visits();
        const count = db.prepare(`SELECT openrecall_bm25_hits(t, 0${limits}) FROM t WHERE t MATCH ? LIMIT 1`).pluck().get(word) as number;
        return { count, visited: visits() - before };
      };
      const bounds = ', (SELECT min(rowid) FROM t), (SELECT max(rowid) FROM t)';
      for (const [word, cap] of [
        ['every', RANK_COUNT_CAP],
        ['half', RANK_COUNT_CAP],
        ['half', 2000],
        ['tenth', 2000],
        ['tenth', 500],
        ['rare', 50],
      ] as const) {
        const exact = hits(word, '');
        assert.equal(exact.visited, exact.count, 'without bounds, every match is visited');
        const estimated = hits(word, `${bounds}, ${cap}`);
        assert.ok(exact.count > cap, `${word}: more matches (${exact.count}) than the cap (${cap})`);
        assert.equal(estimated.visited, cap + 1, `${word}: the walk stops after cap + 1 matches`);
        // The density of the first cap + 1 matches estimates the phrase's share of rows with a relative standard
        // error of sqrt((1 - share) / (cap + 1)) < 1 / sqrt(cap): four of them at most (2.8 % at the cap of 20 000).
        const error = Math.abs(estimated.count - exact.count) / exact.count;
        const tolerance = 4 / Math.sqrt(cap);
        assert.ok(error <= tolerance, `${word} (cap ${cap}): ${estimated.count} estimated, ${exact.count} true (${(100 * error).toFixed(2)} %)`);
        if (word === 'every') assert.equal(estimated.count, exact.count); // every row: the estimate is the row count
      }
      // A word below the cap is counted exactly, the walk ends at its last match.
      const tenth = hits('tenth', `${bounds}, ${RANK_COUNT_CAP}`);
      assert.equal(tenth.count, hits('tenth', '').count);
      assert.equal(tenth.visited, tenth.count);

      // Ranking: the capped score is bm25 with the estimated IDF (here `half` and `tenth` in one query, cap 2 000).
      const query = 'half tenth';
      const before = visits();
      const capped = db
        .prepare(`SELECT rowid AS id, openrecall_bm25(t, 1.0${bounds}, 2000) AS s FROM t WHERE t MATCH ? ORDER BY rowid DESC LIMIT 2000`)
        .all(query) as Array<{ id: number; s: number }>;
      assert.equal(visits() - before, 2 * 2001, 'both phrases counted once for the statement, each up to the cap');
      const exact = db.prepare(`SELECT rowid AS id, bm25(t) AS s FROM t WHERE t MATCH ? ORDER BY rowid DESC LIMIT 2000`).all(query) as Array<{
        id: number;
        s: number;
      }>;
      assert.deepEqual(
        capped.map((r) => r.id),
        exact.map((r) => r.id),
      );
      for (const [i, r] of capped.entries()) assert.ok(Math.abs(r.s - exact[i]!.s) <= 0.02 * Math.abs(exact[i]!.s), `${r.s} vs ${exact[i]!.s}`);
    } finally {
      await store.close();
    }
  });

  for (const cipher of DATABASE_CIPHERS)
    it(`loads on an encrypted database (${cipher}) and ranks as bm25`, async () => {
      const dataDir = tempDir();
      const databaseKey: DatabaseKey = { key: crypto.randomBytes(32), cipher };
      let store = openStore(dataDir, { databaseKey });
      addFrames(store.db, 200, 5);
      await store.close();
      store = openStore(dataDir, { databaseKey });
      try {
        assert.equal(hasBm25Extension(store.db), true);
        assert.equal(store.db.pragma('cipher', { simple: true }), cipher === 'aegis-256-raw-key' ? 'aegis' : 'sqlcipher');
        const expected = scores(store.db, 'budget', `bm25(entries_fts, ${WEIGHTS})`);
        const got = scores(store.db, 'budget', `openrecall_bm25(entries_fts, ${WEIGHTS}, 1, 1000, ${RANK_COUNT_CAP})`);
        assert.ok(expected.length > 0);
        assert.deepEqual(got, expected);
        const { candidates } = await store.search.keyword(parseQuery('budget'), {}, 'relevance', 20);
        assert.equal(candidates.length, 20);
      } finally {
        await store.close();
      }
    });

  it('falls back to FTS5 rank when the extension file is absent', async () => {
    const dataDir = tempDir();
    const logged: string[] = [];
    const store = openSqliteStore(path.join(dataDir, 'db', 'recall.db'), {
      dataDir,
      bm25Extension: path.join(dataDir, 'no-such-extension.so'),
      log: (m) => logged.push(m),
    });
    try {
      assert.equal(hasBm25Extension(store.db), false);
      assert.throws(() => store.db.prepare(`SELECT openrecall_bm25(entries_fts) FROM entries_fts WHERE entries_fts MATCH 'x'`).all(), /no such function/);
      addFrames(store.db, 100, 9);
      const { candidates, total } = await store.search.keyword(parseQuery('budget'), {}, 'relevance', 10);
      assert.ok(total > 0);
      const rank = new Map(scores(store.db, 'budget', '-rank').map((r) => [r.id, r.score]));
      for (const c of candidates) assert.equal(c.score, rank.get(c.id));
    } finally {
      await store.close();
    }
    // A file that is not an extension: logged, and the store still opens (and ranks with FTS5 rank).
    const bogus = path.join(dataDir, 'bogus.so');
    fs.writeFileSync(bogus, 'not a shared library');
    const other = openSqliteStore(path.join(dataDir, 'db', 'recall.db'), { dataDir, bm25Extension: bogus, log: (m) => logged.push(m) });
    try {
      assert.equal(hasBm25Extension(other.db), false);
      assert.ok((await other.search.keyword(parseQuery('budget'), {}, 'relevance', 10)).total > 0);
    } finally {
      await other.close();
    }
    assert.equal(logged.filter((m) => m.includes('did not load')).length, 1, logged.join('\n'));
  });
});

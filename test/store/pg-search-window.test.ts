import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { parseQuery } from '../../src/search/query-parser.js';
import { COUNT_CAP, type SearchFilters } from '../../src/store/ports.js';
import { RANK_WINDOW } from '../../src/store/postgres/pg-search-repository.js';
import { openPgSearchFixture, type PgSearchFixture, recordingSearch } from './pg-search-fixture.js';

const ROWS = 40_000;

/**
 * Frame i (1-based, newest last) reads "fifth" (1–3 times, so ranks differ) when i is a multiple of 5: a fifth of
 * the frames, too many to read every match's row and too few to walk the key; "archaic" in the oldest 8 000
 * frames only; a filler word of seven, so that documents differ in length. Apps alternate Mail and Editor.
 */
async function fill(pool: pg.Pool): Promise<void> {
  await pool.query(
    `INSERT INTO entries (timestamp, status, app, title, text, image_path)
     SELECT 1700000000 + i, 'COMPLETED', CASE WHEN i % 2 = 0 THEN 'Mail' ELSE 'Editor' END, 'Window ' || i,
       'screen filler' || (i % 7) || ' '
         || CASE WHEN i % 5 = 0 THEN repeat('fifth ', 1 + (i / 5) % 3) ELSE '' END
         || CASE WHEN i <= 8000 THEN 'archaic' ELSE '' END,
       'screenshots/x.webp'
     FROM generate_series(1, $1::int) i`,
    [ROWS],
  );
  await pool.query('ANALYZE entries');
}

describe(`PostgreSQL rank window at ${ROWS} frames`, () => {
  let fixture: PgSearchFixture;
  before(async () => {
    fixture = await openPgSearchFixture();
    await fill(fixture.pool);
  });
  after(() => fixture?.cleanup());

  /** What the search must answer: the RANK_WINDOW newest matches, ranked as the repository ranks them. */
  async function expected(word: string, sort: 'relevance' | 'time', app?: string) {
    const where = `e.search_words @@ to_tsquery('openrecall_words', $1) AND e.status = 'COMPLETED'${app ? ' AND lower(e.app) = lower($2)' : ''}`;
    const values = app ? [word, app] : [word];
    const { rows } = await fixture.pool.query<{ id: string }>(
      `WITH w AS MATERIALIZED (SELECT e.id FROM entries e WHERE ${where} ORDER BY e.id DESC LIMIT ${RANK_WINDOW})
       SELECT e.id FROM w JOIN entries e ON e.id = w.id
       ORDER BY ${sort === 'time' ? 'e.timestamp DESC, e.id DESC' : `ts_rank_cd('{0.4, 0.6, 0.8, 1.0}'::float4[], e.search_words, to_tsquery('openrecall_words', $1), 33) DESC, e.id DESC`}
       LIMIT 20`,
      values,
    );
    const { rows: count } = await fixture.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM entries e WHERE ${where}`, values);
    return { ids: rows.map((r) => Number(r.id)), total: Math.min(COUNT_CAP, count[0]!.n) };
  }

  async function search(word: string, sort: 'relevance' | 'time', filters: SearchFilters = {}) {
    const { statements, repository } = recordingSearch(fixture.pool);
    const result = await repository.keyword(parseQuery(word), filters, sort, 20);
    return { ids: result.candidates.map((c) => c.id), total: result.total, statements };
  }

  const bounded = (statements: Array<{ sql: string; values?: unknown[] }>) => statements.find((s) => /e\.id >= \$\d+::int8/.test(s.sql));

  /** The plan of a bounded window as the repository runs it (plain index scans off). */
  async function analyzed(statement: { sql: string; values?: unknown[] }): Promise<string> {
    const client = await fixture.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ANALYZE ${statement.sql}`, statement.values);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('COMMIT');
      client.release();
    }
  }

  it('reads only the newest matches of a word in a fifth of the frames, and answers as if it read them all', async () => {
    for (const sort of ['relevance', 'time'] as const) {
      const { ids, total, statements } = await search('fifth', sort);
      assert.deepEqual({ ids, total }, await expected('fifth', sort), sort);
      const statement = bounded(statements);
      assert.ok(statement, `no bounded window among:\n${statements.map((s) => s.sql).join('\n')}`);
      const plan = await analyzed(statement);
      assert.doesNotMatch(plan, /Index Scan using entries_pkey/, plan);
      const read = Number(/Bitmap Heap Scan on entries \w+ .*rows=(\d+)/.exec(plan)?.[1]);
      // 8 000 frames match; the window needs 2 000 of them.
      assert.ok(read >= RANK_WINDOW && read <= 2.5 * RANK_WINDOW, plan);
    }
  });

  it('reads further back when the newest frames hold too few matches (a word of the oldest frames only)', async () => {
    for (const sort of ['relevance', 'time'] as const) {
      const { ids, total, statements } = await search('archaic', sort);
      const want = await expected('archaic', sort);
      assert.deepEqual({ ids, total }, want, sort);
      assert.ok(ids.every((id) => id <= 8000) && ids.length === 20, `${ids}`);
      assert.ok(bounded(statements), 'the estimate (a fifth of the frames) should have tried the newest ids first');
    }
  });

  it('ranks a window in the statement that reads it: the row of each match is read once, never looked up again by key', async () => {
    // A filler word is in a seventh of the frames (5 714): its window is sorted from the word index's bitmap.
    for (const sort of ['relevance', 'time'] as const) {
      const { ids, total, statements } = await search('filler3', sort);
      assert.deepEqual({ ids, total }, await expected('filler3', sort), sort);
      const ranked = statements.find((s) => /ts_rank_cd/.test(s.sql));
      assert.ok(ranked, statements.map((s) => s.sql).join('\n'));
      const plan = (await fixture.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ANALYZE ${ranked.sql}`, ranked.values)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      assert.equal(plan.match(/ on entries /g)?.length, 1, plan);
      assert.doesNotMatch(plan, /entries_pkey|Nested Loop|Hash Join|Merge Join/, plan);
    }
  });

  it('answers the same with an app filter', async () => {
    const { ids, total } = await search('fifth', 'relevance', { app: 'mail' });
    assert.deepEqual({ ids, total }, await expected('fifth', 'relevance', 'mail'));
  });
});

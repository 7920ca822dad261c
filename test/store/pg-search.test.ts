import assert from 'node:assert/strict';
import { seededRandom } from '../helpers/seeded-random.js';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { parseQuery } from '../../src/search/query-parser.js';
import { COUNT_CAP } from '../../src/store/ports.js';
import { RANK_WINDOW } from '../../src/store/postgres/pg-search-repository.js';
import { WORDS } from '../helpers/words.js';
import { openPgSearchFixture, type PgSearchFixture, recordingSearch } from './pg-search-fixture.js';

const ROWS = 20_000;

const random = seededRandom;

/**
 * `count` screens of 60 ordinary words each (every word in about a fifth of them), newest last; every 500th
 * also reads "zeppelin", every 1000th is titled "Invoice <n>". Deterministic.
 */
export async function fillFrames(pool: pg.Pool, count: number): Promise<void> {
  await pool.query(
    `INSERT INTO entries (timestamp, status, app, title, text, image_path)
     SELECT 1700000000 + i, 'COMPLETED', (ARRAY['Mail', 'Calendar', 'Browser', 'Editor'])[1 + i % 4],
       CASE WHEN i % 1000 = 0 THEN 'Invoice ' || i ELSE 'Window ' || i END,
       (SELECT string_agg(w[1 + (i * 7919 + k * 104729) % array_length(w, 1)], ' ') FROM generate_series(1, 60) k)
         || CASE WHEN i % 500 = 0 THEN ' zeppelin' ELSE '' END,
       'screenshots/x.webp'
     FROM generate_series(1, $2::int) i, (SELECT $1::text[] AS w) v`,
    [WORDS, count],
  );
  await pool.query('ANALYZE entries');
}

describe(`PostgreSQL keyword search at ${ROWS} frames`, () => {
  let fixture: PgSearchFixture;
  before(async () => {
    fixture = await openPgSearchFixture();
    await fillFrames(fixture.pool, ROWS);
  });
  after(() => fixture?.cleanup());

  const plans = async (q: string) => {
    const { statements, repository } = recordingSearch(fixture.pool);
    const result = await repository.keyword(parseQuery(q), {}, 'relevance', 20);
    const texts: string[] = [];
    // The planner's estimates the repository asks for (EXPLAIN, pg_class) are not searches themselves.
    for (const { sql, values } of statements.filter((s) => !/^(EXPLAIN|SELECT greatest\(reltuples|BEGIN|COMMIT|ROLLBACK|SELECT s\.covered_upto)/.test(s.sql))) {
      const { rows } = await fixture.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, values);
      texts.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return { result, plans: texts };
  };

  it('finds a word through the GIN word index, not by reading every frame', async () => {
    const { result, plans: explained } = await plans('zeppelins');
    assert.equal(result.total, ROWS / 500);
    // The first statement counts and ranks the words; substring fallbacks follow (fewer than 50 words).
    for (const plan of explained.slice(0, 1)) {
      assert.match(plan, /entries_search_words/, plan);
      assert.doesNotMatch(plan, /Seq Scan on entries/, plan);
    }
  });

  it('finds a substring of titles through the trigram index', async () => {
    const { result, plans: explained } = await plans('nvoic');
    assert.equal(result.total, ROWS / 1000);
    assert.equal(result.candidates[0]?.source, 'substring');
    const substring = explained.filter((p) => /ILIKE|~~\*/.test(p));
    assert.ok(substring.length > 0);
    for (const plan of substring) assert.match(plan, /entries_short_text_trgm/, plan);
  });

  it('intersects the substring terms inside the trigram index, not by reading every frame of the first', async () => {
    // "Invoice <n>" titles are all in the app Mail: the terms match in different fields of the same frames.
    const { result, plans: explained } = await plans('nvoic mai');
    assert.equal(result.total, ROWS / 1000);
    const substring = explained.filter((p) => /ILIKE|~~\*/.test(p));
    assert.ok(substring.length > 0);
    for (const plan of substring) {
      // Both terms are conditions of one scan of the joined fields' index (its expression spans lines: '\n').
      const scans = plan.split('->').filter((node) => node.includes('Bitmap Index Scan'));
      assert.equal(scans.length, 1, plan);
      assert.match(scans[0]!, /on entries_short_text_trgm/, plan);
      assert.ok(scans[0]!.includes("'%nvoic%'") && scans[0]!.includes("'%mai%'"), plan);
      assert.doesNotMatch(plan, /Seq Scan on entries/, plan);
    }
    assert.equal(result.candidates[0]?.source, 'substring');
  });

  it("forgets a frame's CJK bigrams when its text changes (a trigger, whoever writes the text)", async () => {
    const [id] = await fixture.seed([{ key: 'cjk', timestamp: 1_800_000_000, text: '今天的会议记录' }]);
    const found = async () => (await fixture.search.keyword(parseQuery('会议'), {}, 'relevance', 5)).candidates.map((c) => c.id);
    assert.deepEqual(await found(), [id]);
    await fixture.pool.query(`UPDATE entries SET text = 'plain words now' WHERE id = $1`, [id]);
    assert.deepEqual(await found(), []);
  });

  it('stores and finds a frame whose OCR text is far beyond what one tsvector can hold', async () => {
    const next = random(7);
    const words = Array.from({ length: 200_000 }, () => Math.floor(next() * 2 ** 52).toString(36));
    const [id] = await fixture.seed([{ key: 'huge', timestamp: 1_800_000_100, text: `hugeframe ${words.join(' ')}` }]);
    assert.deepEqual(
      (await fixture.search.keyword(parseQuery('hugeframe'), {}, 'relevance', 5)).candidates.map((c) => c.id),
      [id],
    );
  });

  it(`counts up to ${COUNT_CAP} and ranks only the ${RANK_WINDOW} most recent matches`, async () => {
    const { result } = await plans(WORDS[0]!);
    assert.equal(result.total, COUNT_CAP);
    assert.equal(result.candidates.length, 20);
    const { rows } = await fixture.pool.query<{ id: string }>(
      `SELECT id FROM entries WHERE search_words @@ to_tsquery('simple', $1) ORDER BY id DESC OFFSET ${RANK_WINDOW - 1} LIMIT 1`,
      [WORDS[0]],
    );
    const oldestRanked = Number(rows[0]!.id);
    for (const c of result.candidates) assert.ok(c.id >= oldestRanked, `${c.id} is older than the rank window (${oldestRanked})`);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withWordIndexUpkeep } from '../../src/processor/word-index-upkeep.js';
import { parseQuery } from '../../src/search/query-parser.js';
import type { SearchFilters } from '../../src/store/ports.js';
import { packedWordRows, parseLexeme } from '../../src/store/postgres/pg-packed-words.js';
import { SqlParams, WEIGHTS, wordsMatch } from '../../src/store/postgres/pg-search-query.js';
import { PgWordIndexRepository } from '../../src/store/postgres/pg-word-index-repository.js';
import { openTestStore } from '../helpers/stores.js';
import { openPgSearchFixture, type PgSearchFixture, recordingPool, recordingSearch } from './pg-search-fixture.js';

const ROWS = 3_000;
const SIZES = { small: 50, big: 400 };

/**
 * Frame i (1-based): "common" 1–3 times in every frame (more matches than the rank window), "tenth" in every tenth
 * frame's text and every seventh frame's title (other weights), "sparse" in every 97th, words of one prefix
 * ("alpha", "alphabet", "alphanumeric") in different frames and together, a filler that varies the length.
 */
const fillSql = (from: number, to: number) => `
  INSERT INTO entries (timestamp, status, app, title, text, description, image_path)
  SELECT 1700000000 + i, 'COMPLETED', CASE WHEN i % 3 = 0 THEN 'Mail' ELSE 'Editor' END,
    'Window ' || CASE WHEN i % 7 = 0 THEN 'tenth' ELSE 'plain' END,
    repeat('common ', 1 + i % 3) || repeat('filler ', i % 11)
      || CASE WHEN i % 10 = 0 THEN 'tenth ' ELSE '' END
      || CASE WHEN i % 97 = 0 THEN 'sparse ' ELSE '' END
      || CASE i % 4 WHEN 0 THEN 'alpha ' WHEN 1 THEN 'alphabet alpha ' WHEN 2 THEN 'alphanumeric ' ELSE '' END,
    CASE WHEN i % 13 = 0 THEN 'a sparse description' END,
    'screenshots/x.webp'
  FROM generate_series(${from}, ${to}) i`;

const QUERIES = ['common', 'tenth', 'sparse', 'alpha', 'alphabet', 'alpha*', 'alph*', 'plain', 'filler', 'nothing', 'mail', 'window'];
const T0 = 1_700_000_000;
/** No filter; an app (any case); an app from a time on; a time range; an old end; an app no frame has. */
const FILTERS: SearchFilters[] = [
  {},
  { app: 'mail' },
  { app: 'Editor', start: T0 + 1200 },
  { start: T0 + 2500, end: T0 + 2960 },
  { end: T0 + 450 },
  { app: 'Nobody' },
];

describe('PostgreSQL packed word index', () => {
  let fixture: PgSearchFixture;
  let wordIndex: PgWordIndexRepository;
  const sql = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) => (await fixture.pool.query(text, values)).rows as T[];
  const covered = async () => Number((await sql<{ c: string }>('SELECT covered_upto AS c FROM word_index_state'))[0]!.c);

  before(async () => {
    fixture = await openPgSearchFixture();
    wordIndex = new PgWordIndexRepository(fixture.pool, SIZES);
    await sql(fillSql(1, ROWS));
    await sql('ANALYZE entries');
  });
  after(() => fixture?.cleanup());

  const search = async (q: string, depth = 25, filters: SearchFilters = {}) => {
    const { statements, repository } = recordingSearch(fixture.pool);
    const result = await repository.keyword(parseQuery(q), filters, 'relevance', depth);
    return { ...result, packed: statements.some((s) => s.sql.includes('word_packs')), statements };
  };
  /** The same search read from `entries` alone (as before the index was built): what the packs must answer. */
  const unpacked = async (q: string, depth = 25, filters: SearchFilters = {}) => {
    const upto = await covered();
    await sql('UPDATE word_index_state SET covered_upto = 0');
    try {
      const result = await search(q, depth, filters);
      assert.equal(result.packed, false);
      return result;
    } finally {
      await sql('UPDATE word_index_state SET covered_upto = $1', [upto]);
    }
  };
  const assertSameAnswers = async (queries = QUERIES, filterSets = FILTERS) => {
    for (const filters of filterSets)
      for (const q of queries) {
        const what = `${q} ${JSON.stringify(filters)}`;
        const [packed, plain] = [await search(q, 60, filters), await unpacked(q, 60, filters)];
        assert.equal(packed.packed, true, `${what}: the packs were not read`);
        assert.deepEqual(
          packed.candidates.map((c) => c.id),
          plain.candidates.map((c) => c.id),
          what,
        );
        for (const [i, c] of packed.candidates.entries())
          assert.ok(Math.abs(c.score - plain.candidates[i]!.score) < 1e-6, `${what}: ${c.score} vs ${plain.candidates[i]!.score}`);
        assert.deepEqual(
          packed.candidates.map((c) => c.timestamp),
          plain.candidates.map((c) => c.timestamp),
          what,
        );
        assert.equal(packed.total, plain.total, what);
      }
  };

  it('reads lexemes as querytree prints them', () => {
    assert.deepEqual(parseLexeme(`'budget'`), { lexeme: 'budget', prefix: false });
    assert.deepEqual(parseLexeme(`'alph':*`), { lexeme: 'alph', prefix: true });
    assert.deepEqual(parseLexeme(`'it''s\\\\x'`), { lexeme: "it's\\x", prefix: false });
    assert.equal(parseLexeme(`'a' & 'b'`), undefined);
    assert.equal(parseLexeme(`'a' <-> 'b'`), undefined);
  });

  it('searches entries alone until a segment is packed', async () => {
    assert.equal((await search('tenth')).packed, false);
  });

  it('packs segments of processed frames only, large ones where it can, and answers as entries do', async () => {
    await sql(`UPDATE entries SET status = 'PENDING' WHERE id = 2990`);
    while (await wordIndex.step());
    // 1–2800 in large segments; 2801–2950 small; 2951–3000 waits for frame 2990.
    assert.equal(await covered(), 2950);
    const segments = await sql<{ lo: string; hi: string }>('SELECT lo, hi FROM word_segments ORDER BY hi');
    assert.deepEqual(
      segments.map((s) => Number(s.hi) - Number(s.lo) + 1),
      [...Array(7).fill(SIZES.big), 50, 50, 50],
    );
    await assertSameAnswers();

    await sql(`UPDATE entries SET status = 'COMPLETED' WHERE id = 2990`);
    await sql(fillSql(ROWS + 1, ROWS + 60));
    while (await wordIndex.step());
    // 3001–3050 packed, then the merge of 2801–3200 waits for ids up to 3200; 3051–3060 stay unpacked.
    assert.equal(await covered(), 3050);
    await assertSameAnswers();
  });

  it('reads older segments again when the newest ones hold fewer frames passing the filter than expected', async () => {
    // "Burst": ids 1–400, and those of 2401–2800 without "tenth". That segment's matches times the app's share there
    // promise more than a window of 40, but none is of the app: every segment is read again.
    const burst = `id BETWEEN 1 AND 400 OR (id BETWEEN 2401 AND 2800 AND id % 10 <> 0 AND id % 7 <> 0)`;
    await sql(`UPDATE entries SET app = 'Burst' WHERE ${burst}`);
    await wordIndex.repairAll();
    try {
      for (const [app, reads] of [
        ['burst', 2],
        ['Editor', 1],
      ] as const) {
        const { statements, pool } = recordingPool(fixture.pool);
        const query = parseQuery('tenth');
        const rows = await packedWordRows(pool, (params) => wordsMatch(query, params)!.tsquery, { app }, 40, 30);
        assert.equal(statements.filter((s) => s.sql.includes('word_packs p')).length, reads, app);
        const params = new SqlParams();
        const q = wordsMatch(query, params)!.tsquery;
        // The newest 40 matches of the app's frames, ranked: the answer of the rank window, read from `entries`.
        const expected = await sql<{ id: string }>(
          `SELECT id FROM (
             SELECT e.id, ts_rank_cd(${WEIGHTS}, e.search_words, ${q}, 1 | 32) AS score FROM entries e
             WHERE e.status = 'COMPLETED' AND e.search_words @@ ${q} AND lower(e.app) = lower(${params.add(app)}) ORDER BY e.id DESC LIMIT 40) w
           ORDER BY score DESC, id DESC LIMIT 30`,
          params.values,
        );
        assert.deepEqual(
          rows?.map((r) => r.id),
          expected.map((r) => Number(r.id)),
          app,
        );
        assert.equal(rows?.[0]?.total, 40);
      }
    } finally {
      await sql(`UPDATE entries SET app = CASE WHEN id % 3 = 0 THEN 'Mail' ELSE 'Editor' END WHERE app = 'Burst'`);
      await wordIndex.repairAll();
    }
  });

  it('answers a filtered search from entries while a segment is as built before apps and times were packed, then adds them', async () => {
    // As an older processor leaves a segment: no app packs, no time span.
    await sql('DELETE FROM word_packs WHERE hi = 1200 AND starts_with(lexeme, chr(1))');
    await sql('UPDATE word_segments SET filterable = false, min_ts = NULL, max_ts = NULL WHERE hi = 1200');
    assert.equal((await search('tenth', 20, { app: 'mail' })).packed, false);
    assert.equal((await search('tenth')).packed, true, 'an unfiltered search reads the packs still');
    while (await wordIndex.step());
    assert.equal((await sql('SELECT 1 FROM word_segments WHERE NOT filterable')).length, 0);
    await assertSameAnswers(['tenth', 'alph*'], FILTERS.slice(1, 3));
  });

  it('answers for frames changed, failed or deleted after their segment was packed, then repairs them', async () => {
    await sql(`UPDATE entries SET text = 'sparse replaced words' WHERE id IN (100, 2000, 3040)`);
    await sql(`UPDATE entries SET status = 'FAILED' WHERE id IN (970, 2500)`);
    await sql('DELETE FROM entries WHERE id IN (1940, 2910, 1000)');
    await sql(`UPDATE entries SET text = 'uniqueword one' WHERE id = 500`);
    // The same words (punctuation is no word), another app: the frame leaves its app's pack.
    await sql(`UPDATE entries SET app = 'Editor.' WHERE id = 1201`);
    assert.deepEqual(
      (await search('common', 20, { app: 'editor.' })).candidates.map((c) => c.id),
      [1201],
    );
    assert.ok((await sql('SELECT 1 FROM word_index_dirty')).length >= 9);
    await assertSameAnswers([...QUERIES, 'replaced', 'uniqueword']);

    // A word a frame no longer holds (a redacted secret) stays in the packs until its segment is built again.
    await sql(`UPDATE entries SET text = 'nothing left here' WHERE id = 500`);
    assert.equal((await sql(`SELECT 1 FROM word_packs WHERE lexeme = 'uniqueword'`)).length, 0, 'never packed: changed after the build');
    await sql(`UPDATE entries SET text = 'secretword common' WHERE id = 1500`);
    await wordIndex.repairAll();
    assert.equal((await sql(`SELECT 1 FROM word_packs WHERE lexeme = 'secretword'`)).length, 1);
    await sql(`UPDATE entries SET text = 'common' WHERE id = 1500`);
    assert.equal((await search('secretword')).total, 0);
    await wordIndex.repairAll();
    assert.equal((await sql(`SELECT 1 FROM word_packs WHERE lexeme = 'secretword'`)).length, 0);
    assert.equal((await sql('SELECT 1 FROM word_index_dirty')).length, 0);
    await assertSameAnswers([...QUERIES, 'replaced']);
  });

  it('waits for a change in progress before packing its frame, packs it as committed, then merges small segments into a large one', async () => {
    await sql(fillSql(ROWS + 61, ROWS + 200));
    const writer = await fixture.pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE entries SET text = 'raceword' WHERE id = 3055`);
      let built = false;
      const building = wordIndex.step().then(() => (built = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(built, false, 'the segment was packed while a change to one of its frames was uncommitted');
      await writer.query('COMMIT');
      await building;
    } finally {
      writer.release();
    }
    assert.ok((await covered()) >= 3100);
    const found = await search('raceword');
    assert.equal(found.packed, true);
    assert.deepEqual(
      found.candidates.map((c) => c.id),
      [3055],
    );
    assert.equal((await sql(`SELECT 1 FROM word_packs WHERE lexeme = 'raceword'`)).length, 1, 'packed, not left to the changed frames');

    // Up to 3200: the small segments of 2801–3200 give way to one large one.
    while (await wordIndex.step());
    assert.equal(await covered(), 3200);
    const last = await sql<{ lo: string; hi: string }>('SELECT lo, hi FROM word_segments ORDER BY hi DESC LIMIT 2');
    assert.deepEqual(
      last.map((s) => [Number(s.lo), Number(s.hi)]),
      [
        [2801, 3200],
        [2401, 2800],
      ],
    );
    await assertSameAnswers([...QUERIES, 'raceword']);
  });

  it('is emptied with the frames (TRUNCATE)', async () => {
    await sql('TRUNCATE entries CASCADE');
    assert.equal(await covered(), 0);
    assert.equal((await sql('SELECT 1 FROM word_packs LIMIT 1')).length, 0);
  });
});

describe('the idle processor keeps the word index up to date', () => {
  it('packs segments one at a time while idle, then hands over to the next idle work', async () => {
    const opened = await openTestStore('postgres', { wordSegments: { small: 5, big: 20 } });
    try {
      const store = opened.store;
      const lease = { workerId: 'upkeep', seconds: 60 };
      for (let i = 0; i < 12; i++) {
        const { id } = await store.frames.insertPending({
          captureId: `upkeep-${i}`,
          timestamp: 1_700_000_000 + i,
          app: 'Editor',
          title: 'notes',
          monitor: null,
          imagePath: `screenshots/${i}.webp`,
          width: 10,
          height: 10,
          bytes: 10,
          receivedAt: 1_700_000_000 + i,
        });
        await store.frames.claimNext(Number.MAX_SAFE_INTEGER, lease);
        await store.frames.saveResults(id, { text: `upkeepword frame ${i}` }, lease.workerId);
        await store.frames.complete(id, lease.workerId);
      }
      const log: string[] = [];
      let nextCalls = 0;
      const idle = withWordIndexUpkeep(
        store,
        (m) => log.push(m),
        () => {
          nextCalls++;
          return Promise.resolve('next');
        },
      );
      assert.equal(await idle(), 1);
      assert.equal(await idle(), 2);
      assert.equal(await idle(), 'next');
      assert.equal(nextCalls, 1);
      assert.match(log.join('\n'), /word index: 2 segment\(s\)/);
      // Up to date: the next calls go straight to the next idle work for a while.
      assert.equal(await idle(), 'next');
      const result = await store.search.keyword(parseQuery('upkeepword'), {}, 'relevance', 20);
      assert.equal(result.total, 12);
    } finally {
      await opened.cleanup();
    }
  });
});

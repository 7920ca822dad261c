import assert from 'node:assert/strict';
import { seededRandom } from '../helpers/seeded-random.js';
import { after, before, describe, it } from 'node:test';
import { parseQuery } from '../../src/search/query-parser.js';
import type { KeywordCandidate, SearchFilters } from '../../src/store/ports.js';
import { MARK_END, MARK_START } from '../../src/store/snippet-marks.js';
import { hostileQueries } from '../helpers/hostile-queries.js';
import { openTestStore, STORE_KINDS } from '../helpers/stores.js';
import { FRAMES, KEYWORD_CASES, marked, type SearchTarget, storeSearchTarget, T0 } from './search-contract-cases.js';

/** The keyword-search contract every store's SearchRepository meets, run against each store. */
const TARGETS: Array<[string, () => Promise<SearchTarget>]> = STORE_KINDS.map((kind) => [
  kind,
  async () => {
    const opened = await openTestStore(kind);
    return storeSearchTarget(kind, opened.store, opened.cleanup);
  },
]);
// PostgreSQL again, its frames packed in the word index (segments of 2 and 8 frames) once seeded: one-word searches
// then read the packs, the frames beyond the last segment and the frames changed since, and answer the same.
if (STORE_KINDS.includes('postgres')) {
  TARGETS.push([
    'postgres, packed words',
    async () => {
      const opened = await openTestStore('postgres', { wordSegments: { small: 2, big: 8 } });
      const target = storeSearchTarget('postgres, packed words', opened.store, opened.cleanup);
      return {
        ...target,
        async seed(frames) {
          const ids = await target.seed(frames);
          while (await opened.store.wordIndex!.step());
          return ids;
        },
      };
    },
  ]);
}

const DEPTH = 20;
/**
 * Word and substring matches come with the store's own snippet. A store may leave short-term and CJK matches
 * without one: the search service then marks the terms in the row's text (what users see either way is tested
 * through the server in test/search.test.ts).
 */
const ownSnippet = (c: KeywordCandidate, snippets: Map<number, string>) => snippets.has(c.id) || (c.source !== 'short' && c.source !== 'cjk');

/** Adjacent marked words are one marked span ("⟦finance⟧ ⟦team⟧" = "⟦finance team⟧"): stores mark phrases either way. */
const joinMarks = (s: string) => s.replaceAll(`${MARK_END} ${MARK_START}`, ' ');

const random = seededRandom;

function fuzzQueries(count: number): string[] {
  const next = random(20261130);
  const alphabet = [
    ...'abcxyz019 "\'\\&|!():*<>-_%^~{}[];,.@#$+=/?`',
    '\u0000',
    '\u0001',
    '\u0002',
    '\n',
    '\t',
    '🙂',
    '设',
    '计',
    'é',
    'ß',
    'İ',
    '\u200b',
    '\ud800',
  ];
  const words = ['budget', 'meeting', 'AND', 'OR', 'NOT', 'NEAR', '<->', '!!', '&&', '||', ':*', "'", "''", '\\', 'invoice', '会议'];
  return Array.from({ length: count }, () => {
    const length = Math.floor(next() * (next() < 0.1 ? 1000 : 40));
    let q = '';
    while (q.length < length) q += next() < 0.3 ? `${words[Math.floor(next() * words.length)]} ` : alphabet[Math.floor(next() * alphabet.length)];
    return q;
  });
}

for (const [name, open] of TARGETS) {
  describe(`keyword search contract (${name})`, () => {
    let target: SearchTarget;
    const ids = new Map<string, number>();
    const keyOf = (id: number) => [...ids].find(([, v]) => v === id)?.[0] ?? `#${id}`;

    before(async () => {
      target = await open();
      const seeded = await target.seed(FRAMES);
      for (const [i, f] of FRAMES.entries()) ids.set(f.key, seeded[i]!);
    });
    after(() => target?.cleanup());

    const keyword = async (q: string, filters: SearchFilters = {}, sort: 'relevance' | 'time' = 'relevance') => {
      const parsed = parseQuery(q);
      const result = await target.search.keyword(parsed, filters, sort, DEPTH);
      const snippets = await target.search.snippets(parsed, result.candidates);
      return { ...result, keys: result.candidates.map((c) => keyOf(c.id)), snippets };
    };

    for (const c of KEYWORD_CASES) {
      it(`${c.name}: ${JSON.stringify(c.q)}${c.filters ? ` ${JSON.stringify(c.filters)}` : ''}${c.sort ? ` by ${c.sort}` : ''}`, async () => {
        const result = await keyword(c.q, c.filters, c.sort);
        assert.deepEqual(result.keys, c.expect, JSON.stringify(result.candidates));
        assert.equal(result.total, c.total ?? c.expect.length);
        const first = result.candidates[0] as KeywordCandidate | undefined;
        if (c.source) assert.equal(first?.source, c.source);
        if (c.snippet && ownSnippet(first!, result.snippets)) {
          const snippet = result.snippets.get(first!.id) ?? '';
          assert.ok(joinMarks(snippet).includes(joinMarks(marked(c.snippet))), JSON.stringify(snippet));
        }
      });
    }

    it('ranks the frame with the most matches first, scores falling', async () => {
      const { candidates } = await keyword('budget');
      assert.ok(candidates[0]!.score > candidates[1]!.score, JSON.stringify(candidates));
    });

    it('scores substring matches below word matches', async () => {
      const { candidates } = await keyword('acme');
      assert.deepEqual(
        candidates.map((c) => c.source),
        ['words', 'substring'],
      );
      assert.ok(candidates[0]!.score > candidates[1]!.score, JSON.stringify(candidates));
    });

    it('gives every result a snippet, HTML kept as text', async () => {
      for (const q of ['budget', 'voice', '设计', '会议', 'friends', 'ac', 'acme']) {
        const { candidates, snippets } = await keyword(q);
        for (const c of candidates) {
          if (ownSnippet(c, snippets)) assert.ok(snippets.get(c.id)?.includes(MARK_START), `${q} ${keyOf(c.id)}: ${JSON.stringify(snippets.get(c.id))}`);
        }
      }
    });

    it('gives snippets and exclusion matches of the frames asked only, one frame or several', async () => {
      // SQLite: one id bound alone as `rowid = ?` was a REAL, which FTS5 ignores as a rowid constraint: every match
      // of the query was read and given a snippet (2.5 s for one result at 1 000 000 frames, BENCHMARKS.md).
      for (const q of ['budget', 'acme']) {
        const { candidates } = await keyword(q);
        assert.ok(candidates.length >= 2, `${q}: ${JSON.stringify(candidates)}`);
        for (const asked of [candidates.slice(0, 1), candidates.slice(1, 2), candidates.slice(0, 2)]) {
          const snippets = await target.search.snippets(parseQuery(q), asked);
          assert.deepEqual(
            [...snippets.keys()].sort(),
            asked
              .map((c) => c.id)
              .filter((id) => snippets.has(id))
              .sort(),
            q,
          );
          const matched = await target.search.matchingAny(
            asked.map((c) => c.id),
            parseQuery(q).include,
          );
          for (const id of matched)
            assert.ok(
              asked.some((c) => c.id === id),
              `${q}: ${id} was not asked`,
            );
        }
      }
    });

    it('browses by filters alone, newest first, with paging and the total', async () => {
      const all = await target.search.browse({}, 20, 0, []);
      assert.deepEqual(
        all.ids.map((r) => keyOf(r.id)),
        ['harborapp', 'harbortext', 'installer', 'punct', 'accents', 'cjkocr', 'escape', 'sheet', 'roadmap', 'invoice', 'meeting'],
      );
      assert.equal(all.total, 11);
      const page = await target.search.browse({}, 2, 2, []);
      assert.deepEqual(
        page.ids.map((r) => keyOf(r.id)),
        ['installer', 'punct'],
      );
      assert.equal(page.total, 11);
      const mail = await target.search.browse({ app: 'mail' }, 20, 0, []);
      assert.deepEqual(
        mail.ids.map((r) => keyOf(r.id)),
        ['invoice'],
      );
      assert.equal(mail.ids[0]!.timestamp, T0 + 100);
    });

    it('browses minus the frames an excluded term matches (a query of -words only)', async () => {
      const { exclude } = parseQuery('-budget -"please review"');
      const result = await target.search.browse({ start: T0 + 1 }, 20, 0, exclude);
      assert.deepEqual(
        result.ids.map((r) => keyOf(r.id)),
        ['harborapp', 'harbortext', 'installer', 'punct', 'accents', 'escape', 'roadmap', 'invoice'],
      );
      assert.equal(result.total, 8);
    });

    it('restricts by filters: ids when few enough, undefined when more than the maximum', async () => {
      assert.deepEqual(await target.search.filteredIds({ app: 'MAIL' }, 10), new Set([ids.get('invoice')]));
      assert.deepEqual(await target.search.filteredIds({ window: 'budget' }, 10), new Set([ids.get('meeting'), ids.get('sheet')]));
      assert.equal(await target.search.filteredIds({}, 3), undefined);
    });

    it('returns the rows of hits', async () => {
      const rows = await target.search.rows([ids.get('invoice')!, ids.get('draft')!, 999_999]);
      assert.equal(rows.size, 2);
      const invoice = rows.get(ids.get('invoice')!)!;
      assert.deepEqual(invoice, {
        id: ids.get('invoice'),
        timestamp: T0 + 100,
        app: 'Mail',
        title: 'Invoice 4411 from Acme - Mail',
        status: 'COMPLETED',
        text: FRAMES[1]!.text,
        description: null,
        browser_url: null,
      });
      assert.equal(rows.get(ids.get('draft')!)!.status, 'FAILED');
    });

    it('lists apps by frame count, every status', async () => {
      const apps = await target.search.apps();
      assert.deepEqual(apps.slice(0, 2), [
        { app: 'Maps', count: 2 },
        { app: 'Sheets', count: 2 },
      ]);
      assert.equal(apps.length, 10);
    });

    it(`treats hostile and random input as text: ${hostileQueries().length} + 200 queries, no error`, async () => {
      for (const q of [...hostileQueries(), ...fuzzQueries(200)]) {
        const parsed = parseQuery(q);
        try {
          if (parsed.include.length === 0) {
            await target.search.browse({ window: q.slice(0, 50), app: q.slice(0, 20) }, 5, 0, parsed.exclude);
            continue;
          }
          for (const sort of ['relevance', 'time'] as const) {
            const { candidates } = await target.search.keyword(parsed, {}, sort, DEPTH);
            await target.search.snippets(parsed, candidates);
          }
        } catch (error) {
          assert.fail(`${JSON.stringify(q.slice(0, 80))}: ${(error as Error).message}`);
        }
      }
    });

    // Last: it changes the data.
    it('keeps the index in step with re-processed text (CJK bigrams included) and deleted frames', async () => {
      await target.setText(ids.get('escape')!, 'completely different words about zeppelins');
      assert.deepEqual((await keyword('zeppelin')).keys, ['escape']);
      assert.deepEqual((await keyword('attacks')).keys, []);
      await target.setText(ids.get('cjkocr')!, 'no longer any of those characters');
      assert.deepEqual((await keyword('会议')).keys, []);
      await target.remove(ids.get('escape')!);
      assert.deepEqual((await keyword('zeppelin')).keys, []);
      assert.deepEqual((await keyword('friends')).keys, []);
      assert.equal((await target.search.browse({ app: 'browser' }, 10, 0, [])).total, 0);
    });
  });
}

import type pg from 'pg';
import { hasCjk } from '../cjk.js';
import {
  COUNT_CAP,
  type FrameStatus,
  type FrameKey,
  type HitRow,
  type KeywordCandidate,
  type KeywordSource,
  type ParsedQuery,
  type RankedId,
  type SearchFilters,
  type SearchRepository,
  type Term,
} from '../ports.js';
import {
  anyWordMatch,
  CJK_VECTOR,
  cjkTsquery,
  filterSql,
  isLongTerm,
  likePattern,
  noWordMatch,
  SqlParams,
  substringMatch,
  WEIGHTS,
  wordsMatch,
} from './pg-search-query.js';
import { query as runQuery, transaction } from './pg-query.js';
import { packedWordRows } from './pg-packed-words.js';
import { pgSnippets } from './pg-snippets.js';

/**
 * Relevance ranks the most recent this-many matches only (as SQLite does): query time stays flat as the
 * history grows, and in a personal memory the best match is almost never older than thousands of newer ones.
 */
export const RANK_WINDOW = 2_000;
/** Exact words are what users mean; substrings only join in when words find fewer than this. */
const SUBSTRING_FALLBACK_BELOW = 50;
/** ts_rank_cd normalisation: 1 divides by the log of the document length, 32 maps the rank into 0..1. */
const RANK_NORMALISATION = 1 | 32;

type Sort = 'relevance' | 'time';
/**
 * How the rank window is read (see windowOrder()). `index`: the planner may walk the primary key; `bitmap`: the
 * word index's bitmap, every match's heap row read and sorted by id (`e.id + 0` keeps the key walk off);
 * `Bounded`: the same bitmap ANDed with a range of the newest ids, so that only the newest matches' rows are read.
 */
type WindowOrder = 'index' | 'bitmap' | Bounded;
/** The ids a bounded window reads first: the `span` ids up to `newest` (and then further back, see bitmapWindow()). */
type Bounded = { newest: number; span: number };
/** Below this share of the frames, a word's rank window is sorted from its bitmap (see windowOrder()). */
const SPARSE_MATCHES = 0.25;
/** Above this many expected matches, a bitmap window reads the newest ids only (see windowOrder()). */
const BOUNDED_ABOVE = 3 * RANK_WINDOW;
/**
 * A bounded window spans the ids expected to hold this many times RANK_WINDOW matches: an estimate a little high
 * (or a word less frequent lately) rarely costs a second statement.
 */
const BOUND_MARGIN = 1.5;
/** When the ids read held too few matches, the next statement reads this many times as many ids. */
const WIDEN = 4;

interface Part {
  /** Conditions on `e` beyond the filters. */
  where: string;
  /** Score of a row of the rank window (higher is better); adds its parameters only when used. */
  score: () => string;
}

/** A row count for LIMIT/OFFSET: a whole number, never negative. */
const rowCount = (n: number) => (Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0);
/** What a rank window carries of each row: what the scores and the orders read. */
const WINDOW_COLUMNS = 'e.id, e.timestamp, e.search_words, e.cjk_grams, e.app, e.title, e.description';
/**
 * The rank window: the RANK_WINDOW newest matches (`also`: a further condition), with the columns the scores read.
 * Their word vectors stay TOAST pointers until a score reads them, so carrying them costs nothing and spares a second
 * lookup of each row by key.
 */
const windowSql = (p: Part, filters: SearchFilters, params: SqlParams, order: 'index' | 'bitmap', also = '') =>
  `SELECT ${WINDOW_COLUMNS} FROM entries e WHERE ${p.where} AND ${filterSql(filters, params)}${also} ORDER BY ${order === 'bitmap' ? 'e.id + 0' : 'e.id'} DESC LIMIT ${RANK_WINDOW}`;
/** The window's rows ranked in the same statement, with the window's size (`total`, at most RANK_WINDOW). */
const rankedSql = (p: Part, window: string, sort: Sort, params: SqlParams, limit: number) =>
  `SELECT e.id, ${p.score()} AS score, e.timestamp, count(*) OVER () AS total FROM (${window}) e
      ORDER BY ${orderOf(sort)} LIMIT ${params.add(limit, 'int8')}`;
const orderOf = (sort: Sort) => (sort === 'time' ? 'e.timestamp DESC, e.id DESC' : 'score DESC, e.id DESC');
type FrameEstimate = { count: number; newestId: number | undefined };
const byTime = (a: RankedId, b: RankedId) => b.timestamp - a.timestamp || b.id - a.id;
type RankedRow = { id: string | number; score: number | string; timestamp: number };
const toRanked = (r: RankedRow): RankedId => ({
  id: Number(r.id),
  score: Number(r.score),
  timestamp: r.timestamp,
});

/** Keyword search over `entries` (migration 2): stemmed words, trigram substrings, CJK bigrams. */
export class PgSearchRepository implements SearchRepository {
  constructor(private readonly pool: pg.Pool) {}

  async keyword(query: ParsedQuery, filters: SearchFilters, sort: Sort, depth: number): Promise<{ candidates: KeywordCandidate[]; total: number }> {
    const limit = rowCount(depth);
    const words = (params: SqlParams) => wordsMatch(query, params);
    const wordPart = (params: SqlParams): Part | undefined => {
      const match = words(params);
      return match && { where: match.sql, score: () => `ts_rank_cd(${WEIGHTS}, e.search_words, ${match.tsquery}, ${RANK_NORMALISATION})` };
    };
    if (!words(new SqlParams())) return { candidates: [], total: 0 };
    const { total: wordTotal, hits: wordHits } =
      (await this.packed(query, filters, sort, limit)) ?? (await this.countedRanked(wordPart, filters, sort, limit, await this.windowOrder(wordPart, filters)));
    const wordCandidates = wordHits.map((c) => ({ ...c, source: 'words' as const }));
    if (wordTotal >= SUBSTRING_FALLBACK_BELOW) return { candidates: wordCandidates, total: wordTotal };

    const [more, cjk] = await Promise.all([this.substrings(query, filters, sort, limit), this.cjk(query, filters, sort, limit)]);
    const seen = new Set([...wordCandidates, ...more.candidates].map((c) => c.id));
    const cjkCandidates = cjk.filter((c) => !seen.has(c.id));
    const all: KeywordCandidate[] = [...wordCandidates, ...more.candidates, ...cjkCandidates];
    if (sort === 'time') all.sort(byTime);
    return { candidates: all.slice(0, limit), total: Math.min(COUNT_CAP, wordTotal + more.total + cjkCandidates.length) };
  }

  /**
   * A one-word search, relevance-ranked, with no filter but the default status, an app and a time range, from the
   * packed word index (pg-packed-words.ts): a word's newest matches in a few pages, not each match's row and word vector.
   */
  private async packed(query: ParsedQuery, filters: SearchFilters, sort: Sort, limit: number): Promise<{ total: number; hits: RankedId[] } | undefined> {
    const servable = (filters.status ?? 'COMPLETED') === 'COMPLETED' && !filters.window && !filters.url;
    if (sort !== 'relevance' || limit <= 0 || !servable || query.include.length !== 1 || query.exclude.length > 0) return undefined;
    const { app, start, end } = filters;
    const rows = await packedWordRows(this.pool, (params) => wordsMatch(query, params)!.tsquery, { app, start, end }, RANK_WINDOW, limit);
    if (!rows) return undefined;
    return { total: rows.length ? Math.min(COUNT_CAP, rows[0]!.total) : 0, hits: rows.map(toRanked) };
  }

  /**
   * Substring matches in title, app and description (all terms, none of the excluded ones), minus what the
   * word index found and anything an excluded term matches anywhere. Terms of 3+ characters use the trigram
   * index of the short fields joined (one index scan for all of them) and are ranked; with only shorter terms it
   * is a scan, newest first, as in SQLite.
   */
  private async substrings(query: ParsedQuery, filters: SearchFilters, sort: Sort, limit: number) {
    const long = query.include.filter((t) => isLongTerm(t.text));
    const part = (params: SqlParams): Part => {
      const conditions = query.include.map((t) => substringMatch(t.text, params));
      // Implied by the filter (a title is a short field), and read from the same index scan as the terms.
      if (filters.window) conditions.push(substringMatch(filters.window, params));
      for (const t of query.exclude.filter((t) => isLongTerm(t.text))) conditions.push(`NOT coalesce(${substringMatch(t.text, params)}, false)`);
      conditions.push(noWordMatch(wordsMatch(query, params, 'x')!.sql));
      const excluded = anyWordMatch(query.exclude, params, 'x');
      if (excluded) conditions.push(noWordMatch(excluded));
      // Scores of another kind than the word ranks: halved, so a word match normally outranks them.
      const score = () =>
        long.length
          ? `0.5 * (${long
              .map((t) => {
                const p = params.add(likePattern(t.text));
                return `(CASE WHEN e.description ILIKE ${p} THEN 0.8 ELSE 0 END + CASE WHEN e.title ILIKE ${p} THEN 0.6 ELSE 0 END + CASE WHEN e.app ILIKE ${p} THEN 0.4 ELSE 0 END)`;
              })
              .join(' + ')}) / ${1.8 * long.length}`
          : '0';
      return { where: conditions.join(' AND '), score };
    };
    const source: KeywordSource = long.length ? 'substring' : 'short';
    if (source === 'short') {
      const all = await this.ranked(part, filters, 'time', COUNT_CAP);
      return { candidates: all.slice(0, limit).map((c) => ({ ...c, source })), total: all.length };
    }
    const { total, hits } = await this.countedRanked(part, filters, sort, limit);
    return { candidates: hits.map((c) => ({ ...c, source })), total };
  }

  /**
   * CJK words inside longer runs of OCR text, through the bigram index. The query's other terms must match
   * the word index, excluded terms must not, and what the word index found is left out.
   */
  private async cjk(query: ParsedQuery, filters: SearchFilters, sort: Sort, limit: number): Promise<KeywordCandidate[]> {
    const grams = cjkTsquery(query.include.map((t) => t.text));
    if (!grams) return [];
    const others = query.include.filter((t) => !hasCjk(t.text));
    const part = (params: SqlParams): Part => {
      const tsquery = `to_tsquery('simple', ${params.add(grams)})`;
      const conditions = [`e.cjk_grams IS NOT NULL`, `${CJK_VECTOR} @@ ${tsquery}`, noWordMatch(wordsMatch(query, params, 'x')!.sql)];
      const otherWords = wordsMatch({ include: others, exclude: query.exclude }, params);
      if (otherWords) conditions.push(otherWords.sql);
      else {
        const excluded = anyWordMatch(query.exclude, params, 'x');
        if (excluded) conditions.push(noWordMatch(excluded));
      }
      return { where: conditions.join(' AND '), score: () => `0.5 * ts_rank_cd(${CJK_VECTOR}, ${tsquery}, ${RANK_NORMALISATION})` };
    };
    return (await this.ranked(part, filters, sort, limit)).map((c) => ({ ...c, source: 'cjk' as const }));
  }

  /** How many frames match (up to COUNT_CAP). */
  private async count(part: (params: SqlParams) => Part | undefined, filters: SearchFilters): Promise<number> {
    const params = new SqlParams();
    const p = part(params);
    if (!p) return 0;
    const sql = `SELECT count(*)::int AS n FROM (SELECT 1 FROM entries e WHERE ${p.where} AND ${filterSql(filters, params)} LIMIT ${COUNT_CAP}) m`;
    return (await runQuery<{ n: number }>(this.pool, sql, params.values))[0]!.n;
  }

  /**
   * How to read the rank window, from the planner's estimate of the matches. A frequent word (above
   * SPARSE_MATCHES of the frames) walks the primary key backwards and tests each frame: few frames are read before
   * RANK_WINDOW match. Below that, the walk would read (detoast) every frame's word vector until then: ~6 µs a
   * frame, 100 ms for a word in 7% of the frames (28 000 frames read for 2 000 matches), against 5 ms through the
   * bitmap. The planner does not know that cost (`@@` costs one operator), so the choice is made here.
   * A bitmap window reads the heap row of every match to sort them by id: 136 ms for a word in 13% of a million
   * frames. Above BOUNDED_ABOVE matches it is ANDed with the ids expected to hold BOUND_MARGIN × RANK_WINDOW of
   * them (bitmapWindow() reads further when they hold fewer), so it reads a few thousand rows at any history size.
   */
  private async windowOrder(part: (params: SqlParams) => Part | undefined, filters: SearchFilters): Promise<WindowOrder> {
    const params = new SqlParams();
    const p = part(params);
    if (!p) return 'index';
    const sql = `EXPLAIN (FORMAT JSON) SELECT 1 FROM entries e WHERE ${p.where} AND ${filterSql(filters, params)}`;
    const [[plan], frames] = await Promise.all([
      runQuery<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(this.pool, sql, params.values).then((r) => r.map((x) => x['QUERY PLAN'][0]!)),
      this.frameEstimate(),
    ]);
    const matches = plan!.Plan['Plan Rows'];
    if (matches >= SPARSE_MATCHES * frames.count) return 'index';
    if (matches <= BOUNDED_ABOVE || frames.newestId === undefined) return 'bitmap';
    return { newest: frames.newestId, span: Math.ceil((BOUND_MARGIN * RANK_WINDOW * frames.count) / matches) };
  }

  private frames?: { estimate: Promise<FrameEstimate>; at: number };

  /**
   * The planner's estimate of the number of frames (pg_class.reltuples) and the newest id, refreshed every minute.
   * An older newest id only makes a bounded window span more ids than it needs: the frames since are above it.
   */
  private frameEstimate(): Promise<FrameEstimate> {
    if (!this.frames || Date.now() - this.frames.at > 60_000) {
      const estimate = runQuery<{ n: number; newest: string | null }>(
        this.pool,
        `SELECT greatest(reltuples, 0)::float8 AS n, (SELECT max(id) FROM entries) AS newest FROM pg_class WHERE oid = 'entries'::regclass`,
      ).then((r) => ({ count: Number(r[0]?.n ?? 0), newestId: r[0]?.newest == null ? undefined : Number(r[0].newest) }));
      this.frames = { estimate, at: Date.now() };
      estimate.catch(() => (this.frames = undefined));
    }
    return this.frames.estimate;
  }

  /**
   * count() and ranked() in one statement: the rank window holds the RANK_WINDOW (> COUNT_CAP) most recent
   * matches, so the number of its rows, capped, is the count, and the matches are looked up once, not twice.
   */
  private async countedRanked(
    part: (params: SqlParams) => Part | undefined,
    filters: SearchFilters,
    sort: Sort,
    limit: number,
    windowOrder: WindowOrder = 'index',
  ): Promise<{ total: number; hits: RankedId[] }> {
    if (limit <= 0) return { total: await this.count(part, filters), hits: [] };
    const rows = await this.rankedRows(part, filters, sort, limit, windowOrder);
    return { total: rows.length ? Math.min(COUNT_CAP, Number(rows[0]!.total)) : 0, hits: rows.map(toRanked) };
  }

  /** Matching frames among the RANK_WINDOW most recent matches, best first or newest first. */
  private async ranked(part: (params: SqlParams) => Part | undefined, filters: SearchFilters, sort: Sort, limit: number): Promise<RankedId[]> {
    return (await this.rankedRows(part, filters, sort, limit)).map(toRanked);
  }

  private async rankedRows(
    part: (params: SqlParams) => Part | undefined,
    filters: SearchFilters,
    sort: Sort,
    limit: number,
    windowOrder: WindowOrder = 'index',
  ): Promise<Array<RankedRow & { total: string | number }>> {
    if (limit <= 0) return [];
    if (typeof windowOrder === 'object') return this.boundedRankedRows(part, filters, sort, limit, windowOrder);
    const params = new SqlParams();
    const p = part(params);
    if (!p) return [];
    // The window is chosen by id first; the (costly) score is computed for the window's rows only.
    return runQuery<RankedRow & { total: string | number }>(
      this.pool,
      rankedSql(p, windowSql(p, filters, params, windowOrder), sort, params, limit),
      params.values,
    );
  }

  /**
   * rankedRows() over a bounded window: the word index's bitmap ANDed with the newest `span` ids; when those hold
   * fewer than RANK_WINDOW matches (older ones may belong in the window), WIDEN times as many ids once more, then
   * every match (a bitmap window). The planner would rather walk the key over those ids, or scan the table, and test
   * every frame's words (it does not know what reading them costs), so plain index scans and sequential scans are off
   * in this transaction.
   */
  private async boundedRankedRows(
    part: (params: SqlParams) => Part | undefined,
    filters: SearchFilters,
    sort: Sort,
    limit: number,
    bounds: Bounded,
  ): Promise<Array<RankedRow & { total: string | number }>> {
    const ranked = await transaction(this.pool, async (client) => {
      await runQuery(client, 'SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off');
      for (const span of [bounds.span, bounds.span * WIDEN]) {
        const from = bounds.newest - span;
        if (from <= 0) return undefined;
        const params = new SqlParams();
        const p = part(params);
        if (!p) return [];
        const window = windowSql(p, filters, params, 'bitmap', ` AND e.id >= ${params.add(from, 'int8')}`);
        const rows = await runQuery<RankedRow & { total: string | number }>(client, rankedSql(p, window, sort, params, limit), params.values);
        if (rows.length > 0 && Number(rows[0]!.total) === RANK_WINDOW) return rows;
      }
      return undefined;
    });
    return ranked ?? this.rankedRows(part, filters, sort, limit, 'bitmap');
  }

  async browse(filters: SearchFilters, limit: number, offset: number, exclude: Term[]): Promise<{ ids: RankedId[]; total: number }> {
    const where = (params: SqlParams) => {
      const excluded = anyWordMatch(exclude, params);
      return filterSql(filters, params) + (excluded ? ` AND NOT (${excluded})` : '');
    };
    const page = new SqlParams();
    const pageSql = `SELECT e.id, 0 AS score, e.timestamp FROM entries e WHERE ${where(page)}
      ORDER BY e.timestamp DESC, e.id DESC LIMIT ${page.add(rowCount(limit), 'int8')} OFFSET ${page.add(rowCount(offset), 'int8')}`;
    const counted = new SqlParams();
    const countSql = `SELECT count(*)::int AS n FROM (SELECT 1 FROM entries e WHERE ${where(counted)} LIMIT ${COUNT_CAP}) m`;
    const [rows, total] = await Promise.all([
      runQuery<RankedRow>(this.pool, pageSql, page.values),
      runQuery<{ n: number }>(this.pool, countSql, counted.values),
    ]);
    return { ids: rows.map(toRanked), total: total[0]!.n };
  }

  snippets(query: ParsedQuery, candidates: Array<{ id: number; source: KeywordSource }>): Promise<Map<number, string>> {
    return pgSnippets(this.pool, query, candidates);
  }

  async rows(ids: number[]): Promise<Map<number, HitRow>> {
    if (ids.length === 0) return new Map();
    const rows = await runQuery<HitRow & { id: string }>(
      this.pool,
      'SELECT id, timestamp, app, title, status, text, description, browser_url FROM entries WHERE id = ANY($1::bigint[])',
      [ids],
    );
    return new Map(rows.map((r) => [Number(r.id), { ...r, id: Number(r.id), status: r.status as FrameStatus }]));
  }

  async keys(ids: number[]): Promise<Map<number, FrameKey>> {
    if (ids.length === 0) return new Map();
    const rows = await runQuery<FrameKey & { id: string }>(
      this.pool,
      'SELECT id, timestamp, app, title, status, browser_url FROM entries WHERE id = ANY($1::bigint[])',
      [ids],
    );
    return new Map(rows.map((r) => [Number(r.id), { ...r, id: Number(r.id), status: r.status as FrameStatus }]));
  }

  async matchingAny(ids: number[], terms: Term[]): Promise<Set<number>> {
    const params = new SqlParams();
    const matches = anyWordMatch(terms, params);
    if (!matches || ids.length === 0) return new Set();
    const sql = `SELECT e.id FROM entries e WHERE e.id = ANY(${params.add(ids, 'int8[]')}) AND (${matches})`;
    return new Set((await runQuery<{ id: string }>(this.pool, sql, params.values)).map((r) => Number(r.id)));
  }

  async filteredIds(filters: SearchFilters, max: number): Promise<Set<number> | undefined> {
    const params = new SqlParams();
    const sql = `SELECT e.id FROM entries e WHERE ${filterSql(filters, params)} LIMIT ${params.add(rowCount(max) + 1, 'int8')}`;
    const ids = (await runQuery<{ id: string }>(this.pool, sql, params.values)).map((r) => Number(r.id));
    return ids.length > max ? undefined : new Set(ids);
  }

  async apps(): Promise<Array<{ app: string; count: number }>> {
    return runQuery<{ app: string; count: number }>(
      this.pool,
      `SELECT app, count(*)::int AS count FROM entries WHERE app IS NOT NULL AND app <> '' GROUP BY app ORDER BY count DESC, app LIMIT 500`,
    );
  }
}

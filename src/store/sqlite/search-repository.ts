import { cjkExpression, hasCjk } from '../cjk.js';
import {
  COUNT_CAP,
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
import { ELLIPSIS, MARK_END, MARK_START } from '../snippet-marks.js';
import type { Statement } from 'better-sqlite3-multiple-ciphers';
import { hasBm25Extension } from './bm25-extension.js';
import type { Db } from './database.js';
import { exclusionExpression, substringTerms, wordIndexExpression } from './fts5-query.js';
import { encodeFrameSet, type FrameSet, frameSetFromBlob, frameSetIds, idBounds } from './frame-set.js';
import { WORD_INDEX_WEIGHTS } from './migrations.js';

/** entries_cjk: bigrams of CJK OCR text (migration 6). */
export type FtsTable = 'entries_fts' | 'entries_trigram' | 'entries_cjk';

/**
 * Relevance ranks the most recent this-many matches (FTS5 returns them in id order, so the rank is computed
 * for these only): query time stays flat as the history grows, and in a personal memory the best match is
 * almost never older than thousands of newer ones.
 */
export const RANK_WINDOW = 2_000;

/**
 * openrecall_bm25 (bm25-extension.ts) counts each phrase's matches up to this many, and estimates a larger count
 * from how densely the first ones fill the frame ids: a phrase matching at most this many frames ranks exactly as
 * with FTS5's bm25, and one matching more costs ~the same as one matching this many (FTS5's bm25 visits every match
 * of every phrase of the query, once per statement: 56 ms of CPU for a word in each of 1 000 000 frames).
 */
export const RANK_COUNT_CAP = 20_000;

/** Each table's bm25 column weights: its rank's (migrations.ts), FTS5's default (1.0 a column) where it has none. */
const RANK_WEIGHTS: Record<FtsTable, string> = { entries_fts: WORD_INDEX_WEIGHTS, entries_trigram: '1.0, 1.0, 1.0', entries_cjk: '1.0' };

const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Exact words are what users mean; substrings only join in when words find little. */
const SUBSTRING_FALLBACK_BELOW = 50;

/**
 * Filters selecting at most this many frames (through an index range) are read first; keyword search then looks
 * among them. With the native frame sets (openrecall_idset: a bitmap built and tested inside SQLite) reading them
 * costs ~0.05 µs a frame, so larger ranges pay off (a check of a match in the filter index costs 0.7-2 µs); without
 * it each frame is a value in a JSON array.
 */
const FILTERED_FRAMES = 20_000;
const FILTERED_FRAMES_NATIVE = 200_000;

/**
 * A search without filters leaves out the frames of another status through a set of them when they are at most
 * this many (a set built per search: ~0.3 µs a frame), and by a seek per match otherwise (a backlog of thousands).
 */
const OTHER_STATUS_SET = 5_000;

/**
 * SQL of full-text search: an FTS5 MATCH joined to `entries` for the filters. Expressions come from
 * fts5-query.ts and are always bound as parameters.
 */
export class SqliteSearchRepository implements SearchRepository {
  /**
   * Whether the native extension is loaded on this connection: the score is then openrecall_bm25's (else the
   * table's rank), and filtered frames are native sets (openrecall_idset).
   */
  private readonly native: boolean;

  constructor(private readonly db: Db) {
    this.native = hasBm25Extension(db);
  }

  /**
   * A match's relevance, the higher the better: bm25 with the table's weights. Through openrecall_bm25 when it is
   * loaded, given the frame ids' range (two index seeks, once per statement) against which it estimates the count
   * of a phrase with more than RANK_COUNT_CAP matches; else the table's rank (FTS5's bm25, every match counted).
   */
  private score(table: FtsTable, params: Record<string, unknown>): string {
    if (!this.native) return '-f.rank';
    params.rankCountCap = RANK_COUNT_CAP;
    return `-openrecall_bm25(${table}, ${RANK_WEIGHTS[table]}, (SELECT min(id) FROM entries), (SELECT max(id) FROM entries), @rankCountCap)`;
  }

  private where(filters: SearchFilters, params: Record<string, unknown>): string {
    const clauses = ['e.status = @status'];
    params.status = filters.status ?? 'COMPLETED';
    if (filters.start !== undefined) clauses.push('e.timestamp >= @start'), (params.start = filters.start);
    if (filters.end !== undefined) clauses.push('e.timestamp <= @end'), (params.end = filters.end);
    if (filters.app) clauses.push('e.app = @app COLLATE NOCASE'), (params.app = filters.app);
    if (filters.window) clauses.push(`e.title LIKE @window ESCAPE '\\'`), (params.window = likePattern(filters.window));
    if (filters.url) clauses.push(`e.browser_url LIKE @url ESCAPE '\\'`), (params.url = likePattern(filters.url));
    return clauses.join(' AND ');
  }

  // The full-text index always drives these queries (CROSS JOIN fixes the join order): the cost follows the
  // number of matches, never the number of frames the filters alone would select. Each match is checked against
  // the filters in idx_entries_search_filter (migration 12), not in the wide rows of `entries`.

  /**
   * Matching frames among the RANK_WINDOW most recent matches, best first (bm25) or newest first, and how many
   * the window holds (capped: the total). The window is larger than COUNT_CAP, so its size is the count: the
   * matches are looked up once, not again by a separate count (which cost most of a filtered search).
   */
  private ranked(
    table: FtsTable,
    expression: string,
    filters: Filtered,
    sort: 'relevance' | 'time',
    limit: number,
    offset: number,
    extra?: Extra,
  ): { hits: RankedId[]; total: number } {
    if (filters.among === null) return { hits: [], total: 0 };
    const params: Record<string, unknown> = { expression, limit, offset, rankWindow: RANK_WINDOW };
    // The window without a seek per match when nothing but the frames' set or their status is to check: the
    // frames of another status are few (a set built once), and the timestamp is read for the page shown only.
    const kept =
      sort !== 'relevance' || extra
        ? undefined
        : filters.amongExact
          ? among(filters.among, params)
          : this.statusOnly(filters, params)
            ? ' AND +f.rowid NOT IN (SELECT id FROM entries WHERE status < @status OR status > @status)'
            : undefined;
    const sql =
      kept !== undefined
        ? `SELECT w.id, w.score, e.timestamp, w.total FROM (
            SELECT id, score, count(*) OVER () AS total FROM (
              SELECT f.rowid AS id, ${this.score(table, params)} AS score FROM ${table} f
              WHERE ${table} MATCH @expression${kept}
              ORDER BY f.rowid DESC LIMIT @rankWindow)
            ORDER BY score DESC, id DESC LIMIT @limit OFFSET @offset) w
          CROSS JOIN entries e ON e.id = w.id ORDER BY w.score DESC, w.id DESC`
        : `SELECT id, score, timestamp, count(*) OVER () AS total FROM (
            SELECT f.rowid AS id, ${this.score(table, params)} AS score, e.timestamp AS timestamp
            FROM ${table} f CROSS JOIN entries e INDEXED BY idx_entries_search_filter ON e.id = f.rowid
            WHERE ${table} MATCH @expression${among(filters.among, params)} AND ${this.where(filters, params)}${extraSql(extra, params)}
            ORDER BY f.rowid DESC LIMIT @rankWindow)
          ORDER BY ${sort === 'time' ? 'timestamp DESC, id DESC' : 'score DESC, id DESC'} LIMIT @limit OFFSET @offset`;
    const rows = this.db.prepare(sql).all(params) as Array<RankedId & { total: number }>;
    return {
      hits: rows.map(({ id, score, timestamp }) => ({ id, score, timestamp })),
      total: Math.min(COUNT_CAP, rows[0]?.total ?? 0),
    };
  }

  /**
   * Whether the status is the only filter and few frames have another (the usual case: only a backlog waits), so
   * that a match is kept unless it is one of those (binds @status).
   */
  private statusOnly(filters: Filtered, params: Record<string, unknown>): boolean {
    if (filters.among !== undefined || filters.app || filters.window || filters.url || filters.start !== undefined || filters.end !== undefined) return false;
    params.status = filters.status ?? 'COMPLETED';
    this.otherStatusStatement ??= this.db
      .prepare(`SELECT count(*) FROM (SELECT 1 FROM entries WHERE status < @status OR status > @status LIMIT ${OTHER_STATUS_SET + 1})`)
      .pluck();
    return (this.otherStatusStatement.get({ status: params.status }) as number) <= OTHER_STATUS_SET;
  }

  private otherStatusStatement?: Statement;

  /**
   * The filters with the frames they select, when that is an index range of at most FILTERED_FRAMES(_NATIVE)
   * frames (see `filterSource`), or the caller's set: `among` (null: none pass). A range of more frames, or filters
   * without a range (a URL, a window of one or two characters), search as before: the matches are checked one by one.
   */
  private withFrames(filters: SearchFilters): Filtered {
    const { frames, ...rest } = filters;
    if (frames) return { ...rest, among: frames.size === 0 ? null : this.native ? (encodeFrameSet(frames) ?? null) : frames };
    const ranged =
      (filters.window !== undefined && [...filters.window].length >= 3) || !!filters.app || filters.start !== undefined || filters.end !== undefined;
    if (!ranged) return rest;
    if (this.native) {
      const set = this.frameSet(rest, FILTERED_FRAMES_NATIVE, false);
      // An app's or a time range's set holds exactly the frames passing every filter (status included); a window's
      // is the trigram index's superset, and a URL is not in it.
      return set === undefined ? rest : { ...rest, among: set, amongExact: set !== null && !rest.window && !rest.url };
    }
    const ids = this.rangeIds(rest, FILTERED_FRAMES, false);
    return ids === undefined ? rest : { ...rest, among: ids.size === 0 ? null : ids };
  }

  /** The frames of `filterSource` read one by one (without the native sets), or undefined when more than `max`. */
  private rangeIds(filters: SearchFilters, max: number, exact: boolean): Set<number> | undefined {
    const params: Record<string, unknown> = { cap: max + 1 };
    const ids = this.db
      .prepare(`${this.filterSource(filters, params, exact)} LIMIT @cap`)
      .pluck()
      .all(params) as number[];
    return ids.length > max ? undefined : new Set(ids);
  }

  /**
   * The frames of `filterSource` as a native set (null: none; undefined: more than `max`), built inside SQLite: the
   * range's ids never cross into JavaScript one by one.
   */
  private frameSet(filters: SearchFilters, max: number, exact: boolean): FrameSet | null | undefined {
    const params: Record<string, unknown> = { cap: max + 1 };
    const row = this.db
      .prepare(`SELECT count(*) AS n, openrecall_idset(id) AS bits FROM (${this.filterSource(filters, params, exact)} LIMIT @cap)`)
      .get(params) as { n: number; bits: Buffer | null };
    return row.n > max ? undefined : (frameSetFromBlob(row.bits) ?? null);
  }

  async keyword(
    query: ParsedQuery,
    unfiltered: SearchFilters,
    sort: 'relevance' | 'time',
    depth: number,
  ): Promise<{ candidates: KeywordCandidate[]; total: number }> {
    const filters = this.withFrames(unfiltered);
    const words = wordIndexExpression(query)!;
    const ranked = this.ranked('entries_fts', words, filters, sort, Math.max(1, depth), 0);
    const wordTotal = ranked.total;
    const wordHits: KeywordCandidate[] = ranked.hits.slice(0, depth).map((c) => ({ ...c, source: 'words' }));
    if (wordTotal >= SUBSTRING_FALLBACK_BELOW) return { candidates: wordHits, total: wordTotal };

    // Substrings: trigram MATCH for terms of 3+ characters, LIKE on titles/apps/descriptions for shorter ones.
    // Substring hits exclude what the word index already found and anything an excluded term matches anywhere
    // (the trigram index does not cover OCR text, so it cannot apply the exclusion itself).
    const { expression, short } = substringTerms(query);
    const shortClause = this.shortTermClause(short);
    const excluded = exclusionExpression(query);
    const extra = {
      sql:
        ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @words)' +
        (excluded ? ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @excluded)' : '') +
        (shortClause?.sql ?? ''),
      params: { words, ...(excluded ? { excluded } : {}), ...shortClause?.params },
    };
    let more: KeywordCandidate[];
    let moreTotal: number;
    if (expression) {
      const substrings = this.ranked('entries_trigram', expression, filters, sort, Math.max(1, depth), 0, extra);
      moreTotal = substrings.total;
      // Substring scores are bm25 of another index: halve them so a word match outranks a substring match.
      more = substrings.hits.slice(0, depth).map((c) => ({ ...c, score: c.score / 2, source: 'substring' }));
    } else {
      more = this.likeOnly(filters, extra).map((c) => ({ ...c, source: 'short' }));
      moreTotal = more.length;
    }
    const cjk = this.cjkCandidates(query, filters, sort, depth, words, [...wordHits, ...more]);
    const all = [...wordHits, ...more, ...cjk];
    const candidates = sort === 'time' ? all.sort(byTime) : all;
    return { candidates: candidates.slice(0, depth), total: Math.min(COUNT_CAP, wordTotal + moreTotal + cjk.length) };
  }

  /**
   * CJK words inside longer runs of OCR text, through the bigram index (see cjk.ts). The other terms of the
   * query must match the word index; frames found already are left out.
   */
  private cjkCandidates(
    query: ParsedQuery,
    filters: Filtered,
    sort: 'relevance' | 'time',
    depth: number,
    words: string,
    found: KeywordCandidate[],
  ): KeywordCandidate[] {
    const cjk = cjkExpression(query.include.map((t) => t.text));
    if (!cjk) return [];
    const others = wordIndexExpression({ include: query.include.filter((t) => !hasCjk(t.text)), exclude: query.exclude });
    const excluded = exclusionExpression(query);
    const extra = {
      sql:
        ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @words)' +
        (others
          ? ' AND e.id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @others)'
          : excluded
            ? ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @excluded)'
            : ''),
      params: { words, ...(others ? { others } : excluded ? { excluded } : {}) },
    };
    const seen = new Set(found.map((c) => c.id));
    // Scores of another index: halved like substring matches, so a word match outranks them.
    return this.ranked('entries_cjk', cjk, filters, sort, depth, 0, extra)
      .hits.filter((c) => !seen.has(c.id))
      .map((c) => ({ ...c, score: c.score / 2, source: 'cjk' as const }));
  }

  /** Word matches get word-index snippets, substring matches trigram ones; the others none (the caller falls back). */
  async snippets(query: ParsedQuery, candidates: Array<{ id: number; source: KeywordSource }>): Promise<Map<number, string>> {
    const bySource = (source: KeywordSource) => candidates.filter((c) => c.source === source).map((c) => c.id);
    const words = wordIndexExpression(query);
    const substring = substringTerms(query).expression;
    const snippets = new Map<number, string>();
    if (substring) for (const [id, snippet] of this.snippetsOf('entries_trigram', substring, bySource('substring'))) snippets.set(id, snippet);
    if (words) for (const [id, snippet] of this.snippetsOf('entries_fts', words, bySource('words'))) snippets.set(id, snippet);
    return snippets;
  }

  /** Frames by filters alone (an empty query), newest first, optionally without those matching `exclude`. */
  async browse(filters: SearchFilters, limit: number, offset: number, excludeTerms: Term[]): Promise<{ ids: RankedId[]; total: number }> {
    const params: Record<string, unknown> = { limit, offset, cap: COUNT_CAP };
    const exclude = exclusionExpression({ include: [], exclude: excludeTerms });
    let where = this.where(filters, params);
    if (exclude) {
      where += ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @exclude)';
      params.exclude = exclude;
    }
    const ids = this.db
      .prepare(`SELECT e.id, 0 AS score, e.timestamp FROM entries e WHERE ${where} ORDER BY e.timestamp DESC, e.id DESC LIMIT @limit OFFSET @offset`)
      .all(params) as RankedId[];
    const total = this.db.prepare(`SELECT count(*) FROM (SELECT 1 FROM entries e WHERE ${where} LIMIT @cap)`).pluck().get(params) as number;
    return { ids, total };
  }

  /** Frames whose app, window title or description contain every short term (too short for trigrams). */
  private shortTermClause(terms: string[]): Extra | undefined {
    if (terms.length === 0) return undefined;
    return {
      sql: terms
        .map((_, i) => ` AND (e.title LIKE @short${i} ESCAPE '\\' OR e.app LIKE @short${i} ESCAPE '\\' OR e.description LIKE @short${i} ESCAPE '\\')`)
        .join(''),
      params: Object.fromEntries(terms.map((t, i) => [`short${i}`, likePattern(t)])),
    };
  }

  /** Frames matching only short terms, newest first, up to COUNT_CAP. */
  private likeOnly(filters: Filtered, extra: Extra): RankedId[] {
    if (filters.among === null) return [];
    const params: Record<string, unknown> = { cap: COUNT_CAP };
    const sql = `SELECT e.id, 0 AS score, e.timestamp FROM entries e WHERE ${this.where(filters, params)}${extraSql(extra, params)}
      ORDER BY e.timestamp DESC, e.id DESC LIMIT @cap`;
    return this.db.prepare(sql).all(params) as RankedId[];
  }

  /** FTS5 snippets of these frames, matches between MARK_START and MARK_END. */
  private snippetsOf(table: FtsTable, expression: string, ids: number[]): Map<number, string> {
    if (ids.length === 0) return new Map();
    const sql = `SELECT rowid AS id, snippet(${table}, -1, ?, ?, ?, 24) AS snippet
      FROM ${table} WHERE ${table} MATCH ? AND rowid IN (${ids.map(() => '?').join(',')})`;
    const rows = this.db.prepare(sql).all(MARK_START, MARK_END, ELLIPSIS, expression, ...ids.map(asRowid)) as Array<{ id: number; snippet: string }>;
    return new Map(rows.map((r) => [r.id, r.snippet]));
  }

  // One statement each, prepared once: the ids come as a JSON array (preparing a statement per call cost more
  // than reading the rows).
  private rowsStatement?: Statement;
  private keysStatement?: Statement;

  async rows(ids: number[]): Promise<Map<number, HitRow>> {
    if (ids.length === 0) return new Map();
    this.rowsStatement ??= this.db.prepare(
      `SELECT id, timestamp, app, title, status, text, description, browser_url FROM entries WHERE id IN (SELECT value FROM json_each(?))`,
    );
    const rows = this.rowsStatement.all(JSON.stringify(ids)) as HitRow[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  async keys(ids: number[]): Promise<Map<number, FrameKey>> {
    if (ids.length === 0) return new Map();
    this.keysStatement ??= this.db.prepare(`SELECT id, timestamp, app, title, status, browser_url FROM entries WHERE id IN (SELECT value FROM json_each(?))`);
    const rows = this.keysStatement.all(JSON.stringify(ids)) as FrameKey[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  async matchingAny(ids: number[], terms: Term[]): Promise<Set<number>> {
    const expression = exclusionExpression({ include: [], exclude: terms });
    if (!expression || ids.length === 0) return new Set();
    const matched = this.db
      .prepare(`SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? AND rowid IN (${ids.map(() => '?').join(',')})`)
      .pluck()
      .all(expression, ...ids.map(asRowid)) as number[];
    return new Set(matched);
  }

  /**
   * Ids of frames passing the filters, when there are at most `max` of them (to restrict a vector search); else
   * undefined (the caller filters after the search). The ids come from one index range, never a walk of every
   * frame: see `filterSource`. The range is read once, up to its `max + 1`th frame (it was walked to there
   * first, then read again when it held fewer: twice the work for every filter narrow enough to be used, 100-400 ms
   * for a window filter at 1 000 000 frames).
   */
  async filteredIds(filters: SearchFilters, max: number): Promise<Set<number> | undefined> {
    if (this.native) {
      const set = this.frameSet(filters, max, true);
      return set === undefined ? undefined : set === null ? new Set() : frameSetIds(set);
    }
    return this.rangeIds(filters, max, true);
  }

  /**
   * The frames passing `filters`, from the narrowest index range there is: the window's title words in the
   * trigram index (3 characters or more), else the app with the time range (idx_entries_app_nocase), else the
   * time range (idx_entries_status_timestamp); frames of another status are taken out by their own index (few).
   * What that index does not hold (a title, a URL) is checked on each frame of the range; a window alone only when
   * `exact`: the trigram index finds its frames and a few more (it folds accents and the case of non-ASCII letters,
   * which LIKE does not), so a superset for a keyword search, which checks its matches' filters again. A URL or a
   * short window alone has no such range: then every frame is checked, as before.
   */
  private filterSource(filters: SearchFilters, params: Record<string, unknown>, exact: boolean): string {
    const time = (alias: string) =>
      (filters.start !== undefined ? ` AND ${alias}.timestamp >= @start` : '') + (filters.end !== undefined ? ` AND ${alias}.timestamp <= @end` : '');
    const where = this.where(filters, params); // binds every filter's parameter
    // Each frame of the range is checked in the dense filter index (migration 12), not in its wide row of `entries`
    // (a page read a frame: 190 → 70 ms of CPU for a window filter of 18 000 frames at 1 000 000).
    const checked = (range: string) => `SELECT e.id FROM (${range}) r CROSS JOIN entries e INDEXED BY idx_entries_search_filter ON e.id = r.id WHERE ${where}`;
    const otherStatus = (id: string) => `${id} NOT IN (SELECT id FROM entries WHERE status < @status OR status > @status)`;
    if (filters.window && [...filters.window].length >= 3) {
      params.title = `{title} : "${filters.window.replace(/"/g, '""')}"`;
      const range = `SELECT rowid AS id FROM entries_trigram WHERE entries_trigram MATCH @title AND ${otherStatus('rowid')}`;
      return exact || filters.app || filters.url || filters.start !== undefined || filters.end !== undefined ? checked(range) : range;
    }
    if (filters.app) {
      const range = `SELECT a.id FROM entries a INDEXED BY idx_entries_app_nocase WHERE a.app = @app COLLATE NOCASE${time('a')}
        AND ${otherStatus('a.id')}`;
      return filters.window || filters.url ? checked(range) : range;
    }
    if (filters.start !== undefined || filters.end !== undefined) {
      const range = `SELECT t.id FROM entries t INDEXED BY idx_entries_status_timestamp WHERE t.status = @status${time('t')}`;
      return filters.window || filters.url ? checked(range) : range;
    }
    return `SELECT e.id FROM entries e WHERE ${where}`;
  }

  async apps(): Promise<Array<{ app: string; count: number }>> {
    return this.db
      .prepare(`SELECT app, count(*) AS count FROM entries WHERE app IS NOT NULL AND app <> '' GROUP BY app ORDER BY count DESC, app LIMIT 500`)
      .all() as Array<{ app: string; count: number }>;
  }
}

const byTime = (a: RankedId, b: RankedId) => b.timestamp - a.timestamp || b.id - a.id;

/**
 * A frame id bound as an FTS5 rowid: an integer. better-sqlite3 binds a JavaScript number as a REAL, and FTS5 ignores
 * a rowid constraint whose value is not an integer (while telling SQLite it applied it): `rowid IN (?)` with one id
 * (SQLite makes it `rowid = ?`) then returned, and gave a snippet to, every match of the query. (Several ids pass
 * through an IN list, which converts them to integers.)
 */
const asRowid = (id: number) => BigInt(id);

/**
 * The filters with the frames that pass them, when known (null: none); `amongExact`: those frames and no other
 * pass (the filters need no check).
 */
type Filtered = Omit<SearchFilters, 'frames'> & { among?: FrameSet | ReadonlySet<number> | null; amongExact?: boolean };

/**
 * The matches among these frames only: the index's walk stops at their lowest id (the rowid bounds, which FTS5
 * applies in the index), and each match is tested against the set before its filters are checked in the filter
 * index. Without it a narrow filter (a window title, an app in the last weeks) checked every match of a common word
 * back to the first frame, a page read each: 70-300 ms at 1 000 000 frames. The filters are still applied after,
 * unless the set is exact (`amongExact`): the same matches, the same bm25 scores (computed by the same cursor over
 * the same expression).
 */
function among(frames: FrameSet | ReadonlySet<number> | null | undefined, params: Record<string, unknown>): string {
  if (!frames) return '';
  if ('bits' in frames) {
    Object.assign(params, { frameLow: asRowid(frames.low), frameHigh: asRowid(frames.high), frameBits: frames.bits });
    return ' AND f.rowid >= @frameLow AND f.rowid <= @frameHigh AND openrecall_idset_has(@frameBits, f.rowid)';
  }
  const { low, high } = idBounds(frames);
  Object.assign(params, { frameLow: asRowid(low), frameHigh: asRowid(high), frames: JSON.stringify([...frames]) });
  // `+` keeps SQLite from handing the IN list to FTS5 as rowid constraints (a new cursor, and bm25's count of
  // every match, for each frame).
  return ' AND f.rowid >= @frameLow AND f.rowid <= @frameHigh AND +f.rowid IN (SELECT value FROM json_each(@frames))';
}

interface Extra {
  sql: string;
  params: Record<string, unknown>;
}

function extraSql(extra: Extra | undefined, params: Record<string, unknown>): string {
  if (!extra) return '';
  Object.assign(params, extra.params);
  return extra.sql;
}

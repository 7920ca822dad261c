import { ELLIPSIS, MARK_END, MARK_START } from './snippet-marks.js';
import type { Db } from './database.js';
import type { FrameStatus } from './frames-repository.js';

export interface SearchFilters {
  start?: number;
  end?: number;
  /** Exact application name, case-insensitive. */
  app?: string;
  /** Substring of the window title, case-insensitive. */
  window?: string;
  status?: FrameStatus;
}

export interface RankedId {
  id: number;
  /** Higher is better; comparable within one result list. */
  score: number;
  timestamp: number;
}

export interface HitRow {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  status: FrameStatus;
  text: string | null;
  description: string | null;
}

/** entries_cjk: bigrams of CJK OCR text (migration 6). */
export type FtsTable = 'entries_fts' | 'entries_trigram' | 'entries_cjk';

/** Matches are counted up to this many: beyond it the exact figure helps nobody and costs time. */
export const COUNT_CAP = 1_000;
/**
 * Relevance ranks the most recent this-many matches (FTS5 returns them in id order, so the rank is computed
 * for these only): query time stays flat as the history grows, and in a personal memory the best match is
 * almost never older than thousands of newer ones.
 */
export const RANK_WINDOW = 2_000;

const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * SQL of full-text search: an FTS5 MATCH joined to `entries` for the filters. Expressions come from
 * search/query-parser.ts and are always bound as parameters.
 */
export class SearchRepository {
  constructor(private readonly db: Db) {}

  private where(filters: SearchFilters, params: Record<string, unknown>): string {
    const clauses = ['e.status = @status'];
    params.status = filters.status ?? 'COMPLETED';
    if (filters.start !== undefined) clauses.push('e.timestamp >= @start'), (params.start = filters.start);
    if (filters.end !== undefined) clauses.push('e.timestamp <= @end'), (params.end = filters.end);
    if (filters.app) clauses.push('e.app = @app COLLATE NOCASE'), (params.app = filters.app);
    if (filters.window) clauses.push(`e.title LIKE @window ESCAPE '\\'`), (params.window = likePattern(filters.window));
    return clauses.join(' AND ');
  }

  // The full-text index always drives these queries (CROSS JOIN fixes the join order): the cost follows the
  // number of matches, never the number of frames the filters alone would select.

  /** How many frames match (up to COUNT_CAP). */
  count(table: FtsTable, expression: string, filters: SearchFilters, extra?: Extra): number {
    const params: Record<string, unknown> = { expression, cap: COUNT_CAP };
    const sql = `SELECT count(*) FROM (SELECT 1 FROM ${table} f CROSS JOIN entries e ON e.id = f.rowid
      WHERE ${table} MATCH @expression AND ${this.where(filters, params)}${extraSql(extra, params)} LIMIT @cap)`;
    return this.db.prepare(sql).pluck().get(params) as number;
  }

  /** Matching frames among the RANK_WINDOW most recent matches, best first (bm25) or newest first. */
  ranked(table: FtsTable, expression: string, filters: SearchFilters, sort: 'relevance' | 'time', limit: number, offset: number, extra?: Extra): RankedId[] {
    const params: Record<string, unknown> = { expression, limit, offset, rankWindow: RANK_WINDOW };
    const order = sort === 'time' ? 'timestamp DESC, id DESC' : 'score DESC, id DESC';
    const sql = `SELECT id, score, timestamp FROM (
        SELECT f.rowid AS id, -f.rank AS score, e.timestamp AS timestamp FROM ${table} f CROSS JOIN entries e ON e.id = f.rowid
        WHERE ${table} MATCH @expression AND ${this.where(filters, params)}${extraSql(extra, params)}
        ORDER BY f.rowid DESC LIMIT @rankWindow)
      ORDER BY ${order} LIMIT @limit OFFSET @offset`;
    return this.db.prepare(sql).all(params) as RankedId[];
  }

  /** Frames by filters alone (an empty query), newest first, optionally without those matching `exclude`. */
  browse(filters: SearchFilters, limit: number, offset: number, exclude?: string): { ids: RankedId[]; total: number } {
    const params: Record<string, unknown> = { limit, offset, cap: COUNT_CAP };
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
  shortTermClause(terms: string[]): Extra | undefined {
    if (terms.length === 0) return undefined;
    return {
      sql: terms
        .map((_, i) => ` AND (e.title LIKE @short${i} ESCAPE '\\' OR e.app LIKE @short${i} ESCAPE '\\' OR e.description LIKE @short${i} ESCAPE '\\')`)
        .join(''),
      params: Object.fromEntries(terms.map((t, i) => [`short${i}`, likePattern(t)])),
    };
  }

  /** Frames matching only short terms, newest first, up to COUNT_CAP. */
  likeOnly(filters: SearchFilters, extra: Extra): RankedId[] {
    const params: Record<string, unknown> = { cap: COUNT_CAP };
    const sql = `SELECT e.id, 0 AS score, e.timestamp FROM entries e WHERE ${this.where(filters, params)}${extraSql(extra, params)}
      ORDER BY e.timestamp DESC, e.id DESC LIMIT @cap`;
    return this.db.prepare(sql).all(params) as RankedId[];
  }

  /** FTS5 snippets of these frames, matches between MARK_START and MARK_END. */
  snippets(table: FtsTable, expression: string, ids: number[]): Map<number, string> {
    if (ids.length === 0) return new Map();
    const sql = `SELECT rowid AS id, snippet(${table}, -1, ?, ?, ?, 24) AS snippet
      FROM ${table} WHERE ${table} MATCH ? AND rowid IN (${ids.map(() => '?').join(',')})`;
    const rows = this.db.prepare(sql).all(MARK_START, MARK_END, ELLIPSIS, expression, ...ids) as Array<{ id: number; snippet: string }>;
    return new Map(rows.map((r) => [r.id, r.snippet]));
  }

  rows(ids: number[]): Map<number, HitRow> {
    if (ids.length === 0) return new Map();
    const rows = this.db
      .prepare(`SELECT id, timestamp, app, title, status, text, description FROM entries WHERE id IN (${ids.map(() => '?').join(',')})`)
      .all(...ids) as HitRow[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Ids of frames passing the filters, when there are at most `max` of them (to restrict a vector search). */
  filteredIds(filters: SearchFilters, max: number): Set<number> | undefined {
    const params: Record<string, unknown> = { max: max + 1 };
    const ids = this.db
      .prepare(`SELECT e.id FROM entries e WHERE ${this.where(filters, params)} LIMIT @max`)
      .pluck()
      .all(params) as number[];
    return ids.length > max ? undefined : new Set(ids);
  }

  apps(): Array<{ app: string; count: number }> {
    return this.db
      .prepare(`SELECT app, count(*) AS count FROM entries WHERE app IS NOT NULL AND app <> '' GROUP BY app ORDER BY count DESC, app LIMIT 500`)
      .all() as Array<{ app: string; count: number }>;
  }
}

export interface Extra {
  sql: string;
  params: Record<string, unknown>;
}

function extraSql(extra: Extra | undefined, params: Record<string, unknown>): string {
  if (!extra) return '';
  Object.assign(params, extra.params);
  return extra.sql;
}

import type pg from 'pg';
import { query, transaction } from './pg-query.js';
import type { SearchFilters } from '../ports.js';
import { appAndTimeClauses, clean, SqlParams, WEIGHTS } from './pg-search-query.js';
import { appPackKey } from './pg-word-index-repository.js';

/** Above this many unpacked frames at the head (a backlog), the packs are not worth a second statement. */
const UNPACKED_AT_MOST = 2_000;
/** Above this many changed frames awaiting repair, reading them one by one costs more than the packs save. */
const DIRTY_AT_MOST = 1_000;
/**
 * A prefix of many words ("hal*": a thousand words, 50 000 packs at a million frames) would unpack every posting of
 * each in the newest segments, more than the GIN index's partial match reads: above this many packs, `entries` answers.
 */
const PREFIX_PACKS_AT_MOST = 10_000;
/** A filter's frames may be fewer among the newest segments' matches than expected: the segments kept hold this much more. */
const FILTER_MARGIN = 1.5;

export interface PackedRow {
  id: number;
  score: number;
  timestamp: number;
  total: number;
}

/** A one-word query's only lexeme, as querytree() prints it: `'word'`, or `'prefix':*`. */
export function parseLexeme(tree: string): { lexeme: string; prefix: boolean } | undefined {
  const match = /^'((?:[^'\\]|''|\\.)*)'(:\*)?$/su.exec(tree);
  if (!match) return undefined;
  return { lexeme: match[1]!.replaceAll("''", "'").replace(/\\(.)/gsu, '$1'), prefix: match[2] !== undefined };
}

/** The packs of the query's word, or of every word with its prefix (the column's collation is "C": one key range). */
function ofWord(term: { lexeme: string; prefix: boolean }, params: SqlParams): string {
  const lexeme = params.add(term.lexeme);
  return term.prefix ? `p.lexeme >= ${lexeme} AND p.lexeme < ${lexeme} || chr(1114111) AND starts_with(p.lexeme, ${lexeme})` : `p.lexeme = ${lexeme}`;
}

/** The filters the packs serve: an app (its pack in each segment) and a time range (each segment's span). */
export type PackedFilters = Pick<SearchFilters, 'app' | 'start' | 'end'>;

/**
 * The `window` newest COMPLETED frames matching a query of one word (or one prefix) and passing `filters`, ranked as
 * ts_rank_cd ranks them (normalisation 1|32), best first: the packs of the word's newest segments
 * (pg-word-index-repository.ts), and the frames the packs do not hold as they are now (the head of the history, changed
 * frames) from `entries`. All statements read one snapshot. Undefined when the query is not one lexeme, or when the packs
 * are missing, too far behind, or (for a filtered search) built before they held apps and times: the caller then reads
 * `entries` alone.
 */
export async function packedWordRows(
  pool: pg.Pool,
  tsquery: (params: SqlParams) => string,
  filters: PackedFilters,
  window: number,
  limit: number,
): Promise<PackedRow[] | undefined> {
  const filtered = appAndTimeClauses(filters, new SqlParams()).length > 0;
  return transaction(
    pool,
    async (client) => {
      const probe = new SqlParams();
      const [state] = await query<{ covered: number; newest: number | null; dirty: string[] | null; nodes: number; tree: string; unfilterable: boolean }>(
        client,
        `SELECT s.covered_upto AS covered, (SELECT max(id) FROM entries) AS newest,
           (SELECT array_agg(id) FROM (SELECT DISTINCT id FROM word_index_dirty LIMIT ${DIRTY_AT_MOST + 1}) d) AS dirty,
           numnode(t.q) AS nodes, querytree(t.q) AS tree,
           ${filtered ? 'EXISTS (SELECT 1 FROM word_segments WHERE NOT filterable)' : 'false'} AS unfilterable
         FROM word_index_state s, (SELECT ${tsquery(probe)} AS q) t`,
        probe.values,
      );
      if (!state || state.newest === null || Number(state.covered) <= 0 || state.nodes !== 1 || state.unfilterable) return undefined;
      const term = parseLexeme(state.tree);
      const dirty = (state.dirty ?? []).map(Number);
      if (!term || dirty.length > DIRTY_AT_MOST || Number(state.newest) - Number(state.covered) > UNPACKED_AT_MOST) return undefined;

      if (term.prefix) {
        const counted = new SqlParams();
        const sql = `SELECT count(*)::int AS n FROM (SELECT 1 FROM word_packs p WHERE ${ofWord(term, counted)} LIMIT ${PREFIX_PACKS_AT_MOST + 1}) p`;
        const [packs] = await query<{ n: number }>(client, sql, counted.values);
        if ((packs?.n ?? 0) > PREFIX_PACKS_AT_MOST) return undefined;
      }

      const read = (cut: boolean) => {
        const params = new SqlParams();
        const r = { term, tsquery, covered: Number(state.covered), dirty, window, limit };
        const sql = filtered ? filteredSql({ ...r, filters, cut }, params) : unfilteredSql(r, params);
        return query<PackedRow & { enough: boolean }>(client, sql, params.values);
      };
      let rows = await read(true);
      // The segments kept held fewer matches passing the filters than expected: older ones may hold some of the window.
      if (filtered && (rows.length === 0 || !rows[0]!.enough)) rows = await read(false);
      return rows.map((r) => ({ id: Number(r.id), score: Number(r.score), timestamp: r.timestamp, total: Number(r.total) }));
    },
    'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
  );
}

interface RankedRead {
  term: { lexeme: string; prefix: boolean };
  tsquery: (params: SqlParams) => string;
  covered: number;
  dirty: number[];
  window: number;
  limit: number;
}

/**
 * A one-word search as one statement. Segments are read newest first until they hold the window (a segment's frames
 * matching a prefix are at least as many as those of its most frequent word); the changed frames come from `entries`.
 */
function unfilteredSql(r: RankedRead, params: SqlParams): string {
  const word = ofWord(r.term, params);
  const covered = params.add(r.covered, 'int8');
  const changed = params.add(r.dirty, 'int8[]');
  return `WITH seg AS (
      SELECT p.hi, max(p.n) AS n FROM word_packs p WHERE ${word} AND p.hi <= ${covered} GROUP BY p.hi
    ), kept AS (
      SELECT hi FROM (SELECT hi, sum(n) OVER (ORDER BY hi DESC) - n AS before FROM seg) s
      WHERE before < ${params.add(r.window + r.dirty.length, 'int8')}
    ), packed AS (
      SELECT p.lo + u.off AS id, u.score::float8 AS score
      FROM kept k JOIN word_packs p ON p.hi = k.hi AND ${word}
      CROSS JOIN LATERAL unnest(p.offsets, p.scores) u(off, score)
    ), ${rankedTail(r, {}, covered, changed, params)}, true AS enough
    FROM top JOIN entries e ON e.id = top.id
    ORDER BY top.score DESC, top.id DESC`;
}

/**
 * A filtered one-word search as one statement: the segments the time range overlaps, newest first, until they are
 * expected to hold the window (their matches times the app's share of their frames, as if independent); in each, the
 * word's pack intersected with the app's (intarray's `&`, in C: only the frames holding both reach the executor), and
 * each frame's time checked in the segments the range cuts through. `enough` says whether the kept segments did hold
 * the window; if not, the caller reads every segment (`cut` false).
 */
function filteredSql(r: RankedRead & { filters: PackedFilters; cut: boolean }, params: SqlParams): string {
  const word = ofWord(r.term, params);
  const covered = params.add(r.covered, 'int8');
  const changed = params.add(r.dirty, 'int8[]');
  const { app, start, end } = r.filters;
  const appKey = app ? appPackKey(params.add(clean(app))) : undefined;
  const from = start === undefined ? undefined : params.add(start, 'float8');
  const to = end === undefined ? undefined : params.add(end, 'float8');
  const overlaps = [from && `s.max_ts >= ${from}`, to && `s.min_ts <= ${to}`].filter(Boolean);
  const inside = [from && `s.min_ts >= ${from}`, to && `s.max_ts <= ${to}`].filter(Boolean);
  const inTime = [from && `e.timestamp >= ${from}`, to && `e.timestamp <= ${to}`].filter(Boolean);
  // A word's arrays are read once per segment (`|| '{}'` makes the copy): referenced per frame, each reference would
  // fetch them from TOAST again.
  const matches = appKey
    ? `SELECT p.lo + o.off AS id, d.scores[idx(d.offsets, o.off)]::float8 AS score, k.inside
       FROM kept k JOIN word_packs p ON p.hi = k.hi AND ${word} JOIN word_packs a ON a.lexeme = ${appKey} AND a.hi = k.hi
       CROSS JOIN LATERAL (SELECT p.offsets || '{}'::int4[] AS offsets, p.scores || '{}'::real[] AS scores OFFSET 0) d
       CROSS JOIN LATERAL unnest(d.offsets & a.offsets) o(off)`
    : `SELECT p.lo + u.off AS id, u.score::float8 AS score, k.inside
       FROM kept k JOIN word_packs p ON p.hi = k.hi AND ${word} CROSS JOIN LATERAL unnest(p.offsets, p.scores) u(off, score)`;
  return `WITH seg AS (
      SELECT p.hi, max(p.n)${appKey ? ' * a.n::float8 / (s.hi - s.lo + 1)' : ''} AS n, ${inside.length ? inside.join(' AND ') : 'true'} AS inside
      FROM word_packs p JOIN word_segments s ON s.hi = p.hi ${appKey ? `JOIN word_packs a ON a.lexeme = ${appKey} AND a.hi = p.hi` : ''}
      WHERE ${word} AND p.hi <= ${covered}${overlaps.map((c) => ` AND ${c}`).join('')}
      GROUP BY p.hi, s.hi, s.lo, s.min_ts, s.max_ts${appKey ? ', a.n' : ''}
    ), kept AS (
      SELECT hi, inside FROM (SELECT hi, inside, sum(n) OVER (ORDER BY hi DESC) - n AS before FROM seg) s
      ${r.cut ? `WHERE before < ${params.add(r.window + r.dirty.length, 'int8')} * ${FILTER_MARGIN}` : ''}
    ), packed AS (
      SELECT m.id, m.score FROM (${matches}) m
      ${inTime.length ? `WHERE m.inside OR EXISTS (SELECT 1 FROM entries e WHERE e.id = m.id AND ${inTime.join(' AND ')})` : ''}
    ), ${rankedTail(r, r.filters, covered, changed, params)},
      (SELECT count(DISTINCT id) FROM packed WHERE id <> ALL(${changed})) >= ${params.add(r.window, 'int8')}
        OR (SELECT count(*) FROM kept) = (SELECT count(*) FROM seg) AS enough
    FROM top JOIN entries e ON e.id = top.id
    ORDER BY top.score DESC, top.id DESC`;
}

/**
 * After `packed`: the frames the packs do not hold as they are now, from `entries`; the window (the newest matches, a
 * frame's packs summed: a prefix's words); its best; and the start of the final SELECT.
 */
function rankedTail(r: RankedRead, filters: PackedFilters, covered: string, changed: string, params: SqlParams): string {
  const q = r.tsquery(params);
  const filter = appAndTimeClauses(filters, params)
    .map((c) => ` AND ${c}`)
    .join('');
  return `fresh AS (
      SELECT e.id, ts_rank_cd(${WEIGHTS}, e.search_words, ${q}, 1)::float8 AS score FROM entries e
      WHERE (e.id > ${covered} OR e.id = ANY(${changed})) AND e.status = 'COMPLETED' AND e.search_words @@ ${q}${filter}
    ), win AS (
      SELECT id, sum(score) AS score FROM (
        SELECT id, score FROM packed WHERE id <> ALL(${changed}) UNION ALL SELECT id, score FROM fresh
      ) x GROUP BY id ORDER BY id DESC LIMIT ${params.add(r.window, 'int8')}
    ), top AS (
      SELECT id, (score / (score + 1))::float4 AS score, count(*) OVER () AS total FROM win
      ORDER BY 2 DESC, id DESC LIMIT ${params.add(r.limit, 'int8')}
    )
    SELECT top.id, top.score, e.timestamp, top.total`;
}

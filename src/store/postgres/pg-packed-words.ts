import type pg from 'pg';
import { query, transaction } from './pg-query.js';
import { SqlParams, WEIGHTS } from './pg-search-query.js';

/** Above this many unpacked frames at the head (a backlog), the packs are not worth a second statement. */
const UNPACKED_AT_MOST = 2_000;
/** Above this many changed frames awaiting repair, reading them one by one costs more than the packs save. */
const DIRTY_AT_MOST = 1_000;
/**
 * A prefix of many words ("hal*": a thousand words, 50 000 packs at a million frames) would unpack every posting of
 * each in the newest segments, more than the GIN index's partial match reads: above this many packs, `entries` answers.
 */
const PREFIX_PACKS_AT_MOST = 10_000;

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

/**
 * The `window` newest COMPLETED frames matching a query of one word (or one prefix), ranked as ts_rank_cd ranks them
 * (normalisation 1|32), best first: the packs of the word's newest segments (pg-word-index-repository.ts), and the
 * frames the packs do not hold as they are now (the head of the history, changed frames) from `entries`. Both
 * statements read one snapshot. Undefined when the query is not one lexeme, or when the packs are missing or too far
 * behind: the caller then reads `entries` alone.
 */
export async function packedWordRows(pool: pg.Pool, tsquery: (params: SqlParams) => string, window: number, limit: number): Promise<PackedRow[] | undefined> {
  return transaction(
    pool,
    async (client) => {
      const probe = new SqlParams();
      const [state] = await query<{ covered: number; newest: number | null; dirty: string[] | null; nodes: number; tree: string }>(
        client,
        `SELECT s.covered_upto AS covered, (SELECT max(id) FROM entries) AS newest,
           (SELECT array_agg(id) FROM (SELECT DISTINCT id FROM word_index_dirty LIMIT ${DIRTY_AT_MOST + 1}) d) AS dirty,
           numnode(t.q) AS nodes, querytree(t.q) AS tree
         FROM word_index_state s, (SELECT ${tsquery(probe)} AS q) t`,
        probe.values,
      );
      if (!state || state.newest === null || Number(state.covered) <= 0 || state.nodes !== 1) return undefined;
      const term = parseLexeme(state.tree);
      const dirty = (state.dirty ?? []).map(Number);
      if (!term || dirty.length > DIRTY_AT_MOST || Number(state.newest) - Number(state.covered) > UNPACKED_AT_MOST) return undefined;

      if (term.prefix) {
        const counted = new SqlParams();
        const sql = `SELECT count(*)::int AS n FROM (SELECT 1 FROM word_packs p WHERE ${ofWord(term, counted)} LIMIT ${PREFIX_PACKS_AT_MOST + 1}) p`;
        const [packs] = await query<{ n: number }>(client, sql, counted.values);
        if ((packs?.n ?? 0) > PREFIX_PACKS_AT_MOST) return undefined;
      }

      const params = new SqlParams();
      const q = tsquery(params);
      const word = ofWord(term, params);
      const covered = params.add(Number(state.covered), 'int8');
      const changed = params.add(dirty, 'int8[]');
      // Segments are read newest first until they hold the window (a segment's frames matching a prefix are at least
      // as many as those of its most frequent word), and the changed frames besides.
      const rows = await query<PackedRow>(
        client,
        `WITH seg AS (
           SELECT p.hi, max(p.n) AS n FROM word_packs p WHERE ${word} AND p.hi <= ${covered} GROUP BY p.hi
         ), kept AS (
           SELECT hi FROM (SELECT hi, sum(n) OVER (ORDER BY hi DESC) - n AS before FROM seg) s
           WHERE before < ${params.add(window + dirty.length, 'int8')}
         ), packed AS (
           SELECT p.lo + u.off AS id, u.score::float8 AS score
           FROM kept k JOIN word_packs p ON p.hi = k.hi AND ${word}
           CROSS JOIN LATERAL unnest(p.offsets, p.scores) u(off, score)
         ), fresh AS (
           SELECT e.id, ts_rank_cd(${WEIGHTS}, e.search_words, ${q}, 1)::float8 AS score FROM entries e
           WHERE (e.id > ${covered} OR e.id = ANY(${changed})) AND e.status = 'COMPLETED' AND e.search_words @@ ${q}
         ), win AS (
           SELECT id, sum(score) AS score FROM (
             SELECT id, score FROM packed WHERE id <> ALL(${changed}) UNION ALL SELECT id, score FROM fresh
           ) x GROUP BY id ORDER BY id DESC LIMIT ${params.add(window, 'int8')}
         ), top AS (
           SELECT id, (score / (score + 1))::float4 AS score, count(*) OVER () AS total FROM win
           ORDER BY 2 DESC, id DESC LIMIT ${params.add(limit, 'int8')}
         )
         SELECT top.id, top.score, e.timestamp, top.total FROM top JOIN entries e ON e.id = top.id
         ORDER BY top.score DESC, top.id DESC`,
        params.values,
      );
      return rows.map((r) => ({ id: Number(r.id), score: Number(r.score), timestamp: r.timestamp, total: Number(r.total) }));
    },
    'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
  );
}

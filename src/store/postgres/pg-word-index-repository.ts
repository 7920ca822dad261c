import type pg from 'pg';
import type { WordIndexRepository } from '../ports.js';
import { query, transaction } from './pg-query.js';

/**
 * The packed word index (migration 7): each word's COMPLETED frames and their ranks, packed per segment of frame
 * ids. The idle processor builds a segment once no frame of it is waiting or being processed, small ones at the head
 * of the history (so that few frames are unpacked) and, every `big` ids, one large one in their place (so that
 * a word has few packs to read). A frame changed or deleted after its segment was built is "dirty": search reads it
 * from `entries` until repair() builds its segment again.
 */
export const SEGMENT_SIZES: SegmentSizes = { small: 500, big: 20_000 };
/** Frame ids a segment spans: `big` a multiple of `small`. */
export interface SegmentSizes {
  small: number;
  big: number;
}
/** The advisory lock (two-key form, apart from the one-key locks of withExclusiveLock) that orders marking and building. */
export const WORD_INDEX_LOCK = '20240, 7';
/** How often, and how far apart, the builder tries the lock before it leaves the segment for its next turn. */
const LOCK_ATTEMPTS = 100;
const LOCK_RETRY_MS = 20;
/**
 * The lexeme of a segment's pack of one app's frames (an SQL expression of the app): no word is one, since words hold
 * no control character.
 */
export const appPackKey = (app: string) => `chr(1) || lower(${app})`;
/** Sorting a large segment's matches by word takes ~150 MB; more than the default work_mem, it would spill to disk. */
const BUILD_WORK_MEM = '256MB';

export class PgWordIndexRepository implements WordIndexRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sizes: SegmentSizes = SEGMENT_SIZES,
  ) {}

  async step(): Promise<boolean> {
    return (await this.extend()) || (await this.repair());
  }

  async repairAll(): Promise<void> {
    for (let segment = await this.mostChanged(); segment; segment = await this.mostChanged()) {
      if (!(await this.build(segment.lo, segment.hi))) throw new Error('word index: writers held their lock for seconds; the repair waits for its next turn');
    }
  }

  /**
   * Packs the `big` ids up to the last segment as one segment when small ones hold them; otherwise the next segment of
   * ids, once every frame of it has been processed (a large one when the whole of it can be).
   */
  private async extend(): Promise<boolean> {
    const [state] = await query<{ covered: number; newest: number | null; last_lo: number | null }>(
      this.pool,
      `SELECT covered_upto AS covered, (SELECT max(id) FROM entries) AS newest,
         (SELECT lo FROM word_segments WHERE hi = covered_upto) AS last_lo
       FROM word_index_state`,
    );
    if (!state || state.newest === null) return false;
    const covered = Number(state.covered);
    const newest = Number(state.newest);
    const { small, big } = this.sizes;
    if (covered > 0 && covered % big === 0 && Number(state.last_lo) !== covered - big + 1) return this.build(covered - big + 1, covered);
    for (const size of covered % big === 0 ? [big, small] : [small]) {
      const hi = covered + size;
      if (newest < hi || !(await this.settled(covered + 1, hi))) continue;
      return this.build(covered + 1, hi);
    }
    return false;
  }

  /** Builds again the segment with the most changed frames, if any; else completes the newest built before migration 9. */
  private async repair(): Promise<boolean> {
    const changed = await this.mostChanged();
    if (changed) return this.build(changed.lo, changed.hi);
    const [old] = await query<{ lo: number; hi: number }>(this.pool, 'SELECT lo, hi FROM word_segments WHERE NOT filterable ORDER BY hi DESC LIMIT 1');
    if (!old) return false;
    // The apps and times as they are now: a frame changed since its words were packed is marked already (its segment
    // was built after the marking began), and search reads it from `entries`.
    await transaction(
      this.pool,
      async (client) => {
        await query(client, 'DELETE FROM word_packs WHERE hi = $1 AND starts_with(lexeme, chr(1))', [old.hi]);
        await packAppsAndTimes(client, Number(old.lo), Number(old.hi));
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ',
    );
    return true;
  }

  private async mostChanged(): Promise<{ lo: number; hi: number } | undefined> {
    const [segment] = await query<{ lo: number; hi: number }>(
      this.pool,
      `SELECT s.lo, s.hi FROM word_index_dirty d JOIN word_segments s ON d.id BETWEEN s.lo AND s.hi
        GROUP BY s.lo, s.hi ORDER BY count(*) DESC, s.hi DESC LIMIT 1`,
    );
    return segment && { lo: Number(segment.lo), hi: Number(segment.hi) };
  }

  private async settled(lo: number, hi: number): Promise<boolean> {
    const rows = await query(this.pool, `SELECT 1 FROM entries WHERE id BETWEEN $1 AND $2 AND status IN ('PENDING', 'PROCESSING') LIMIT 1`, [lo, hi]);
    return rows.length === 0;
  }

  /**
   * Packs the ids lo..hi, replacing any segment among them. First every writer that may have changed one of those
   * frames unmarked finishes (the lock), and from then on changes are marked; then the packs are written from one
   * snapshot, which holds every change made before the marking began: each change is packed, or marked, or both.
   */
  private async build(lo: number, hi: number): Promise<boolean> {
    if (!(await this.markUpTo(hi))) return false;
    await transaction(
      this.pool,
      async (client) => {
        await query(client, `SET LOCAL work_mem = '${BUILD_WORK_MEM}'`);
        await query(client, 'DELETE FROM word_packs WHERE hi BETWEEN $1 AND $2', [lo, hi]);
        await query(client, 'DELETE FROM word_segments WHERE hi BETWEEN $1 AND $2', [lo, hi]);
        await query(
          client,
          `INSERT INTO word_packs (lexeme, hi, lo, n, offsets, scores)
           SELECT w.lexeme, $2::int8, $1::int8, count(*), array_agg((e.id - $1::int8)::int4 ORDER BY e.id DESC), array_agg(w.score ORDER BY e.id DESC)
           FROM entries e CROSS JOIN LATERAL openrecall_word_scores(e.search_words) w
           WHERE e.id BETWEEN $1::int8 AND $2::int8 AND e.status = 'COMPLETED'
           GROUP BY w.lexeme`,
          [lo, hi],
        );
        await query(client, 'INSERT INTO word_segments (lo, hi) VALUES ($1, $2)', [lo, hi]);
        await packAppsAndTimes(client, lo, hi);
        await query(client, 'DELETE FROM word_index_dirty WHERE id BETWEEN $1 AND $2', [lo, hi]);
        await query(client, 'UPDATE word_index_state SET covered_upto = greatest(covered_upto, $1)', [hi]);
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ',
    );
    // Search reads a word's packs by the primary key alone once their pages are marked all-visible; autovacuum would
    // come only after a fifth of the table is new.
    if (hi - lo + 1 >= this.sizes.big) await query(this.pool, 'VACUUM (ANALYZE) word_packs');
    return true;
  }

  /**
   * Raises marking_upto once no writer holds the lock. The lock is tried, never waited for: a waiting request would
   * queue the writers' next ones behind it, and a writer waiting for another's row could then close a deadlock.
   */
  private async markUpTo(hi: number): Promise<boolean> {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      const marked = await transaction(this.pool, async (client) => {
        const [lock] = await query<{ locked: boolean }>(client, `SELECT pg_try_advisory_xact_lock(${WORD_INDEX_LOCK}) AS locked`);
        if (!lock?.locked) return false;
        await query(client, 'UPDATE word_index_state SET marking_upto = greatest(marking_upto, $1)', [hi]);
        return true;
      });
      if (marked) return true;
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
    return false;
  }
}

/**
 * A segment's packs of each app's frames and the time its frames span (migration 9), which filtered searches read: the
 * COMPLETED frames lo..hi as the transaction's snapshot holds them. The segment's row exists already.
 */
async function packAppsAndTimes(client: pg.PoolClient, lo: number, hi: number): Promise<void> {
  await query(
    client,
    `INSERT INTO word_packs (lexeme, hi, lo, n, offsets, scores)
     SELECT ${appPackKey('e.app')}, $2::int8, $1::int8, count(*), array_agg((e.id - $1::int8)::int4 ORDER BY e.id DESC), '{}'::real[]
     FROM entries e WHERE e.id BETWEEN $1::int8 AND $2::int8 AND e.status = 'COMPLETED' AND e.app IS NOT NULL
     GROUP BY 1`,
    [lo, hi],
  );
  await query(
    client,
    `UPDATE word_segments SET (min_ts, max_ts, filterable) =
       (SELECT min(timestamp), max(timestamp), true FROM entries WHERE id BETWEEN $1::int8 AND $2::int8 AND status = 'COMPLETED')
     WHERE hi = $2::int8`,
    [lo, hi],
  );
}

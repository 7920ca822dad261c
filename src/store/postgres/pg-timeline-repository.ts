import type pg from 'pg';
import type { TimelineRepository, TimelineRow, TimelineSummary } from '../ports.js';
import { query } from './pg-query.js';

const COLUMNS = 'id, timestamp, app, title, status, width, height';

/** Frames in time order, addressed by their position (0 = oldest); every query walks idx_timestamp (timestamp, id). */
export class PgTimelineRepository implements TimelineRepository {
  constructor(private readonly pool: pg.Pool) {}

  async summary(): Promise<TimelineSummary> {
    const [row] = await query<TimelineSummary>(
      this.pool,
      'SELECT count(*) AS count, min(timestamp) AS first_timestamp, max(timestamp) AS last_timestamp FROM entries',
    );
    return row!;
  }

  page(offset: number, limit: number): Promise<TimelineRow[]> {
    return query<TimelineRow>(this.pool, `SELECT ${COLUMNS} FROM entries ORDER BY timestamp ASC, id ASC LIMIT $1 OFFSET $2`, [limit, offset]);
  }

  async indexOf(row: Pick<TimelineRow, 'id' | 'timestamp'>): Promise<number> {
    const sql = 'SELECT count(*) AS n FROM entries WHERE (timestamp, id) < ($1::float8, $2::bigint)';
    const [result] = await query<{ n: number }>(this.pool, sql, [row.timestamp, row.id]);
    return result!.n;
  }

  async nearest(timestamp: number): Promise<TimelineRow | undefined> {
    const [before] = await query<TimelineRow>(this.pool, `SELECT ${COLUMNS} FROM entries WHERE timestamp <= $1 ORDER BY timestamp DESC, id DESC LIMIT 1`, [
      timestamp,
    ]);
    const [after] = await query<TimelineRow>(this.pool, `SELECT ${COLUMNS} FROM entries WHERE timestamp > $1 ORDER BY timestamp ASC, id ASC LIMIT 1`, [
      timestamp,
    ]);
    if (!before || !after) return before ?? after;
    return after.timestamp - timestamp < timestamp - before.timestamp ? after : before;
  }

  async get(id: number): Promise<TimelineRow | undefined> {
    const [row] = await query<TimelineRow>(this.pool, `SELECT ${COLUMNS} FROM entries WHERE id = $1`, [id]);
    return row;
  }
}

import type { TimelineRepository, TimelineRow, TimelineSummary } from '../ports.js';
import type { Db } from './database.js';

const COLUMNS = 'id, timestamp, app, title, status, width, height';

/**
 * Frames in time order, addressed by their position (0 = oldest). Every query walks idx_timestamp, whose
 * entries end with the rowid, so "ORDER BY timestamp, id" needs no sort and counting a prefix reads only the index.
 */
export class SqliteTimelineRepository implements TimelineRepository {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      summary: db.prepare(`SELECT count(*) AS count, min(timestamp) AS first_timestamp, max(timestamp) AS last_timestamp FROM entries`),
      page: db.prepare(`SELECT ${COLUMNS} FROM entries ORDER BY timestamp ASC, id ASC LIMIT ? OFFSET ?`),
      atOrBefore: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE timestamp <= ? ORDER BY timestamp DESC, id DESC LIMIT 1`),
      after: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE timestamp > ? ORDER BY timestamp ASC, id ASC LIMIT 1`),
      byId: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE id = ?`),
      rank: db.prepare(`SELECT count(*) FROM entries WHERE timestamp < @timestamp OR (timestamp = @timestamp AND id < @id)`).pluck(),
    };
  }

  async summary(): Promise<TimelineSummary> {
    return this.stmt.summary.get() as TimelineSummary;
  }

  /** `limit` frames starting at position `offset`, oldest first. */
  async page(offset: number, limit: number): Promise<TimelineRow[]> {
    return this.stmt.page.all(limit, offset) as TimelineRow[];
  }

  /** Position of a frame in time order. */
  async indexOf(row: Pick<TimelineRow, 'id' | 'timestamp'>): Promise<number> {
    return this.stmt.rank.get({ timestamp: row.timestamp, id: row.id }) as number;
  }

  /** The frame captured closest to `timestamp` (the earlier one on a tie), or undefined when there are none. */
  async nearest(timestamp: number): Promise<TimelineRow | undefined> {
    const before = this.stmt.atOrBefore.get(timestamp) as TimelineRow | undefined;
    const after = this.stmt.after.get(timestamp) as TimelineRow | undefined;
    if (!before || !after) return before ?? after;
    return after.timestamp - timestamp < timestamp - before.timestamp ? after : before;
  }

  async get(id: number): Promise<TimelineRow | undefined> {
    return this.stmt.byId.get(id) as TimelineRow | undefined;
  }
}

import type { TimelineSummary } from '../api/timeline.js';
import type { Db } from './database.js';
import type { FrameStatus } from './frames-repository.js';

/** What the timeline needs of a frame: no OCR text, so a page of hundreds stays a few kilobytes. */
export interface TimelineRow {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  status: FrameStatus;
  width: number | null;
  height: number | null;
}

export type { TimelineSummary };

const COLUMNS = 'id, timestamp, app, title, status, width, height';

/**
 * Frames in time order, addressed by their position (0 = oldest). Every query walks idx_timestamp, whose
 * entries end with the rowid, so "ORDER BY timestamp, id" needs no sort and counting a prefix reads only the index.
 */
export class TimelineRepository {
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

  summary(): TimelineSummary {
    return this.stmt.summary.get() as TimelineSummary;
  }

  /** `limit` frames starting at position `offset`, oldest first. */
  page(offset: number, limit: number): TimelineRow[] {
    return this.stmt.page.all(limit, offset) as TimelineRow[];
  }

  /** Position of a frame in time order. */
  indexOf(row: Pick<TimelineRow, 'id' | 'timestamp'>): number {
    return this.stmt.rank.get({ timestamp: row.timestamp, id: row.id }) as number;
  }

  /** The frame captured closest to `timestamp` (the earlier one on a tie), or undefined when there are none. */
  nearest(timestamp: number): TimelineRow | undefined {
    const before = this.stmt.atOrBefore.get(timestamp) as TimelineRow | undefined;
    const after = this.stmt.after.get(timestamp) as TimelineRow | undefined;
    if (!before || !after) return before ?? after;
    return after.timestamp - timestamp < timestamp - before.timestamp ? after : before;
  }

  get(id: number): TimelineRow | undefined {
    return this.stmt.byId.get(id) as TimelineRow | undefined;
  }
}

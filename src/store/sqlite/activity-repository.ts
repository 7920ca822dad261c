import type { ActivityFrame, ActivityRepository } from '../ports.js';
import type { Db } from './database.js';

/** Frames of a time range in time order, without their text: what activity summaries are made of. */
export class SqliteActivityRepository implements ActivityRepository {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      range: db.prepare(`SELECT id, timestamp, app, title FROM entries WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp ASC, id ASC LIMIT ?`),
    };
  }

  async frames(start: number, end: number, limit: number): Promise<ActivityFrame[]> {
    return this.stmt.range.all(start, end, limit) as ActivityFrame[];
  }
}

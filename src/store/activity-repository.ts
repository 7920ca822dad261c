import type { Db } from './database.js';

export interface ActivityFrame {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
}

/** Frames of a time range in time order, without their text: what activity summaries are made of. */
export class ActivityRepository {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      range: db.prepare(`SELECT id, timestamp, app, title FROM entries WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp ASC, id ASC LIMIT ?`),
    };
  }

  frames(start: number, end: number, limit: number): ActivityFrame[] {
    return this.stmt.range.all(start, end, limit) as ActivityFrame[];
  }
}

import type pg from 'pg';
import type { ActivityFrame, ActivityRepository } from '../ports.js';
import { query } from './pg-query.js';

/** Frames of a time range in time order, without their text: what activity summaries are made of. */
export class PgActivityRepository implements ActivityRepository {
  constructor(private readonly pool: pg.Pool) {}

  frames(start: number, end: number, limit: number): Promise<ActivityFrame[]> {
    const sql = 'SELECT id, timestamp, app, title FROM entries WHERE timestamp >= $1 AND timestamp < $2 ORDER BY timestamp ASC, id ASC LIMIT $3';
    return query<ActivityFrame>(this.pool, sql, [start, end, limit]);
  }
}

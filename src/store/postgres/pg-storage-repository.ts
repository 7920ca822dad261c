import type pg from 'pg';
import type { DeletableFrame, StorageRepository, StorageTotals } from '../ports.js';
import { query } from './pg-query.js';

const FINISHED = `status IN ('COMPLETED', 'FAILED')`;
const PROCESSED = `CASE WHEN image_path IS NOT NULL AND image_path NOT LIKE 'screenshots/incoming/%' THEN 1 ELSE 0 END`;
const DELETABLE_COLUMNS = `id, timestamp, image_path, bytes, ${PROCESSED} AS processed`;

/** The SQL of retention and the storage figures. */
export class PgStorageRepository implements StorageRepository {
  constructor(private readonly pool: pg.Pool) {}

  async oldestTimestamp(): Promise<number | null> {
    const [row] = await query<{ t: number | null }>(this.pool, 'SELECT min(timestamp) AS t FROM entries');
    return row?.t ?? null;
  }

  async totals(): Promise<StorageTotals> {
    const [row] = await query<StorageTotals>(
      this.pool,
      `SELECT coalesce(sum(bytes), 0) AS "imageBytes", count(*) AS frames,
              count(*) FILTER (WHERE ${FINISHED}) AS "processedFrames", count(*) FILTER (WHERE NOT ${FINISHED}) AS "unfinishedFrames"
       FROM entries`,
    );
    return row!;
  }

  deletable(before: number, after: { timestamp: number; id: number }, limit: number): Promise<DeletableFrame[]> {
    return query<DeletableFrame>(
      this.pool,
      `SELECT ${DELETABLE_COLUMNS} FROM entries WHERE ${FINISHED} AND timestamp < $1 AND (timestamp, id) > ($2::float8, $3::bigint)
       ORDER BY timestamp, id LIMIT $4`,
      [before, after.timestamp, after.id, limit],
    );
  }

  async deleteFinished(ids: number[]): Promise<DeletableFrame[]> {
    if (ids.length === 0) return [];
    // A frame that became PENDING/PROCESSING meanwhile (a retry) is skipped: only returned rows' files may go.
    const sql = `DELETE FROM entries WHERE id = ANY($1::bigint[]) AND ${FINISHED} RETURNING ${DELETABLE_COLUMNS}`;
    const rows = await query<DeletableFrame>(this.pool, sql, [ids]);
    const position = new Map(ids.map((id, i) => [id, i]));
    return rows.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  }

  async existing(ids: number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    return new Set((await query<{ id: number }>(this.pool, 'SELECT id FROM entries WHERE id = ANY($1::bigint[])', [ids])).map((r) => r.id));
  }

  withoutBytes(limit: number): Promise<Array<{ id: number; image_path: string }>> {
    return query(this.pool, 'SELECT id, image_path FROM entries WHERE bytes IS NULL AND image_path IS NOT NULL LIMIT $1', [limit]);
  }

  async setBytes(sizes: Array<{ id: number; bytes: number }>): Promise<void> {
    if (sizes.length === 0) return;
    await query(
      this.pool,
      `UPDATE entries e SET bytes = s.bytes FROM unnest($1::bigint[], $2::bigint[]) AS s(id, bytes) WHERE e.id = s.id AND e.bytes IS NULL`,
      [sizes.map((s) => s.id), sizes.map((s) => s.bytes)],
    );
  }
}

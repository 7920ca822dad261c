import type pg from 'pg';
import {
  type FramePatch,
  type FrameRow,
  type FramesRepository,
  type FrameStatus,
  type Lease,
  type ListFilter,
  modeFor,
  PATCHABLE_COLUMNS,
  type NewFrame,
  type ProcessingMode,
  type QueueCounts,
} from '../ports.js';
import { query, queryCount, transaction } from './pg-query.js';
import { PG_IS_INCOMING_UPLOAD } from './migrations/005-incoming-index.js';

/** Every column but the lease: what the API returns for an entry. */
const ENTRY_COLUMNS = `id, app, title, text, timestamp, description, status, capture_id, image_path, monitor, width, height,
  bytes, received_at, attempts, last_error, processing_started_at, processing_finished_at, text_source, browser_url, supplied_text, client_metadata, redaction_version, redactions`;

/** A write of a worker applies only while it still holds the frame (its lease was not taken back). */
const HELD = `status = 'PROCESSING' AND worker_id = $2`;
const LEAVE_PROCESSING = 'worker_id = NULL, lease_expires_at = NULL';

// The caller's clock, like the SQLite store, so one machine's timestamps stay consistent with each other.
const now = () => Date.now() / 1000;
// Leases are set and judged by the database's clock: workers on machines whose clocks differ must agree on when
// a lease runs out.
const DB_NOW = 'extract(epoch from clock_timestamp())::float8';

export class PgFramesRepository implements FramesRepository {
  constructor(private readonly pool: pg.Pool) {}

  async insertPending(frame: NewFrame): Promise<{ id: number; duplicate: boolean }> {
    const [row] = await query<{ id: number }>(
      this.pool,
      `INSERT INTO entries (capture_id, timestamp, app, title, monitor, image_path, width, height, bytes, received_at, status,
         text_source, browser_url, supplied_text, client_metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'PENDING', $11, $12, $13, $14) ON CONFLICT (capture_id) DO NOTHING RETURNING id`,
      [
        frame.captureId,
        frame.timestamp,
        frame.app,
        frame.title,
        frame.monitor,
        frame.imagePath,
        frame.width,
        frame.height,
        frame.bytes,
        frame.receivedAt,
        frame.textSource ?? null,
        frame.browserUrl ?? null,
        frame.suppliedText ?? null,
        frame.clientMetadata ?? null,
      ],
    );
    if (row) return { id: row.id, duplicate: false };
    return { id: (await this.findIdByCaptureId(frame.captureId!))!, duplicate: true };
  }

  /** PostgreSQL keeps no check in the row: its uploads are renamed to names that carry it (IngestService). */
  async uploadCheck(_id: number): Promise<string | undefined> {
    return undefined;
  }

  async findIdByCaptureId(captureId: string): Promise<number | undefined> {
    const [row] = await query<{ id: number }>(this.pool, 'SELECT id FROM entries WHERE capture_id = $1', [captureId]);
    return row?.id;
  }

  async get(id: number): Promise<FrameRow | undefined> {
    const [row] = await query<FrameRow>(this.pool, `SELECT ${ENTRY_COLUMNS} FROM entries WHERE id = $1`, [id]);
    return row;
  }

  async pendingCount(): Promise<number> {
    return this.scalar(`SELECT count(*) AS n FROM entries WHERE status = 'PENDING'`);
  }

  async claimNext(lifoThreshold: number, lease: Lease): Promise<{ entry: FrameRow; mode: ProcessingMode } | undefined> {
    const mode = modeFor(await this.pendingCount(), lifoThreshold);
    const order = mode === 'LIFO' ? 'DESC' : 'ASC';
    const at = now();
    // SKIP LOCKED: a frame another worker is claiming right now is passed over, never handed out twice.
    const [entry] = await query<FrameRow>(
      this.pool,
      `UPDATE entries SET status = 'PROCESSING', attempts = attempts + 1, worker_id = $1, lease_expires_at = ${DB_NOW} + $3::float8,
         processing_started_at = $2, processing_finished_at = NULL
       WHERE status = 'PENDING' AND id = (SELECT id FROM entries WHERE status = 'PENDING' ORDER BY timestamp ${order}, id ${order} LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ${ENTRY_COLUMNS}`,
      [lease.workerId, at, lease.seconds],
    );
    return entry ? { entry, mode } : undefined;
  }

  async renewLease(id: number, lease: Lease): Promise<boolean> {
    const sql = `UPDATE entries SET lease_expires_at = ${DB_NOW} + $3::float8 WHERE id = $1 AND ${HELD}`;
    return (await queryCount(this.pool, sql, [id, lease.workerId, lease.seconds])) === 1;
  }

  async heldBy(id: number, workerId: string): Promise<FrameRow | undefined> {
    const sql = `SELECT ${ENTRY_COLUMNS} FROM entries WHERE id = $1 AND ${HELD} AND lease_expires_at >= ${DB_NOW}`;
    const [row] = await query<FrameRow>(this.pool, sql, [id, workerId]);
    return row;
  }

  async saveResults(id: number, patch: FramePatch, workerId?: string): Promise<boolean> {
    const keys = Object.keys(patch).filter((k) => PATCHABLE_COLUMNS.has(k as keyof FramePatch)) as Array<keyof FramePatch>;
    const params: unknown[] = [id, ...keys.map((k) => patch[k] ?? null)];
    let condition = 'id = $1';
    if (workerId !== undefined) params.push(workerId), (condition += ` AND status = 'PROCESSING' AND worker_id = $${params.length}`);
    if (keys.length === 0) return (await query(this.pool, `SELECT 1 FROM entries WHERE ${condition}`, params)).length === 1;
    const assignments = keys.map((k, i) => `${k} = $${i + 2}`).join(', ');
    return (await queryCount(this.pool, `UPDATE entries SET ${assignments} WHERE ${condition}`, params)) === 1;
  }

  async complete(id: number, workerId: string): Promise<boolean> {
    const sql = `UPDATE entries SET status = 'COMPLETED', last_error = NULL, processing_finished_at = $3, ${LEAVE_PROCESSING} WHERE id = $1 AND ${HELD}`;
    return (await queryCount(this.pool, sql, [id, workerId, now()])) === 1;
  }

  async failAttempt(id: number, error: string, maxAttempts: number, workerId: string): Promise<FrameStatus | undefined> {
    const [row] = await query<{ status: FrameStatus }>(
      this.pool,
      `UPDATE entries SET status = CASE WHEN attempts >= $4 THEN 'FAILED' ELSE 'PENDING' END, last_error = $3, processing_finished_at = $5,
         ${LEAVE_PROCESSING}
       WHERE id = $1 AND ${HELD} RETURNING status`,
      [id, workerId, error, maxAttempts, now()],
    );
    return row?.status;
  }

  async failPermanently(id: number, error: string, workerId: string): Promise<void> {
    const sql = `UPDATE entries SET status = 'FAILED', last_error = $3, processing_finished_at = $4, ${LEAVE_PROCESSING} WHERE id = $1 AND ${HELD}`;
    await query(this.pool, sql, [id, workerId, error, now()]);
  }

  async failCompleted(id: number, error: string): Promise<void> {
    const sql = `UPDATE entries SET status = 'FAILED', last_error = $2, processing_finished_at = $3 WHERE id = $1 AND status = 'COMPLETED'`;
    await query(this.pool, sql, [id, error, now()]);
  }

  async release(id: number, workerId: string): Promise<void> {
    const sql = `UPDATE entries SET status = 'PENDING', attempts = greatest(attempts - 1, 0), processing_started_at = NULL, ${LEAVE_PROCESSING}
                 WHERE id = $1 AND ${HELD}`;
    await query(this.pool, sql, [id, workerId]);
  }

  requeueExpired(crashLimit: number): Promise<{ requeued: number; failed: number }> {
    return this.requeue(crashLimit, true);
  }

  recoverInterrupted(crashLimit: number): Promise<{ requeued: number; failed: number }> {
    return this.requeue(crashLimit, false);
  }

  /**
   * PROCESSING frames whose lease ran out by the database's clock (onlyExpired = false: every one) back to
   * PENDING, or FAILED once interrupted `crashLimit` times.
   */
  private requeue(crashLimit: number, onlyExpired: boolean): Promise<{ requeued: number; failed: number }> {
    const interrupted = `status = 'PROCESSING'${onlyExpired ? ` AND (lease_expires_at IS NULL OR lease_expires_at < ${DB_NOW})` : ''}`;
    return transaction(this.pool, async (client) => {
      const failed = await queryCount(
        client,
        `UPDATE entries SET status = 'FAILED', last_error = 'processing was interrupted ' || attempts || ' times', ${LEAVE_PROCESSING}
         WHERE ${interrupted} AND attempts >= $1`,
        [crashLimit],
      );
      const requeued = await queryCount(
        client,
        `UPDATE entries SET status = 'PENDING', processing_started_at = NULL, ${LEAVE_PROCESSING} WHERE ${interrupted}`,
      );
      return { requeued, failed };
    });
  }

  async counts(): Promise<QueueCounts> {
    const counts: QueueCounts = { pending: 0, processing: 0, completed: 0, failed: 0 };
    for (const row of await query<{ status: FrameStatus; n: number }>(this.pool, 'SELECT status, count(*) AS n FROM entries GROUP BY status')) {
      counts[row.status.toLowerCase() as keyof QueueCounts] = row.n;
    }
    return counts;
  }

  completedWithoutDescription(): Promise<number> {
    return this.scalar(`SELECT count(*) AS n FROM entries WHERE status = 'COMPLETED' AND description IS NULL`);
  }

  unredacted(version: number): Promise<number> {
    return this.scalar(`SELECT count(*) AS n FROM entries WHERE status = 'COMPLETED' AND redaction_version IS DISTINCT FROM $1`, [version]);
  }

  async unredactedIds(version: number, limit: number): Promise<number[]> {
    const sql = `SELECT id FROM entries WHERE status = 'COMPLETED' AND redaction_version IS DISTINCT FROM $1 ORDER BY timestamp DESC LIMIT $2`;
    return (await query<{ id: number }>(this.pool, sql, [version, limit])).map((r) => r.id);
  }

  async completedWithoutDescriptionIds(limit: number): Promise<number[]> {
    const sql = `SELECT id FROM entries WHERE status = 'COMPLETED' AND description IS NULL ORDER BY timestamp DESC LIMIT $1`;
    return (await query<{ id: number }>(this.pool, sql, [limit])).map((r) => r.id);
  }

  async oldestPendingReceivedAt(): Promise<number | null> {
    const [row] = await query<{ n: number | null }>(this.pool, `SELECT min(received_at) AS n FROM entries WHERE status = 'PENDING'`);
    return row?.n ?? null;
  }

  completedSince(since: number): Promise<number> {
    return this.scalar(`SELECT count(*) AS n FROM entries WHERE status = 'COMPLETED' AND processing_finished_at >= $1`, [since]);
  }

  retryFailed(): Promise<number> {
    return queryCount(this.pool, `UPDATE entries SET status = 'PENDING', attempts = 0 WHERE status = 'FAILED'`);
  }

  async retryOne(id: number): Promise<boolean> {
    return (await queryCount(this.pool, `UPDATE entries SET status = 'PENDING', attempts = 0 WHERE id = $1 AND status = 'FAILED'`, [id])) === 1;
  }

  async delete(id: number): Promise<{ deleted: boolean; imagePath: string | null }> {
    const rows = await query<{ image_path: string | null }>(this.pool, `DELETE FROM entries WHERE id = $1 AND status <> 'PROCESSING' RETURNING image_path`, [
      id,
    ]);
    return { deleted: rows.length === 1, imagePath: rows[0]?.image_path ?? null };
  }

  async list(filter: ListFilter): Promise<FrameRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, value: unknown) => {
      params.push(value);
      where.push(condition.replace('?', `$${params.length}`));
    };
    if (filter.beforeId !== undefined) add('id < ?', filter.beforeId);
    if (filter.afterId !== undefined) add('id > ?', filter.afterId);
    if (filter.status) add('status = ?', filter.status);
    if (filter.app) add('app = ?', filter.app);
    params.push(filter.limit);
    // after_id pages towards newer frames: read them oldest-first, then present newest-first.
    const order = filter.afterId !== undefined && filter.beforeId === undefined ? 'ASC' : 'DESC';
    const sql = `SELECT ${ENTRY_COLUMNS} FROM entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT $${params.length}`;
    const rows = await query<FrameRow>(this.pool, sql, params);
    return order === 'ASC' ? rows.reverse() : rows;
  }

  async referencedUploads(): Promise<Set<string>> {
    const sql = `SELECT image_path FROM entries WHERE ${PG_IS_INCOMING_UPLOAD}`;
    return new Set((await query<{ image_path: string }>(this.pool, sql)).map((r) => r.image_path));
  }

  async uploadInUse(imagePath: string): Promise<boolean> {
    const sql = `SELECT 1 FROM entries WHERE status IN ('PENDING', 'PROCESSING', 'FAILED') AND image_path = $1 LIMIT 1`;
    return (await query(this.pool, sql, [imagePath])).length > 0;
  }

  async unprocessedUploads(prefix: string): Promise<{ id: number; imagePath: string }[]> {
    const sql = `SELECT id, image_path FROM entries WHERE status IN ('PENDING', 'PROCESSING') AND starts_with(image_path, $1)`;
    return (await query<{ id: number; image_path: string }>(this.pool, sql, [prefix])).map((r) => ({ id: r.id, imagePath: r.image_path }));
  }

  async deleteLostUpload(id: number, imagePath: string): Promise<boolean> {
    const sql = `DELETE FROM entries WHERE id = $1 AND image_path = $2 AND status IN ('PENDING', 'PROCESSING', 'FAILED') RETURNING id`;
    return (await query(this.pool, sql, [id, imagePath])).length === 1;
  }

  private async scalar(sql: string, params: unknown[] = []): Promise<number> {
    const [row] = await query<{ n: number }>(this.pool, sql, params);
    return row?.n ?? 0;
  }
}

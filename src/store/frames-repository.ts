import type { Db } from './database.js';

export const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
export type FrameStatus = (typeof STATUSES)[number];
export type ProcessingMode = 'LIFO' | 'FIFO';

export interface FrameRow {
  id: number;
  app: string | null;
  title: string | null;
  text: string | null;
  timestamp: number;
  description: string | null;
  status: FrameStatus;
  capture_id: string | null;
  image_path: string | null;
  monitor: number | null;
  width: number | null;
  height: number | null;
  bytes: number | null;
  received_at: number | null;
  attempts: number;
  last_error: string | null;
  processing_started_at: number | null;
  processing_finished_at: number | null;
}

/** Columns a pipeline stage may write back. */
export type FramePatch = Partial<Pick<FrameRow, 'text' | 'description' | 'image_path' | 'width' | 'height' | 'bytes'>>;
const PATCHABLE = new Set<keyof FramePatch>(['text', 'description', 'image_path', 'width', 'height', 'bytes']);

export interface NewFrame {
  captureId: string | null;
  timestamp: number;
  app: string;
  title: string;
  monitor: number | null;
  imagePath: string;
  width: number;
  height: number;
  bytes: number;
  receivedAt: number;
}

export interface QueueCounts {
  pending: number;
  processing: number;
  completed: number;
  failed: number;
}

export interface ListFilter {
  limit: number;
  beforeId?: number;
  afterId?: number;
  status?: FrameStatus;
  app?: string;
}

/** Every column but the raw legacy vector: what the API returns for an entry. */
const ENTRY_COLUMNS = `id, app, title, text, timestamp, description, status, capture_id, image_path, monitor, width, height,
  bytes, received_at, attempts, last_error, processing_started_at, processing_finished_at`;

const now = () => Date.now() / 1000;

/** All SQL touching `entries` lives here. Synchronous by design: better-sqlite3 statements take microseconds. */
export class FramesRepository {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO entries (capture_id, timestamp, app, title, monitor, image_path, width, height, bytes, received_at, status)
         VALUES (@captureId, @timestamp, @app, @title, @monitor, @imagePath, @width, @height, @bytes, @receivedAt, 'PENDING')
         ON CONFLICT(capture_id) DO NOTHING RETURNING id`,
      ),
      idByCaptureId: db.prepare(`SELECT id FROM entries WHERE capture_id = ?`).pluck(),
      get: db.prepare(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE id = ?`),
      countPending: db.prepare(`SELECT count(*) FROM entries WHERE status = 'PENDING'`).pluck(),
      oldestPending: db.prepare(`SELECT id FROM entries WHERE status = 'PENDING' ORDER BY timestamp ASC, id ASC LIMIT 1`).pluck(),
      newestPending: db.prepare(`SELECT id FROM entries WHERE status = 'PENDING' ORDER BY timestamp DESC, id DESC LIMIT 1`).pluck(),
      claim: db.prepare(
        `UPDATE entries SET status = 'PROCESSING', attempts = attempts + 1, processing_started_at = ?, processing_finished_at = NULL
         WHERE id = ? AND status = 'PENDING' RETURNING ${ENTRY_COLUMNS}`,
      ),
      complete: db.prepare(
        `UPDATE entries SET status = 'COMPLETED', last_error = NULL, processing_finished_at = ?
         WHERE id = ? AND status = 'PROCESSING'`,
      ),
      failOrRetry: db
        .prepare(
          `UPDATE entries SET status = CASE WHEN attempts >= @maxAttempts THEN 'FAILED' ELSE 'PENDING' END,
           last_error = @error, processing_finished_at = @now
         WHERE id = @id AND status = 'PROCESSING' RETURNING status`,
        )
        .pluck(),
      failNow: db.prepare(`UPDATE entries SET status = 'FAILED', last_error = ?, processing_finished_at = ? WHERE id = ? AND status = 'PROCESSING'`),
      failCompleted: db.prepare(`UPDATE entries SET status = 'FAILED', last_error = ?, processing_finished_at = ? WHERE id = ? AND status = 'COMPLETED'`),
      release: db.prepare(
        `UPDATE entries SET status = 'PENDING', attempts = max(attempts - 1, 0), processing_started_at = NULL
         WHERE id = ? AND status = 'PROCESSING'`,
      ),
      recoverExhausted: db.prepare(
        `UPDATE entries SET status = 'FAILED', last_error = 'processing was interrupted ' || attempts || ' times'
         WHERE status = 'PROCESSING' AND attempts >= ?`,
      ),
      recover: db.prepare(`UPDATE entries SET status = 'PENDING', processing_started_at = NULL WHERE status = 'PROCESSING'`),
      counts: db.prepare(`SELECT status, count(*) AS n FROM entries GROUP BY status`),
      retryFailed: db.prepare(`UPDATE entries SET status = 'PENDING', attempts = 0 WHERE status = 'FAILED'`),
      retryOne: db.prepare(`UPDATE entries SET status = 'PENDING', attempts = 0 WHERE id = ? AND status = 'FAILED'`),
      delete: db.prepare(`DELETE FROM entries WHERE id = ? AND status <> 'PROCESSING' RETURNING image_path`).pluck(),
      withoutDescription: db.prepare(`SELECT count(*) FROM entries WHERE status = 'COMPLETED' AND description IS NULL`).pluck(),
      withoutDescriptionIds: db.prepare(`SELECT id FROM entries WHERE status = 'COMPLETED' AND description IS NULL ORDER BY timestamp DESC LIMIT ?`).pluck(),
      oldestPendingTime: db.prepare(`SELECT min(received_at) FROM entries WHERE status = 'PENDING'`).pluck(),
      finishedSince: db.prepare(`SELECT count(*) FROM entries WHERE status = 'COMPLETED' AND processing_finished_at >= ?`).pluck(),
      imagePaths: db.prepare(`SELECT image_path FROM entries WHERE image_path LIKE ?`).pluck(),
    };
  }

  /** Inserts a PENDING frame. Returns the new id, or the existing id (duplicate=true) for a known capture_id. */
  insertPending(frame: NewFrame): { id: number; duplicate: boolean } {
    const row = this.stmt.insert.get(frame) as { id: number } | undefined;
    if (row) return { id: row.id, duplicate: false };
    return { id: this.stmt.idByCaptureId.get(frame.captureId) as number, duplicate: true };
  }

  findIdByCaptureId(captureId: string): number | undefined {
    return this.stmt.idByCaptureId.get(captureId) as number | undefined;
  }

  get(id: number): FrameRow | undefined {
    return this.stmt.get.get(id) as FrameRow | undefined;
  }

  pendingCount(): number {
    return this.stmt.countPending.get() as number;
  }

  static modeFor(pending: number, lifoThreshold: number): ProcessingMode {
    return pending > lifoThreshold ? 'LIFO' : 'FIFO';
  }

  /**
   * Atomically moves the next PENDING frame to PROCESSING and returns it. The read and the update share one
   * IMMEDIATE transaction, so no other connection (or process) can claim the same frame.
   */
  claimNext(lifoThreshold: number): { entry: FrameRow; mode: ProcessingMode } | undefined {
    return this.db
      .transaction(() => {
        const mode = FramesRepository.modeFor(this.pendingCount(), lifoThreshold);
        const id = (mode === 'LIFO' ? this.stmt.newestPending : this.stmt.oldestPending).get() as number | undefined;
        if (id === undefined) return undefined;
        const entry = this.stmt.claim.get(now(), id) as FrameRow | undefined;
        return entry ? { entry, mode } : undefined;
      })
      .immediate();
  }

  /** Writes one stage's results while the frame is being processed. */
  saveResults(id: number, patch: FramePatch): void {
    const keys = Object.keys(patch).filter((k) => PATCHABLE.has(k as keyof FramePatch));
    if (keys.length === 0) return;
    const assignments = keys.map((k) => `${k} = @${k}`).join(', ');
    this.db.prepare(`UPDATE entries SET ${assignments} WHERE id = @id`).run({ ...patch, id });
  }

  complete(id: number): boolean {
    return this.stmt.complete.run(now(), id).changes === 1;
  }

  /** Records a failed attempt: back to PENDING while attempts remain, else FAILED. Returns the new status. */
  failAttempt(id: number, error: string, maxAttempts: number): FrameStatus | undefined {
    return this.stmt.failOrRetry.get({ id, error, maxAttempts, now: now() }) as FrameStatus | undefined;
  }

  /** Marks a frame FAILED at once (a permanent error such as a missing image). */
  failPermanently(id: number, error: string): void {
    this.stmt.failNow.run(error, now(), id);
  }

  /** A later stage could not be added to a COMPLETED frame (backfill): FAILED with the reason, results kept. */
  failCompleted(id: number, error: string): void {
    this.stmt.failCompleted.run(error, now(), id);
  }

  /** Hands an unfinished frame back to the queue (shutdown); the interrupted attempt is not counted. */
  release(id: number): void {
    this.stmt.release.run(id);
  }

  /**
   * Start-up recovery: frames left PROCESSING by a crash go back to PENDING. A frame that was interrupted
   * `crashLimit` times is probably what crashes the process, so it is FAILED instead of looping forever.
   */
  recoverInterrupted(crashLimit: number): { requeued: number; failed: number } {
    return this.db.transaction(() => {
      const failed = this.stmt.recoverExhausted.run(crashLimit).changes;
      const requeued = this.stmt.recover.run().changes;
      return { requeued, failed };
    })();
  }

  counts(): QueueCounts {
    const counts: QueueCounts = { pending: 0, processing: 0, completed: 0, failed: 0 };
    for (const row of this.stmt.counts.all() as { status: FrameStatus; n: number }[]) {
      counts[row.status.toLowerCase() as keyof QueueCounts] = row.n;
    }
    return counts;
  }

  /** COMPLETED frames without an AI description (a vision model switched on later), and the newest of them. */
  completedWithoutDescription(): number {
    return this.stmt.withoutDescription.get() as number;
  }

  completedWithoutDescriptionIds(limit: number): number[] {
    return this.stmt.withoutDescriptionIds.all(limit) as number[];
  }

  oldestPendingReceivedAt(): number | null {
    return (this.stmt.oldestPendingTime.get() as number | null) ?? null;
  }

  completedSince(since: number): number {
    return this.stmt.finishedSince.get(since) as number;
  }

  retryFailed(): number {
    return this.stmt.retryFailed.run().changes;
  }

  retryOne(id: number): boolean {
    return this.stmt.retryOne.run(id).changes === 1;
  }

  /** Deletes a frame that is not being processed. Returns its image path, or undefined if nothing was deleted. */
  delete(id: number): { deleted: boolean; imagePath: string | null } {
    const result = this.stmt.delete.all(id) as (string | null)[];
    return { deleted: result.length === 1, imagePath: result[0] ?? null };
  }

  list(filter: ListFilter): FrameRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit };
    if (filter.beforeId !== undefined) where.push('id < @beforeId'), (params.beforeId = filter.beforeId);
    if (filter.afterId !== undefined) where.push('id > @afterId'), (params.afterId = filter.afterId);
    if (filter.status) where.push('status = @status'), (params.status = filter.status);
    if (filter.app) where.push('app = @app'), (params.app = filter.app);
    // after_id pages towards newer frames: read them oldest-first, then present newest-first.
    const order = filter.afterId !== undefined && filter.beforeId === undefined ? 'ASC' : 'DESC';
    const sql = `SELECT ${ENTRY_COLUMNS} FROM entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id ${order} LIMIT @limit`;
    const rows = this.db.prepare(sql).all(params) as FrameRow[];
    return order === 'ASC' ? rows.reverse() : rows;
  }

  /** Image paths referenced by rows, restricted to a path prefix (used to find orphan files). */
  referencedPaths(prefix: string): Set<string> {
    return new Set((this.stmt.imagePaths.all(`${prefix}%`) as string[]).filter(Boolean));
  }
}

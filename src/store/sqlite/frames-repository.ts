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
import type { Db } from './database.js';
import { IS_INCOMING_UPLOAD } from './migrations.js';
import { type Inserted, PendingInserts, type PendingInsertsOptions } from './pending-inserts.js';
import { walSync, type WalSync } from './wal-sync.js';

/** Every column but the raw legacy vector: what the API returns for an entry. */
const ENTRY_COLUMNS = `id, app, title, text, timestamp, description, status, capture_id, image_path, monitor, width, height,
  bytes, received_at, attempts, last_error, processing_started_at, processing_finished_at, text_source, browser_url, supplied_text, client_metadata, redaction_version, redactions`;

const now = () => Date.now() / 1000;

/** The frame is still being processed by the worker (the last bound parameter). */
const HELD = `status = 'PROCESSING' AND worker_id = ?`;
const UNLEASED = 'worker_id = NULL, lease_expires_at = NULL';
/** Frames claimed before leases existed (migration 9) have none: they count as expired. */
const EXPIRED = '(lease_expires_at IS NULL OR lease_expires_at < @now)';

/** All SQL touching `entries` lives here. Async for the port; each body runs synchronously at call time (better-sqlite3 statements take microseconds). */
export class SqliteFramesRepository implements FramesRepository {
  private readonly stmt;
  private readonly wal: WalSync;
  private readonly pending: PendingInserts<NewFrame>;

  /** `grouping`: the group commit's limits (bench/pending-inserts.ts compares them). */
  constructor(
    private readonly db: Db,
    grouping: PendingInsertsOptions = {},
  ) {
    this.wal = walSync(db);
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO entries (capture_id, timestamp, app, title, monitor, image_path, width, height, bytes, received_at, status,
           text_source, browser_url, supplied_text, client_metadata, upload_check)
         VALUES (@captureId, @timestamp, @app, @title, @monitor, @imagePath, @width, @height, @bytes, @receivedAt, 'PENDING',
           @textSource, @browserUrl, @suppliedText, @clientMetadata, @uploadCheck)
         ON CONFLICT(capture_id) DO NOTHING RETURNING id`,
      ),
      idByCaptureId: db.prepare(`SELECT id FROM entries WHERE capture_id = ?`).pluck(),
      uploadCheck: db.prepare(`SELECT upload_check FROM entries WHERE id = ?`).pluck(),
      get: db.prepare(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE id = ?`),
      countPending: db.prepare(`SELECT count(*) FROM entries WHERE status = 'PENDING'`).pluck(),
      oldestPending: db.prepare(`SELECT id FROM entries WHERE status = 'PENDING' ORDER BY timestamp ASC, id ASC LIMIT 1`).pluck(),
      newestPending: db.prepare(`SELECT id FROM entries WHERE status = 'PENDING' ORDER BY timestamp DESC, id DESC LIMIT 1`).pluck(),
      claim: db.prepare(
        `UPDATE entries SET status = 'PROCESSING', attempts = attempts + 1, processing_started_at = @now, processing_finished_at = NULL,
           worker_id = @workerId, lease_expires_at = @expires
         WHERE id = @id AND status = 'PENDING' RETURNING ${ENTRY_COLUMNS}`,
      ),
      renew: db.prepare(`UPDATE entries SET lease_expires_at = ? WHERE id = ? AND ${HELD}`),
      held: db.prepare(`SELECT 1 FROM entries WHERE id = ? AND ${HELD}`).pluck(),
      heldRow: db.prepare(
        `SELECT ${ENTRY_COLUMNS} FROM entries WHERE id = @id AND status = 'PROCESSING' AND worker_id = @workerId AND lease_expires_at >= @now`,
      ),
      complete: db.prepare(
        `UPDATE entries SET status = 'COMPLETED', last_error = NULL, processing_finished_at = ?, ${UNLEASED}
         WHERE id = ? AND ${HELD}`,
      ),
      failOrRetry: db
        .prepare(
          `UPDATE entries SET status = CASE WHEN attempts >= @maxAttempts THEN 'FAILED' ELSE 'PENDING' END,
           last_error = @error, processing_finished_at = @now, ${UNLEASED}
         WHERE id = @id AND status = 'PROCESSING' AND worker_id = @workerId RETURNING status`,
        )
        .pluck(),
      failNow: db.prepare(`UPDATE entries SET status = 'FAILED', last_error = ?, processing_finished_at = ?, ${UNLEASED} WHERE id = ? AND ${HELD}`),
      failCompleted: db.prepare(`UPDATE entries SET status = 'FAILED', last_error = ?, processing_finished_at = ? WHERE id = ? AND status = 'COMPLETED'`),
      release: db.prepare(
        `UPDATE entries SET status = 'PENDING', attempts = max(attempts - 1, 0), processing_started_at = NULL, ${UNLEASED}
         WHERE id = ? AND ${HELD}`,
      ),
      recoverExhausted: db.prepare(
        `UPDATE entries SET status = 'FAILED', last_error = 'processing was interrupted ' || attempts || ' times', ${UNLEASED}
         WHERE status = 'PROCESSING' AND attempts >= ?`,
      ),
      recover: db.prepare(`UPDATE entries SET status = 'PENDING', processing_started_at = NULL, ${UNLEASED} WHERE status = 'PROCESSING'`),
      expiredExhausted: db.prepare(
        `UPDATE entries SET status = 'FAILED', last_error = 'processing was interrupted ' || attempts || ' times', ${UNLEASED}
         WHERE status = 'PROCESSING' AND ${EXPIRED} AND attempts >= @crashLimit`,
      ),
      expired: db.prepare(`UPDATE entries SET status = 'PENDING', processing_started_at = NULL, ${UNLEASED} WHERE status = 'PROCESSING' AND ${EXPIRED}`),
      counts: db.prepare(`SELECT status, count(*) AS n FROM entries GROUP BY status`),
      retryFailed: db.prepare(`UPDATE entries SET status = 'PENDING', attempts = 0 WHERE status = 'FAILED'`),
      retryOne: db.prepare(`UPDATE entries SET status = 'PENDING', attempts = 0 WHERE id = ? AND status = 'FAILED'`),
      delete: db.prepare(`DELETE FROM entries WHERE id = ? AND status <> 'PROCESSING' RETURNING image_path`).pluck(),
      // Frames of one redaction version (NULL: never redacted), each an index range of idx_entries_redaction (named for
      // the next version: without statistics SQLite would walk idx_entries_status_bytes and sort).
      redactionVersionAfter: db
        .prepare(
          `SELECT redaction_version FROM entries INDEXED BY idx_entries_redaction
           WHERE status = 'COMPLETED' AND redaction_version > ? ORDER BY redaction_version LIMIT 1`,
        )
        .pluck(),
      countNeverRedacted: db.prepare(`SELECT count(*) FROM entries WHERE status = 'COMPLETED' AND redaction_version IS NULL`).pluck(),
      countRedactedAt: db.prepare(`SELECT count(*) FROM entries WHERE status = 'COMPLETED' AND redaction_version = ?`).pluck(),
      neverRedacted: db.prepare(`SELECT id, timestamp FROM entries WHERE status = 'COMPLETED' AND redaction_version IS NULL ORDER BY timestamp DESC LIMIT ?`),
      redactedAt: db.prepare(`SELECT id, timestamp FROM entries WHERE status = 'COMPLETED' AND redaction_version = ? ORDER BY timestamp DESC LIMIT ?`),
      withoutDescription: db.prepare(`SELECT count(*) FROM entries WHERE status = 'COMPLETED' AND description IS NULL`).pluck(),
      withoutDescriptionIds: db.prepare(`SELECT id FROM entries WHERE status = 'COMPLETED' AND description IS NULL ORDER BY timestamp DESC LIMIT ?`).pluck(),
      oldestPendingTime: db.prepare(`SELECT min(received_at) FROM entries WHERE status = 'PENDING'`).pluck(),
      // The last minutes' frames through idx_entries_finished: SQLite preferred the status index (every COMPLETED
      // frame's row read: 0.26 s at 100 000 frames, at each queue status).
      finishedSince: db
        .prepare(`SELECT count(*) FROM entries INDEXED BY idx_entries_finished WHERE processing_finished_at >= ? AND status = 'COMPLETED'`)
        .pluck(),
      uploadInUse: db.prepare(`SELECT 1 FROM entries WHERE status IN ('PENDING', 'PROCESSING', 'FAILED') AND image_path = ? LIMIT 1`).pluck(),
      incomingUploads: db.prepare(`SELECT image_path FROM entries WHERE ${IS_INCOMING_UPLOAD}`).pluck(),
      unprocessedUploads: db.prepare(`SELECT id, image_path AS imagePath FROM entries WHERE status IN ('PENDING', 'PROCESSING') AND image_path LIKE ?`),
      deleteLostUpload: db.prepare(`DELETE FROM entries WHERE id = ? AND image_path = ? AND status IN ('PENDING', 'PROCESSING', 'FAILED')`),
    };
    this.pending = new PendingInserts(db, (frame: NewFrame) => this.insertRow(frame), this.wal, grouping);
  }

  /** Commits the inserts still queued, then lets the WAL's kept descriptor go (sqlite-store.ts, before the connection closes). */
  async closeDurable(): Promise<void> {
    await this.pending.drain();
    await this.wal.close();
  }

  /**
   * Inserts a PENDING frame. Returns the new id, or the existing id (duplicate=true) for a known capture_id.
   * Committed with the other uploads in flight (pending-inserts.ts): not yet written when this returns its promise.
   */
  insertPending(frame: NewFrame): Promise<{ id: number; duplicate: boolean }> {
    return this.pending.insert(frame);
  }

  private insertRow(frame: NewFrame): Inserted {
    const row = this.stmt.insert.get({
      textSource: null,
      browserUrl: null,
      suppliedText: null,
      clientMetadata: null,
      uploadCheck: null,
      ...frame,
    }) as { id: number } | undefined;
    if (row) return { id: row.id, duplicate: false };
    return { id: this.stmt.idByCaptureId.get(frame.captureId) as number, duplicate: true };
  }

  async findIdByCaptureId(captureId: string): Promise<number | undefined> {
    return this.stmt.idByCaptureId.get(captureId) as number | undefined;
  }

  async uploadCheck(id: number): Promise<string | undefined> {
    return (this.stmt.uploadCheck.get(id) as string | null | undefined) ?? undefined;
  }

  async get(id: number): Promise<FrameRow | undefined> {
    return this.stmt.get.get(id) as FrameRow | undefined;
  }

  async pendingCount(): Promise<number> {
    return this.stmt.countPending.get() as number;
  }

  /**
   * Atomically moves the next PENDING frame to PROCESSING under `lease` and returns it. The read and the update
   * share one IMMEDIATE transaction, so no other connection (or process) can claim the same frame.
   */
  async claimNext(lifoThreshold: number, lease: Lease): Promise<{ entry: FrameRow; mode: ProcessingMode } | undefined> {
    return this.db
      .transaction(() => {
        const mode = modeFor(this.stmt.countPending.get() as number, lifoThreshold);
        const id = (mode === 'LIFO' ? this.stmt.newestPending : this.stmt.oldestPending).get() as number | undefined;
        if (id === undefined) return undefined;
        const at = now();
        const entry = this.stmt.claim.get({ now: at, id, workerId: lease.workerId, expires: at + lease.seconds }) as FrameRow | undefined;
        return entry ? { entry, mode } : undefined;
      })
      .immediate();
  }

  async renewLease(id: number, lease: Lease): Promise<boolean> {
    return this.stmt.renew.run(now() + lease.seconds, id, lease.workerId).changes === 1;
  }

  async heldBy(id: number, workerId: string): Promise<FrameRow | undefined> {
    return this.stmt.heldRow.get({ id, workerId, now: now() }) as FrameRow | undefined;
  }

  /** Writes one stage's results: while `workerId` holds the frame, or (no worker) to a COMPLETED frame's backfill. */
  async saveResults(id: number, patch: FramePatch, workerId?: string): Promise<boolean> {
    const keys = Object.keys(patch).filter((k) => PATCHABLE_COLUMNS.has(k as keyof FramePatch));
    if (keys.length === 0) return workerId === undefined || this.stmt.held.get(id, workerId) !== undefined;
    const assignments = keys.map((k) => `${k} = @${k}`).join(', ');
    const held = workerId === undefined ? '' : ` AND status = 'PROCESSING' AND worker_id = @workerId`;
    const saved =
      this.db.prepare(`UPDATE entries SET ${assignments} WHERE id = @id${held}`).run({ ...patch, id, ...(workerId === undefined ? {} : { workerId }) })
        .changes === 1;
    // A new image path is followed by the removal of the old file: the switch must survive a power cut first.
    if (saved && patch.image_path !== undefined) await this.wal.sync();
    return saved;
  }

  async complete(id: number, workerId: string): Promise<boolean> {
    return this.stmt.complete.run(now(), id, workerId).changes === 1;
  }

  async failAttempt(id: number, error: string, maxAttempts: number, workerId: string): Promise<FrameStatus | undefined> {
    return this.stmt.failOrRetry.get({ id, error, maxAttempts, now: now(), workerId }) as FrameStatus | undefined;
  }

  async failPermanently(id: number, error: string, workerId: string): Promise<void> {
    this.stmt.failNow.run(error, now(), id, workerId);
  }

  async failCompleted(id: number, error: string): Promise<void> {
    this.stmt.failCompleted.run(error, now(), id);
  }

  async release(id: number, workerId: string): Promise<void> {
    this.stmt.release.run(id, workerId);
  }

  async requeueExpired(crashLimit: number): Promise<{ requeued: number; failed: number }> {
    return this.db
      .transaction(() => {
        const at = now();
        const failed = this.stmt.expiredExhausted.run({ now: at, crashLimit }).changes;
        const requeued = this.stmt.expired.run({ now: at }).changes;
        return { requeued, failed };
      })
      .immediate();
  }

  /**
   * Start-up recovery: frames left PROCESSING by a crash go back to PENDING. A frame that was interrupted
   * `crashLimit` times is probably what crashes the process, so it is FAILED instead of looping forever.
   */
  async recoverInterrupted(crashLimit: number): Promise<{ requeued: number; failed: number }> {
    return this.db.transaction(() => {
      const failed = this.stmt.recoverExhausted.run(crashLimit).changes;
      const requeued = this.stmt.recover.run().changes;
      return { requeued, failed };
    })();
  }

  async counts(): Promise<QueueCounts> {
    const counts: QueueCounts = { pending: 0, processing: 0, completed: 0, failed: 0 };
    for (const row of this.stmt.counts.all() as { status: FrameStatus; n: number }[]) {
      counts[row.status.toLowerCase() as keyof QueueCounts] = row.n;
    }
    return counts;
  }

  /** COMPLETED frames without an AI description (a vision model switched on later), and the newest of them. */
  async completedWithoutDescription(): Promise<number> {
    return this.stmt.withoutDescription.get() as number;
  }

  /**
   * The redaction versions COMPLETED frames have other than `version` (a handful: one per rules change), each found
   * by one seek in idx_entries_redaction. Asking for `redaction_version IS NOT ?` instead walked every frame.
   */
  private otherRedactionVersions(version: number): number[] {
    const versions: number[] = [];
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const next = this.stmt.redactionVersionAfter.get(after) as number | undefined;
      if (next === undefined) return versions;
      if (next !== version) versions.push(next);
      after = next;
    }
  }

  /** COMPLETED frames not redacted by rules `version`: what the index holds of them, not every frame. */
  async unredacted(version: number): Promise<number> {
    let count = this.stmt.countNeverRedacted.get() as number;
    for (const other of this.otherRedactionVersions(version)) count += this.stmt.countRedactedAt.get(other) as number;
    return count;
  }

  /** The newest `limit` of them: the newest of each version's range (never redacted, older rules), merged. */
  async unredactedIds(version: number, limit: number): Promise<number[]> {
    const rows = this.stmt.neverRedacted.all(limit) as Array<{ id: number; timestamp: number }>;
    for (const other of this.otherRedactionVersions(version))
      rows.push(...(this.stmt.redactedAt.all(other, limit) as Array<{ id: number; timestamp: number }>));
    return rows
      .sort((a, b) => b.timestamp - a.timestamp)
      .slice(0, limit)
      .map((row) => row.id);
  }

  async completedWithoutDescriptionIds(limit: number): Promise<number[]> {
    return this.stmt.withoutDescriptionIds.all(limit) as number[];
  }

  async oldestPendingReceivedAt(): Promise<number | null> {
    return (this.stmt.oldestPendingTime.get() as number | null) ?? null;
  }

  async completedSince(since: number): Promise<number> {
    return this.stmt.finishedSince.get(since) as number;
  }

  async retryFailed(): Promise<number> {
    return this.stmt.retryFailed.run().changes;
  }

  async retryOne(id: number): Promise<boolean> {
    return this.stmt.retryOne.run(id).changes === 1;
  }

  /** Deletes a frame that is not being processed. Returns its image path, or undefined if nothing was deleted. */
  async delete(id: number): Promise<{ deleted: boolean; imagePath: string | null }> {
    const result = this.stmt.delete.all(id) as (string | null)[];
    return { deleted: result.length === 1, imagePath: result[0] ?? null };
  }

  async list(filter: ListFilter): Promise<FrameRow[]> {
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

  async referencedUploads(): Promise<Set<string>> {
    return new Set(this.stmt.incomingUploads.all() as string[]);
  }

  async uploadInUse(imagePath: string): Promise<boolean> {
    return this.stmt.uploadInUse.get(imagePath) !== undefined;
  }

  async unprocessedUploads(prefix: string): Promise<{ id: number; imagePath: string }[]> {
    return this.stmt.unprocessedUploads.all(`${prefix}%`) as { id: number; imagePath: string }[];
  }

  async deleteLostUpload(id: number, imagePath: string): Promise<boolean> {
    const deleted = this.stmt.deleteLostUpload.run(id, imagePath).changes === 1;
    if (deleted) await this.wal.sync();
    return deleted;
  }
}

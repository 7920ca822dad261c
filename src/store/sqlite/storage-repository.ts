import type { DeletableFrame, StorageRepository, StorageTotals } from '../ports.js';
import type { Db } from './database.js';

const FINISHED = `status IN ('COMPLETED', 'FAILED')`;
const PROCESSED = `(image_path IS NOT NULL AND image_path NOT LIKE 'screenshots/incoming/%')`;

/** The SQL of retention and the storage figures. */
export class SqliteStorageRepository implements StorageRepository {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      // Reads only the (status, bytes) index: see migration 4.
      totals: db.prepare(
        `SELECT coalesce(sum(bytes), 0) AS imageBytes, count(*) AS frames,
                coalesce(sum(${FINISHED}), 0) AS processedFrames, coalesce(sum(NOT ${FINISHED}), 0) AS unfinishedFrames
         FROM entries`,
      ),
      oldest: db.prepare(`SELECT min(timestamp) FROM entries`).pluck(),
      deletable: db.prepare(
        `SELECT id, timestamp, image_path, bytes, ${PROCESSED} AS processed FROM entries
         WHERE ${FINISHED} AND timestamp < @before AND (timestamp > @afterTimestamp OR (timestamp = @afterTimestamp AND id > @afterId))
         ORDER BY timestamp, id LIMIT @limit`,
      ),
      deleteFinished: db.prepare(`DELETE FROM entries WHERE id = ? AND ${FINISHED} RETURNING id, timestamp, image_path, bytes, ${PROCESSED} AS processed`),
      exists: db.prepare(`SELECT 1 FROM entries WHERE id = ?`).pluck(),
      // Every status listed so that the (status, bytes) index answers it: a seek per status, not a table scan.
      withoutBytes: db.prepare(
        `SELECT id, image_path FROM entries
         WHERE status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED') AND bytes IS NULL AND image_path IS NOT NULL LIMIT ?`,
      ),
      setBytes: db.prepare(`UPDATE entries SET bytes = ? WHERE id = ? AND bytes IS NULL`),
    };
  }

  /** Capture time of the oldest frame (an index seek), null when there is none. */
  async oldestTimestamp(): Promise<number | null> {
    return (this.stmt.oldest.get() as number | null) ?? null;
  }

  async totals(): Promise<StorageTotals> {
    return this.stmt.totals.get() as StorageTotals;
  }

  /**
   * Finished frames captured before `before`, oldest first, after the cursor (timestamp, id). Frames that are
   * PENDING or PROCESSING are never returned: their files belong to the processor.
   */
  async deletable(before: number, after: { timestamp: number; id: number }, limit: number): Promise<DeletableFrame[]> {
    return this.stmt.deletable.all({ before, afterTimestamp: after.timestamp, afterId: after.id, limit }) as DeletableFrame[];
  }

  /**
   * Deletes these frames' rows in one transaction (their full-text entries go with them by trigger, their
   * embeddings by cascade). A frame that became PENDING/PROCESSING meanwhile (a retry) is skipped.
   * Returns the rows actually deleted: only their files may be removed.
   */
  async deleteFinished(ids: number[]): Promise<DeletableFrame[]> {
    return this.db.transaction(() => ids.flatMap((id) => this.stmt.deleteFinished.all(id) as DeletableFrame[])).immediate();
  }

  /** Ids of these that still have a row. */
  async existing(ids: number[]): Promise<Set<number>> {
    return new Set(ids.filter((id) => this.stmt.exists.get(id) !== undefined));
  }

  /** Rows without a recorded size (databases of the Python version), a batch at a time. */
  async withoutBytes(limit: number): Promise<Array<{ id: number; image_path: string }>> {
    return this.stmt.withoutBytes.all(limit) as Array<{ id: number; image_path: string }>;
  }

  async setBytes(sizes: Array<{ id: number; bytes: number }>): Promise<void> {
    this.db.transaction(() => {
      for (const { id, bytes } of sizes) this.stmt.setBytes.run(bytes, id);
    })();
  }
}

import type { CompactedFrame, CompactionCandidate, CompactionRepository, CompactionTotals, LayerRow } from '../ports.js';
import type { Db } from './database.js';

// A frame redacted out of its compacted form waits while its old layer (named by its id) still serves other frames.
const UNCOMPACTED = `status = 'COMPLETED' AND substr(image_path, 1, 8) <> 'compact/' AND image_path NOT LIKE 'screenshots/incoming/%'
  AND NOT EXISTS (SELECT 1 FROM compact_layers l WHERE l.id = entries.id)`;

/**
 * The partial index of the frames not compacted yet (a few: those of the last minutes), named: without statistics
 * SQLite took idx_entries_status_timestamp for its time range and read every COMPLETED frame (1 s at a million, at
 * every idle turn of the processor and every compaction status).
 */
const BY_UNCOMPACTED = 'INDEXED BY idx_entries_uncompacted';

/** The SQL of compaction (tables of migration 7). */
export class SqliteCompactionRepository implements CompactionRepository {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      candidates: db.prepare(
        `SELECT id, timestamp, monitor, image_path, bytes FROM entries ${BY_UNCOMPACTED} WHERE ${UNCOMPACTED} AND timestamp < @before
           AND (timestamp > @afterTimestamp OR (timestamp = @afterTimestamp AND id > @afterId)) ORDER BY timestamp, id LIMIT @limit`,
      ),
      countCandidates: db.prepare(`SELECT count(*) FROM entries ${BY_UNCOMPACTED} WHERE ${UNCOMPACTED} AND timestamp < ?`).pluck(),
      lastCompacted: db.prepare(
        `SELECT f.entry_id AS id, e.image_path AS path FROM compact_frames f JOIN entries e ON e.id = f.entry_id
         WHERE f.monitor IS ? ORDER BY f.entry_id DESC LIMIT 1`,
      ),
      entryPath: db.prepare(`SELECT image_path FROM entries WHERE id = ? AND status = 'COMPLETED'`).pluck(),
      anyEntryPath: db.prepare(`SELECT image_path FROM entries WHERE id = ?`),
      liveLayer: db.prepare(`SELECT 1 FROM compact_layers WHERE id = ? AND refs > 0`).pluck(),
      layerExists: db.prepare(`SELECT 1 FROM compact_layers WHERE id = ?`).pluck(),
      frameExists: db.prepare(`SELECT 1 FROM compact_frames WHERE entry_id = ?`).pluck(),
      insertLayer: db.prepare(`INSERT INTO compact_layers (id, path, bytes, sha256) VALUES (@id, @path, @bytes, @sha256)`),
      insertFrame: db.prepare(`INSERT INTO compact_frames (entry_id, monitor, manifest_bytes, original_bytes, compacted_at) VALUES (?, ?, ?, ?, ?)`),
      insertRef: db.prepare(`INSERT INTO compact_refs (entry_id, layer_id) VALUES (?, ?)`),
      switchEntry: db.prepare(`UPDATE entries SET image_path = ?, bytes = ? WHERE id = ?`),
      unreferenced: db.prepare(`SELECT id, path, bytes, sha256 FROM compact_layers WHERE refs <= 0 LIMIT ?`),
      deleteLayer: db.prepare(`DELETE FROM compact_layers WHERE id = ? AND refs <= 0`),
      liveLayers: db.prepare(`SELECT id, path, bytes, sha256 FROM compact_layers WHERE refs > 0 ORDER BY id`),
      framesUsing: db.prepare(`SELECT entry_id FROM compact_refs WHERE layer_id = ? ORDER BY entry_id`).pluck(),
      compactedFrames: db.prepare(
        `SELECT f.entry_id AS id, e.image_path AS path FROM compact_frames f JOIN entries e ON e.id = f.entry_id ORDER BY f.entry_id`,
      ),
      frameTotals: db.prepare(
        `SELECT count(*) AS frames, coalesce(sum(manifest_bytes), 0) AS manifests, coalesce(sum(original_bytes), 0) AS original FROM compact_frames`,
      ),
      layerBytes: db.prepare(`SELECT coalesce(sum(bytes), 0) FROM compact_layers WHERE refs > 0`).pluck(),
    };
  }

  /** Processed frames captured before `before` that are still separate files, oldest first, after the cursor. */
  async candidates(before: number, after: { timestamp: number; id: number }, limit: number): Promise<CompactionCandidate[]> {
    return this.stmt.candidates.all({ before, afterTimestamp: after.timestamp, afterId: after.id, limit }) as CompactionCandidate[];
  }

  async countCandidates(before: number): Promise<number> {
    return this.stmt.countCandidates.get(before) as number;
  }

  /** The newest compacted frame of a monitor (to share tiles with), if any. */
  async lastCompacted(monitor: number | null): Promise<{ id: number; path: string } | undefined> {
    return this.stmt.lastCompacted.get(monitor) as { id: number; path: string } | undefined;
  }

  /**
   * Points the row at its manifest, in one transaction with the layer and reference rows. Refused (false) when
   * the row changed meanwhile (deleted, retried) or a layer it would share has lost its last user.
   */
  async commit(frame: CompactedFrame, now: number): Promise<boolean> {
    // The original file is deleted right after this commit, so the commit must survive a power cut, not only a
    // crash: this one transaction syncs the WAL (the connection stays at NORMAL for everything else).
    this.db.pragma('synchronous = FULL');
    try {
      return this.switchRow(frame, now);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  private switchRow(frame: CompactedFrame, now: number): boolean {
    return this.db
      .transaction(() => {
        if (this.stmt.entryPath.get(frame.entryId) !== frame.originalPath) return false;
        const own = frame.layer?.id;
        if (frame.layerIds.some((id) => id !== own && this.stmt.liveLayer.get(id) === undefined)) return false;
        if (frame.layer) this.stmt.insertLayer.run(frame.layer);
        this.stmt.insertFrame.run(frame.entryId, frame.monitor, frame.manifestBytes, frame.originalBytes, now);
        for (const id of new Set(frame.layerIds)) this.stmt.insertRef.run(frame.entryId, id);
        this.stmt.switchEntry.run(frame.manifestPath, frame.manifestBytes + (frame.layer?.bytes ?? 0), frame.entryId);
        return true;
      })
      .immediate();
  }

  async release(entryId: number): Promise<void> {
    this.db.prepare('DELETE FROM compact_frames WHERE entry_id = ?').run(entryId);
  }

  /** After a crash: did this frame's switch commit? (its own layer or frame row exists, or the row points at it) */
  async committed(entryId: number, manifestPath: string): Promise<boolean> {
    const row = this.stmt.anyEntryPath.get(entryId) as { image_path: string | null } | undefined;
    return this.stmt.frameExists.get(entryId) !== undefined || this.stmt.layerExists.get(entryId) !== undefined || row?.image_path === manifestPath;
  }

  async entryExists(entryId: number): Promise<boolean> {
    return this.stmt.anyEntryPath.get(entryId) !== undefined;
  }

  async unreferencedLayers(limit: number): Promise<LayerRow[]> {
    return this.stmt.unreferenced.all(limit) as LayerRow[];
  }

  async layerRewritten(id: number, bytes: number, sha256: string): Promise<void> {
    this.db.prepare('UPDATE compact_layers SET bytes = ?, sha256 = ? WHERE id = ?').run(bytes, sha256, id);
  }

  async deleteUnreferencedLayer(id: number): Promise<boolean> {
    return this.stmt.deleteLayer.run(id).changes === 1;
  }

  async liveLayers(): Promise<LayerRow[]> {
    return this.stmt.liveLayers.all() as LayerRow[];
  }

  async framesUsing(layerId: number): Promise<number[]> {
    return this.stmt.framesUsing.all(layerId) as number[];
  }

  async compactedFrames(): Promise<Array<{ id: number; path: string }>> {
    return this.stmt.compactedFrames.all() as Array<{ id: number; path: string }>;
  }

  async totals(): Promise<CompactionTotals> {
    const frames = this.stmt.frameTotals.get() as { frames: number; manifests: number; original: number };
    return {
      compacted_frames: frames.frames,
      stored_bytes: frames.manifests + (this.stmt.layerBytes.get() as number),
      original_bytes: frames.original,
    };
  }
}

import type pg from 'pg';
import type { CompactedFrame, CompactionCandidate, CompactionRepository, CompactionTotals, LayerRow } from '../ports.js';
import { query, queryCount, transaction } from './pg-query.js';

// A frame redacted out of its compacted form waits while its old layer (named by its id) still serves other frames.
const UNCOMPACTED = `status = 'COMPLETED' AND substr(image_path, 1, 8) <> 'compact/' AND image_path NOT LIKE 'screenshots/incoming/%'
  AND NOT EXISTS (SELECT 1 FROM compact_layers l WHERE l.id = entries.id)`;
const LAYER_COLUMNS = 'id, path, bytes, sha256';

/** The SQL of compaction: layers shared by frames, counted by the compact_refs triggers of migration 1. */
export class PgCompactionRepository implements CompactionRepository {
  constructor(private readonly pool: pg.Pool) {}

  candidates(before: number, after: { timestamp: number; id: number }, limit: number): Promise<CompactionCandidate[]> {
    return query<CompactionCandidate>(
      this.pool,
      `SELECT id, timestamp, monitor, image_path, bytes FROM entries WHERE ${UNCOMPACTED} AND timestamp < $1
         AND (timestamp, id) > ($2::float8, $3::bigint) ORDER BY timestamp, id LIMIT $4`,
      [before, after.timestamp, after.id, limit],
    );
  }

  async countCandidates(before: number): Promise<number> {
    const [row] = await query<{ n: number }>(this.pool, `SELECT count(*) AS n FROM entries WHERE ${UNCOMPACTED} AND timestamp < $1`, [before]);
    return row!.n;
  }

  async lastCompacted(monitor: number | null): Promise<{ id: number; path: string } | undefined> {
    const [row] = await query<{ id: number; path: string }>(
      this.pool,
      `SELECT f.entry_id AS id, e.image_path AS path FROM compact_frames f JOIN entries e ON e.id = f.entry_id
       WHERE f.monitor IS NOT DISTINCT FROM $1 ORDER BY f.entry_id DESC LIMIT 1`,
      [monitor],
    );
    return row;
  }

  /**
   * Points the row at its manifest, in one transaction with the layer and reference rows (PostgreSQL commits
   * are durable). Refused when the row changed meanwhile or a layer it would share has lost its last user.
   */
  commit(frame: CompactedFrame, now: number): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      const [row] = await query<{ image_path: string | null }>(client, `SELECT image_path FROM entries WHERE id = $1 AND status = 'COMPLETED' FOR UPDATE`, [
        frame.entryId,
      ]);
      if (row?.image_path !== frame.originalPath) return false;
      const shared = [...new Set(frame.layerIds.filter((id) => id !== frame.layer?.id))];
      // Locked so that the sweep cannot delete a shared layer between this check and the new reference.
      const live = await query(client, 'SELECT id FROM compact_layers WHERE id = ANY($1::bigint[]) AND refs > 0 FOR UPDATE', [shared]);
      if (live.length !== shared.length) return false;
      if (frame.layer) {
        const { id, path, bytes, sha256 } = frame.layer;
        await query(client, 'INSERT INTO compact_layers (id, path, bytes, sha256) VALUES ($1, $2, $3, $4)', [id, path, bytes, sha256]);
      }
      await query(client, 'INSERT INTO compact_frames (entry_id, monitor, manifest_bytes, original_bytes, compacted_at) VALUES ($1, $2, $3, $4, $5)', [
        frame.entryId,
        frame.monitor,
        frame.manifestBytes,
        frame.originalBytes,
        now,
      ]);
      await query(client, 'INSERT INTO compact_refs (entry_id, layer_id) SELECT $1, unnest($2::bigint[])', [frame.entryId, [...new Set(frame.layerIds)]]);
      await query(client, 'UPDATE entries SET image_path = $1, bytes = $2 WHERE id = $3', [
        frame.manifestPath,
        frame.manifestBytes + (frame.layer?.bytes ?? 0),
        frame.entryId,
      ]);
      return true;
    });
  }

  async release(entryId: number): Promise<void> {
    await query(this.pool, 'DELETE FROM compact_frames WHERE entry_id = $1', [entryId]);
  }

  async committed(entryId: number, manifestPath: string): Promise<boolean> {
    const [row] = await query<{ done: boolean }>(
      this.pool,
      `SELECT EXISTS (SELECT 1 FROM compact_frames WHERE entry_id = $1) OR EXISTS (SELECT 1 FROM compact_layers WHERE id = $1)
         OR EXISTS (SELECT 1 FROM entries WHERE id = $1 AND image_path = $2) AS done`,
      [entryId, manifestPath],
    );
    return row!.done;
  }

  async entryExists(entryId: number): Promise<boolean> {
    return (await query(this.pool, 'SELECT 1 FROM entries WHERE id = $1', [entryId])).length > 0;
  }

  unreferencedLayers(limit: number): Promise<LayerRow[]> {
    return query<LayerRow>(this.pool, `SELECT ${LAYER_COLUMNS} FROM compact_layers WHERE refs <= 0 LIMIT $1`, [limit]);
  }

  async layerRewritten(id: number, bytes: number, sha256: string): Promise<void> {
    await query(this.pool, 'UPDATE compact_layers SET bytes = $1, sha256 = $2 WHERE id = $3', [bytes, sha256, id]);
  }

  async deleteUnreferencedLayer(id: number): Promise<boolean> {
    return (await queryCount(this.pool, 'DELETE FROM compact_layers WHERE id = $1 AND refs <= 0', [id])) === 1;
  }

  liveLayers(): Promise<LayerRow[]> {
    return query<LayerRow>(this.pool, `SELECT ${LAYER_COLUMNS} FROM compact_layers WHERE refs > 0 ORDER BY id`);
  }

  async framesUsing(layerId: number): Promise<number[]> {
    return (await query<{ entry_id: number }>(this.pool, 'SELECT entry_id FROM compact_refs WHERE layer_id = $1 ORDER BY entry_id', [layerId])).map(
      (r) => r.entry_id,
    );
  }

  compactedFrames(): Promise<Array<{ id: number; path: string }>> {
    return query(this.pool, 'SELECT f.entry_id AS id, e.image_path AS path FROM compact_frames f JOIN entries e ON e.id = f.entry_id ORDER BY f.entry_id');
  }

  async totals(): Promise<CompactionTotals> {
    const [row] = await query<CompactionTotals>(
      this.pool,
      `SELECT (SELECT count(*) FROM compact_frames) AS compacted_frames,
              (SELECT coalesce(sum(manifest_bytes), 0) FROM compact_frames) + (SELECT coalesce(sum(bytes), 0) FROM compact_layers WHERE refs > 0) AS stored_bytes,
              (SELECT coalesce(sum(original_bytes), 0) FROM compact_frames) AS original_bytes`,
    );
    return row!;
  }
}

import type pg from 'pg';
import type { MaintenanceRepository } from '../ports.js';
import { query } from './pg-query.js';

/** The mark lives in the settings table under a key no runtime setting has, with revision 0 (no client sees it). */
const KEY = 'maintenance.scrub_due';

export class PgMaintenanceRepository implements MaintenanceRepository {
  constructor(private readonly pool: pg.Pool) {}

  async markScrubDue(): Promise<void> {
    await query(
      this.pool,
      `INSERT INTO settings (key, value, revision, updated_at) VALUES ($1, 'true', 0, $2)
       ON CONFLICT (key) DO UPDATE SET updated_at = greatest(excluded.updated_at, settings.updated_at + 1e-6)`,
      [KEY, Date.now() / 1000],
    );
  }

  async scrubDue(): Promise<number | undefined> {
    const [row] = await query<{ updated_at: number }>(this.pool, 'SELECT updated_at FROM settings WHERE key = $1', [KEY]);
    return row?.updated_at;
  }

  /**
   * An UPDATE leaves the old row version (with the old text, and its tsvector and index entries) as a dead
   * tuple until VACUUM removes it; VACUUM (not FULL: that would lock the tables against every server) frees
   * the space for reuse. See SECURITY.md for what it cannot reach (pg_wal, backups, replicas).
   */
  async scrub(due: number): Promise<void> {
    await query(this.pool, 'VACUUM (ANALYZE) entries, embeddings, word_packs');
    await query(this.pool, 'DELETE FROM settings WHERE key = $1 AND updated_at = $2', [KEY, due]);
  }
}

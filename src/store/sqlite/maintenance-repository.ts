import type { MaintenanceRepository } from '../ports.js';
import type { Db } from './database.js';

/** The mark lives in the settings table under a key no runtime setting has, with revision 0 (no client sees it). */
const KEY = 'maintenance.scrub_due';
const FULL_TEXT_TABLES = ['entries_fts', 'entries_trigram', 'entries_cjk'];

export class SqliteMaintenanceRepository implements MaintenanceRepository {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    /** Keyed with a data key (SQLite3 Multiple Ciphers): its temporary files would be plain text. */
    private readonly encrypted = false,
  ) {
    this.stmt = {
      mark: db.prepare(
        `INSERT INTO settings (key, value, revision, updated_at) VALUES ('${KEY}', 'true', 0, ?)
         ON CONFLICT(key) DO UPDATE SET updated_at = max(excluded.updated_at, settings.updated_at + 1e-6)`,
      ),
      due: db.prepare(`SELECT updated_at FROM settings WHERE key = '${KEY}'`).pluck(),
      clear: db.prepare(`DELETE FROM settings WHERE key = '${KEY}' AND updated_at = ?`),
    };
  }

  async markScrubDue(): Promise<void> {
    this.stmt.mark.run(Date.now() / 1000);
  }

  async scrubDue(): Promise<number | undefined> {
    return (this.stmt.due.get() as number | undefined) ?? undefined;
  }

  /**
   * The connection runs with secure_delete (database.ts), so whatever SQLite frees is zeroed. What it never
   * frees on its own goes here: FTS5 keeps a deleted row's terms in its segments until they are merged
   * ('optimize'); VACUUM rewrites every page; the WAL, which still holds the pages as they were, is truncated.
   */
  async scrub(due: number): Promise<void> {
    for (const table of FULL_TEXT_TABLES) this.db.exec(`INSERT INTO ${table}(${table}) VALUES ('optimize')`);
    this.vacuum();
    this.stmt.clear.run(due);
    // Waits (busy_timeout) for readers of the old WAL; a reader that stays makes it report busy: try again.
    for (let attempt = 0; ; attempt++) {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (!result?.busy) return;
      if (attempt === 20) throw new Error('the WAL could not be truncated: a reader kept it open');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * VACUUM builds its new copy of the database in a temporary database: in memory (the connections' temp_store)
   * that would be the whole database in RAM, so a plain database's copy goes to a temporary file as before. An
   * encrypted one is not vacuumed: SQLite3 Multiple Ciphers does not encrypt temporary files, so its copy would be
   * plain text on the disk; what was deleted in it is zeroed already (secure_delete) and every page is encrypted.
   */
  private vacuum(): void {
    if (this.encrypted) return;
    this.db.pragma('temp_store = FILE');
    try {
      this.db.exec('VACUUM');
    } finally {
      this.db.pragma('temp_store = MEMORY');
    }
  }
}

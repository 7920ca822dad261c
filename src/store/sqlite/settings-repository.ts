import type { SettingsRepository, StoredSetting } from '../ports.js';
import type { Db } from './database.js';

/** The server's runtime settings (set from the UI or the Python client's POST /api/config), kept across restarts. */
export class SqliteSettingsRepository implements SettingsRepository {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      all: db.prepare(`SELECT key, value, revision, updated_at FROM settings`),
      upsert: db.prepare(
        `INSERT INTO settings (key, value, revision, updated_at) VALUES (@key, @value, @revision, @updated_at)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, revision = excluded.revision, updated_at = excluded.updated_at`,
      ),
      maxRevision: db
        .prepare(`SELECT max(coalesce((SELECT max(revision) FROM settings), 0), coalesce((SELECT max(desired_revision) FROM capture_clients), 0))`)
        .pluck(),
    };
  }

  async all(): Promise<StoredSetting[]> {
    return this.stmt.all.all() as StoredSetting[];
  }

  /** The next number of the one revision sequence shared by settings and the clients' switches. */
  async nextRevision(): Promise<number> {
    return (this.stmt.maxRevision.get() as number) + 1;
  }

  /** Writes several settings at once, under one new revision. */
  async set(values: Record<string, unknown>): Promise<number> {
    return this.db
      .transaction(() => {
        const revision = (this.stmt.maxRevision.get() as number) + 1;
        const updated_at = Date.now() / 1000;
        for (const [key, value] of Object.entries(values)) this.stmt.upsert.run({ key, value: JSON.stringify(value), revision, updated_at });
        return revision;
      })
      .immediate();
  }
}

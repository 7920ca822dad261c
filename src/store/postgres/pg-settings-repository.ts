import type pg from 'pg';
import type { SettingsRepository, StoredSetting } from '../ports.js';
import { type Queryable, query, transaction } from './pg-query.js';

// One revision sequence shared by settings and the clients' switches: of the two, the later change wins.
const NEXT_REVISION = `SELECT greatest(coalesce((SELECT max(revision) FROM settings), 0), coalesce((SELECT max(desired_revision) FROM capture_clients), 0)) + 1 AS n`;

/** The server's runtime settings, kept across restarts and shared by every server of the database. */
export class PgSettingsRepository implements SettingsRepository {
  constructor(private readonly pool: pg.Pool) {}

  all(): Promise<StoredSetting[]> {
    return query<StoredSetting>(this.pool, 'SELECT key, value, revision, updated_at FROM settings');
  }

  nextRevision(): Promise<number> {
    return nextRevision(this.pool);
  }

  set(values: Record<string, unknown>): Promise<number> {
    return transaction(this.pool, async (client) => {
      // Two servers saving at once take turns, so they never write under the same revision.
      await query(client, `SELECT pg_advisory_xact_lock(hashtext('openrecall_settings'))`);
      const revision = await nextRevision(client);
      const updatedAt = Date.now() / 1000;
      for (const [key, value] of Object.entries(values)) {
        await query(
          client,
          `INSERT INTO settings (key, value, revision, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, revision = excluded.revision, updated_at = excluded.updated_at`,
          [key, JSON.stringify(value), revision, updatedAt],
        );
      }
      return revision;
    });
  }
}

async function nextRevision(db: Queryable): Promise<number> {
  const [row] = await query<{ n: number }>(db, NEXT_REVISION);
  return row!.n;
}

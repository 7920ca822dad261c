import type pg from 'pg';
import type { MemoryLockRepository } from '../ports.js';
import { LOCK_CHANNEL, type PendingListener } from './pg-pending-listener.js';
import { query, transaction } from './pg-query.js';

/** A settings row no runtime setting has, with revision 0 (no client sees it), as the scrub mark is kept. */
const KEY = 'memory.locked';

export class PgMemoryLockRepository implements MemoryLockRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly listener: PendingListener,
  ) {}

  async set(locked: boolean): Promise<void> {
    await transaction(this.pool, async (client) => {
      await query(
        client,
        `INSERT INTO settings (key, value, revision, updated_at) VALUES ($1, $2, 0, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [KEY, JSON.stringify(locked), Date.now() / 1000],
      );
      // Delivered at the commit: a worker woken by it reads the row as committed.
      await query(client, `SELECT pg_notify('${LOCK_CHANNEL}', $1)`, [String(locked)]);
    });
  }

  async locked(): Promise<boolean> {
    const [row] = await query<{ value: string }>(this.pool, 'SELECT value FROM settings WHERE key = $1', [KEY]);
    return row?.value === 'true';
  }

  onChange(listener: () => void): Promise<() => Promise<void>> {
    return this.listener.subscribe(listener);
  }
}

import type { ClientReport, ClientRow, ClientsRepository } from '../ports.js';
import type { Db } from './database.js';

const COLUMNS = `id, kind, host, version, address, first_seen, last_seen, heartbeat_seconds, paused, state, buffer_bytes, buffer_items,
  desired_paused, desired_revision, report`;

/** The capture clients that have called in (POST /api/heartbeat). */
export class SqliteClientsRepository implements ClientsRepository {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      list: db.prepare(`SELECT ${COLUMNS} FROM capture_clients ORDER BY last_seen DESC`),
      get: db.prepare(`SELECT ${COLUMNS} FROM capture_clients WHERE id = ?`),
      lastSeen: db.prepare(`SELECT max(last_seen) FROM capture_clients`).pluck(),
      report: db.prepare(
        `INSERT INTO capture_clients (id, kind, host, version, address, first_seen, last_seen, heartbeat_seconds, paused, state, buffer_bytes, buffer_items, report)
         VALUES (@id, @kind, @host, @version, @address, @now, @now, @heartbeat_seconds, @paused, @state, @buffer_bytes, @buffer_items, @report)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, host = excluded.host, version = excluded.version, address = excluded.address,
           last_seen = excluded.last_seen, heartbeat_seconds = excluded.heartbeat_seconds, paused = excluded.paused, state = excluded.state,
           buffer_bytes = excluded.buffer_bytes, buffer_items = excluded.buffer_items, report = excluded.report`,
      ),
      desire: db.prepare(`UPDATE capture_clients SET desired_paused = ?, desired_revision = ? WHERE id = ?`),
      prune: db.prepare(
        `DELETE FROM capture_clients WHERE last_seen < @seenBefore
           OR id NOT IN (SELECT id FROM capture_clients ORDER BY last_seen DESC, id LIMIT @keep)`,
      ),
    };
  }

  async list(): Promise<ClientRow[]> {
    return this.stmt.list.all() as ClientRow[];
  }

  async get(id: string): Promise<ClientRow | undefined> {
    return this.stmt.get.get(id) as ClientRow | undefined;
  }

  /** Time of the latest heartbeat of any client, Unix seconds; null when none ever called. */
  async lastSeen(): Promise<number | null> {
    return (this.stmt.lastSeen.get() as number | null) ?? null;
  }

  async report(client: ClientReport, now: number): Promise<ClientRow> {
    this.stmt.report.run({ report: null, ...client, paused: client.paused === null ? null : client.paused ? 1 : 0, now });
    return this.stmt.get.get(client.id) as ClientRow;
  }

  /** Records the pause asked of one client; false when no such client. */
  async desirePaused(id: string, paused: boolean, revision: number): Promise<boolean> {
    return this.stmt.desire.run(paused ? 1 : 0, revision, id).changes === 1;
  }

  async prune(keep: number, seenBefore: number): Promise<number> {
    return this.stmt.prune.run({ keep, seenBefore }).changes;
  }
}

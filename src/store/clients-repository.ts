import type { Db } from './database.js';

export interface ClientRow {
  id: string;
  /** `openrecall` (this project's client) or `python` (the Python MyRecall client, which reports nothing but its calls). */
  kind: string;
  host: string | null;
  version: string | null;
  address: string | null;
  first_seen: number;
  last_seen: number;
  heartbeat_seconds: number | null;
  /** What the client last reported: 1 paused, 0 recording, null unknown. */
  paused: number | null;
  state: string | null;
  buffer_bytes: number | null;
  buffer_items: number | null;
  /** The pause asked from the UI for this client (null: never asked), and when (revision). */
  desired_paused: number | null;
  desired_revision: number | null;
}

export interface ClientReport {
  id: string;
  kind: string;
  host: string | null;
  version: string | null;
  address: string | null;
  heartbeat_seconds: number | null;
  paused: boolean | null;
  state: string | null;
  buffer_bytes: number | null;
  buffer_items: number | null;
}

const COLUMNS = `id, kind, host, version, address, first_seen, last_seen, heartbeat_seconds, paused, state, buffer_bytes, buffer_items,
  desired_paused, desired_revision`;

/** The capture clients that have called in (POST /api/heartbeat). */
export class ClientsRepository {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      list: db.prepare(`SELECT ${COLUMNS} FROM capture_clients ORDER BY last_seen DESC`),
      get: db.prepare(`SELECT ${COLUMNS} FROM capture_clients WHERE id = ?`),
      lastSeen: db.prepare(`SELECT max(last_seen) FROM capture_clients`).pluck(),
      report: db.prepare(
        `INSERT INTO capture_clients (id, kind, host, version, address, first_seen, last_seen, heartbeat_seconds, paused, state, buffer_bytes, buffer_items)
         VALUES (@id, @kind, @host, @version, @address, @now, @now, @heartbeat_seconds, @paused, @state, @buffer_bytes, @buffer_items)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, host = excluded.host, version = excluded.version, address = excluded.address,
           last_seen = excluded.last_seen, heartbeat_seconds = excluded.heartbeat_seconds, paused = excluded.paused, state = excluded.state,
           buffer_bytes = excluded.buffer_bytes, buffer_items = excluded.buffer_items`,
      ),
      desire: db.prepare(`UPDATE capture_clients SET desired_paused = ?, desired_revision = ? WHERE id = ?`),
    };
  }

  list(): ClientRow[] {
    return this.stmt.list.all() as ClientRow[];
  }

  get(id: string): ClientRow | undefined {
    return this.stmt.get.get(id) as ClientRow | undefined;
  }

  /** Time of the latest heartbeat of any client, Unix seconds; null when none ever called. */
  lastSeen(): number | null {
    return (this.stmt.lastSeen.get() as number | null) ?? null;
  }

  report(client: ClientReport, now: number): ClientRow {
    this.stmt.report.run({ ...client, paused: client.paused === null ? null : client.paused ? 1 : 0, now });
    return this.get(client.id)!;
  }

  /** Records the pause asked of one client; false when no such client. */
  desirePaused(id: string, paused: boolean, revision: number): boolean {
    return this.stmt.desire.run(paused ? 1 : 0, revision, id).changes === 1;
  }
}

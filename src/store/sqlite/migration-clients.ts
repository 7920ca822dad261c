import type Database from 'better-sqlite3-multiple-ciphers';

/**
 * Version 8. Capture control: the server's runtime settings (the Python client's `/api/config` fields) and the
 * capture clients that have called in, each with what it last reported and the pause the UI asked of it.
 * `revision` orders changes across both tables: of a global setting and a client's own switch, the later wins.
 */
export function createClientsAndSettings(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      revision INTEGER NOT NULL,
      updated_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS capture_clients (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      host TEXT,
      version TEXT,
      address TEXT,
      first_seen REAL NOT NULL,
      last_seen REAL NOT NULL,
      heartbeat_seconds REAL,
      paused INTEGER,
      state TEXT,
      buffer_bytes INTEGER,
      buffer_items INTEGER,
      desired_paused INTEGER,
      desired_revision INTEGER
    );`);
}

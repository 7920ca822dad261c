import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

export interface MigrationContext {
  dataDir: string;
  log: (message: string) => void;
}

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database, context: MigrationContext): void;
}

/**
 * Versioned migrations, tracked in PRAGMA user_version. Each runs inside its own transaction, so a crash
 * mid-migration leaves the previous version intact. Later features append to this list.
 */
export const migrations: Migration[] = [
  { version: 1, name: 'entries table with task-queue fields (upgrades Python OpenRecall databases)', up: createOrUpgradeEntries },
];

export function registerMigration(migration: Migration): void {
  if (migrations.some((m) => m.version === migration.version)) return;
  migrations.push(migration);
  migrations.sort((a, b) => a.version - b.version);
}

export function runMigrations(db: Database.Database, context: MigrationContext): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db, context);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
    context.log(`database migrated to version ${migration.version}: ${migration.name}`);
  }
}

const ENTRIES_COLUMNS = `
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  app TEXT,
  title TEXT,
  text TEXT,
  timestamp REAL NOT NULL,
  embedding BLOB,
  description TEXT,
  status TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
  capture_id TEXT UNIQUE,
  image_path TEXT,
  monitor INTEGER,
  width INTEGER,
  height INTEGER,
  bytes INTEGER,
  received_at REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  processing_started_at REAL,
  processing_finished_at REAL`;

const ENTRIES_INDEXES = `
  CREATE INDEX IF NOT EXISTS idx_timestamp ON entries(timestamp);
  CREATE INDEX IF NOT EXISTS idx_entries_status_timestamp ON entries(status, timestamp);
  CREATE INDEX IF NOT EXISTS idx_entries_app ON entries(app);
  CREATE INDEX IF NOT EXISTS idx_entries_finished ON entries(processing_finished_at);`;

function tableColumns(db: Database.Database, table: string): Set<string> {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

/**
 * Version 1. On a fresh database this creates `entries`. On a database made by the Python OpenRecall
 * (`entries` with `timestamp INTEGER UNIQUE`, optional `description` and `status`) it rebuilds the table:
 * SQLite cannot drop a UNIQUE constraint in place, and two monitors may capture in the same second.
 * Every legacy row is copied with its id; rows without a status become COMPLETED; the image path is
 * recorded from the file actually present (`<timestamp>.png`, else `.webp`).
 */
function createOrUpgradeEntries(db: Database.Database, context: MigrationContext): void {
  const legacy = tableColumns(db, 'entries');
  if (legacy.size === 0) {
    db.exec(`CREATE TABLE entries (${ENTRIES_COLUMNS});${ENTRIES_INDEXES}`);
    return;
  }

  const has = (column: string) => legacy.has(column);
  const pick = (column: string, fallback = 'NULL') => (has(column) ? column : fallback);
  const status = has('status')
    ? `CASE WHEN upper(status) IN ('PENDING','PROCESSING','COMPLETED','FAILED') THEN upper(status)
            WHEN status IS NULL OR status = '' THEN 'COMPLETED' ELSE 'FAILED' END`
    : `'COMPLETED'`;
  const lastError = has('status')
    ? `CASE WHEN status IS NOT NULL AND status <> '' AND upper(status) NOT IN ('PENDING','PROCESSING','COMPLETED','FAILED')
            THEN 'unknown legacy status ' || status END`
    : 'NULL';

  db.exec(`DROP INDEX IF EXISTS idx_timestamp;`);
  db.exec(`ALTER TABLE entries RENAME TO entries_legacy;`);
  db.exec(`CREATE TABLE entries (${ENTRIES_COLUMNS});`);
  const copied = db
    .prepare(
      `INSERT INTO entries (id, app, title, text, timestamp, embedding, description, status, last_error, image_path)
       SELECT id, ${pick('app')}, ${pick('title')}, ${pick('text')}, coalesce(timestamp, 0), ${pick('embedding')},
              ${pick('description')}, ${status}, ${lastError}, NULL
       FROM entries_legacy`,
    )
    .run().changes;

  // Record where each legacy image really is. One directory listing instead of a stat per row.
  const present = listFiles(path.join(context.dataDir, 'screenshots'));
  const setPath = db.prepare(`UPDATE entries SET image_path = ? WHERE id = ?`);
  const rows = db.prepare(`SELECT id, timestamp FROM entries`).all() as { id: number; timestamp: number }[];
  let missing = 0;
  for (const row of rows) {
    const stem = String(Math.trunc(row.timestamp));
    const name = [`${stem}.png`, `${stem}.webp`, `${stem}.jpg`].find((n) => present.has(n));
    if (!name) missing++;
    setPath.run(`screenshots/${name ?? `${stem}.png`}`, row.id);
  }
  db.exec(`DROP TABLE entries_legacy;${ENTRIES_INDEXES}`);
  context.log(`upgraded legacy OpenRecall database: ${copied} entries kept (${missing} without an image file)`);
}

function listFiles(dir: string): Set<string> {
  try {
    return new Set(fs.readdirSync(dir));
  } catch {
    return new Set();
  }
}

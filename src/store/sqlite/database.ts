import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { syncDirectory } from '../../files/atomic-write.js';
import { DIRECTORY_MODE } from '../../files/owner-only.js';
import { checkSchemaVersion, runMigrations, type MigrationContext } from './migrations.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Data directory the stored image paths are relative to (legacy migration probes files there). */
  dataDir: string;
  readonly?: boolean;
  log?: (message: string) => void;
  /**
   * False for the HTTP server's connection: a checkpoint copies the WAL into the database and syncs it, which
   * must not stall request handling. The processor's connection does the checkpoints instead.
   */
  checkpoints?: boolean;
}

/** Opens (creating if needed) the SQLite database in WAL mode and brings its schema up to date. */
export function openDatabase(file: string, options: OpenDatabaseOptions): Db {
  if (!options.readonly) fs.mkdirSync(path.dirname(file), { recursive: true, mode: DIRECTORY_MODE });
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    db.pragma('busy_timeout = 5000');
    checkSchemaVersion(db);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // What is deleted or overwritten (redacted text, deleted frames) is zeroed, not left in free space; its
      // cost did not show next to the noise (bench/secure-delete.ts, BENCHMARKS.md).
      db.pragma('secure_delete = ON');
      if (options.checkpoints === false) db.pragma('wal_autocheckpoint = 0');
      const context: MigrationContext = { dataDir: options.dataDir, log: options.log ?? (() => {}) };
      runMigrations(db, context);
      // The database and WAL files' names: commits are made durable by fsyncing the WAL (wal-sync.ts).
      syncDirectory(path.dirname(file));
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

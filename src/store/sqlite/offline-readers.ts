import type Database from 'better-sqlite3-multiple-ciphers';
import type { CompactionRepository } from '../ports.js';
import { SqliteCompactionRepository } from './compaction-repository.js';
import { openKeyedDatabase } from './database.js';
import type { DatabaseKey } from '../../encryption/data-key.js';

/** A completed frame as `openrecall export` writes it (its image read separately). */
export interface ExportRow {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  monitor: number | null;
  capture_id: string | null;
  width: number | null;
  height: number | null;
  text: string | null;
  description: string | null;
  image_path: string | null;
}

/**
 * The database opened read-only, for the offline CLI tools that also run while a server holds the data dir:
 * nothing is migrated or written, and a server's writes only wait.
 */
function openReadonly(file: string, databaseKey?: DatabaseKey): Database.Database {
  const db = openKeyedDatabase(file, { readonly: true, fileMustExist: true }, databaseKey);
  db.pragma('busy_timeout = 5000');
  return db;
}

export interface ExportReader {
  /** COMPLETED frames captured in [since, until), in time order. */
  frames(since: number, until: number): Promise<ExportRow[]>;
  /** The frame's image path now (compaction may have moved it since `frames`). */
  currentPath(id: number): Promise<string | null>;
  close(): Promise<void>;
}

export function openExportReader(file: string, databaseKey?: DatabaseKey): ExportReader {
  const db = openReadonly(file, databaseKey);
  const current = db.prepare(`SELECT image_path FROM entries WHERE id = ?`).pluck();
  return {
    frames: async (since, until) =>
      db
        .prepare(
          `SELECT id, timestamp, app, title, monitor, capture_id, width, height, text, description, image_path FROM entries
           WHERE status = 'COMPLETED' AND timestamp >= ? AND timestamp < ? ORDER BY timestamp, id`,
        )
        .all(since, until) as ExportRow[],
    currentPath: async (id) => (current.get(id) as string | null | undefined) ?? null,
    close: async () => {
      db.close();
    },
  };
}

/**
 * The compaction tables, read-only (`doctor`'s check of compacted frames). Undefined when the database cannot
 * be opened or predates compaction.
 */
export function openCompactionReader(
  file: string,
  databaseKey?: DatabaseKey,
): { repo: Pick<CompactionRepository, 'liveLayers' | 'compactedFrames' | 'framesUsing'>; close(): void } | undefined {
  let db: Database.Database;
  try {
    db = openReadonly(file, databaseKey);
  } catch {
    return undefined;
  }
  try {
    if (db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'compact_layers'`).get() === undefined) {
      db.close();
      return undefined;
    }
    return { repo: new SqliteCompactionRepository(db), close: () => db.close() };
  } catch (error) {
    db.close();
    throw error;
  }
}

import type { Store } from '../ports.js';
import { SqliteActivityRepository } from './activity-repository.js';
import { SqliteCjkIndexRepository } from './cjk-index-repository.js';
import { SqliteClientsRepository } from './clients-repository.js';
import { SqliteCompactionRepository } from './compaction-repository.js';
import { type Db, openDatabase, type OpenDatabaseOptions } from './database.js';
import { SqliteEmbeddingsRepository } from './embeddings-repository.js';
import { SqliteFramesRepository } from './frames-repository.js';
import { SqliteMaintenanceRepository } from './maintenance-repository.js';
import { SqliteSearchRepository } from './search-repository.js';
import { SqliteSettingsRepository } from './settings-repository.js';
import { SqliteStorageRepository } from './storage-repository.js';
import { SqliteTimelineRepository } from './timeline-repository.js';

export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  /** The connection itself, for the SQLite-only work kept in store/sqlite (checkpoints). */
  readonly db: Db;
}

/** Opens (creating and migrating if needed) the SQLite database and its repositories. */
export function openSqliteStore(file: string, options: OpenDatabaseOptions): SqliteStore {
  return sqliteStore(openDatabase(file, options), { encrypted: options.databaseKey !== undefined });
}

/** The repositories of an open connection (`encrypted`: keyed with a data key). */
export function sqliteStore(db: Db, { encrypted = false } = {}): SqliteStore {
  const frames = new SqliteFramesRepository(db);
  return {
    kind: 'sqlite',
    db,
    frames,
    search: new SqliteSearchRepository(db),
    timeline: new SqliteTimelineRepository(db),
    activity: new SqliteActivityRepository(db),
    embeddings: new SqliteEmbeddingsRepository(db),
    cjkIndex: new SqliteCjkIndexRepository(db),
    storage: new SqliteStorageRepository(db),
    compaction: new SqliteCompactionRepository(db),
    clients: new SqliteClientsRepository(db),
    settings: new SqliteSettingsRepository(db),
    maintenance: new SqliteMaintenanceRepository(db, encrypted),
    // The one processor is woken by the server over IPC.
    onPendingFrames: async () => async () => {},
    // One server per data directory (data-dir-lock.ts): no other process can hold the lock.
    withExclusiveLock: async (_name, task) => {
      await task();
      return true;
    },
    close: async () => {
      await frames.closeDurable();
      db.close();
    },
  };
}

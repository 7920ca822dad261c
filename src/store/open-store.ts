import type { Store } from './ports.js';
import type { Db } from './sqlite/database.js';
import type { SqliteStore } from './sqlite/sqlite-store.js';
import type { DatabaseKey } from '../encryption/data-key.js';

export type { Db };
// The one way into a concrete store from outside src/store (test/architecture.test.ts checks it): the offline
// readers of `export` and `doctor`, and what `migrate-db` and `doctor` need of PostgreSQL.
export { openCompactionReader, openExportReader, type ExportRow } from './sqlite/offline-readers.js';
export { DatabaseKeyError } from './sqlite/database.js';
export { redactDatabaseUrl } from './postgres/pg-connection-errors.js';
export type { DatabaseProbe } from './postgres/pg-probe.js';

export interface OpenStoreOptions {
  /** OPENRECALL_DATABASE_URL: PostgreSQL when set, else SQLite in the data dir. */
  databaseUrl?: string;
  /** The SQLite file (data dir's db/recall.db). */
  sqliteFile: string;
  dataDir: string;
  log?: (message: string) => void;
  /** SQLite only: false for the HTTP server's connection (the processor's does the WAL checkpoints). */
  checkpoints?: boolean;
  /** PostgreSQL only: shows in pg_stat_activity which process a connection belongs to. */
  applicationName?: string;
  /** SQLite only: the raw key of an encrypted data dir (src/encryption's `databaseKey`). */
  databaseKey?: DatabaseKey;
}

/** Opens the configured store. The PostgreSQL driver is loaded only when it is used. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    const { openPostgresStore } = await import('./postgres/pg-store.js');
    return openPostgresStore(options.databaseUrl, { log: options.log, applicationName: options.applicationName });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  return openSqliteStore(options.sqliteFile, {
    dataDir: options.dataDir,
    log: options.log,
    checkpoints: options.checkpoints,
    databaseKey: options.databaseKey,
  });
}

/** The SQLite connection of a SQLite store (tests inspect it); a PostgreSQL store has none. */
export function sqliteDatabaseOf(store: Store): Db {
  if (store.kind !== 'sqlite') throw new Error('server.db exists with SQLite only');
  return (store as SqliteStore).db;
}

/** `doctor`'s look at a PostgreSQL database (the driver is loaded only here). */
export async function probePostgres(url: string): Promise<import('./postgres/pg-probe.js').DatabaseProbe> {
  const { probePostgres: probe } = await import('./postgres/pg-probe.js');
  return probe(url);
}

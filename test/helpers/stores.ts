import path from 'node:path';
import type { Store } from '../../src/store/ports.js';
import type { PostgresStoreOptions } from '../../src/store/postgres/pg-store.js';
import { createTestDatabase } from './postgres.js';
import { tempDir } from './temp-dir.js';

export type StoreKind = Store['kind'];

/** The stores every contract suite runs against (OPENRECALL_TEST_STORES=sqlite,postgres narrows it while developing). */
export const STORE_KINDS: StoreKind[] = (process.env.OPENRECALL_TEST_STORES || 'sqlite,postgres').split(',').map((s) => s.trim()) as StoreKind[];

export interface TestStore {
  store: Store;
  /** The data directory image paths are relative to (SQLite keeps its database file there too). */
  dataDir: string;
  /** A second, independent connection to the same database (another process's view). */
  openAnother(): Promise<Store>;
  /** Closes every store opened and removes the database. */
  cleanup(): Promise<void>;
}

/** `postgres`: options of the PostgreSQL store (e.g. tiny word index segments). */
export async function openTestStore(kind: StoreKind, postgres: Omit<PostgresStoreOptions, 'log'> = {}): Promise<TestStore> {
  const dataDir = tempDir('openrecall-store-');
  const opened: Store[] = [];
  let open: () => Promise<Store>;
  let remove = async () => {};
  if (kind === 'sqlite') {
    const { openSqliteStore } = await import('../../src/store/sqlite/sqlite-store.js');
    const file = path.join(dataDir, 'db', 'recall.db');
    open = async () => openSqliteStore(file, { dataDir });
  } else {
    const { openPostgresStore } = await import('../../src/store/postgres/pg-store.js');
    const database = await createTestDatabase();
    open = () => openPostgresStore(database.url, postgres);
    remove = database.drop;
  }
  const track = async () => {
    const store = await open();
    opened.push(store);
    return store;
  };
  return {
    store: await track(),
    dataDir,
    openAnother: track,
    cleanup: async () => {
      for (const store of opened.reverse()) await store.close().catch(() => {});
      await remove();
    },
  };
}

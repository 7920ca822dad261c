import { syncFile } from '../../files/atomic-write.js';
import { GroupSync } from '../../files/group-sync.js';
import { KeptFsync } from '../../files/kept-fsync.js';
import type { Db } from './database.js';

/**
 * Makes the commits so far survive a power cut while the connection keeps `synchronous = NORMAL`: an fsync of
 * the WAL file, off the event loop, one for every commit that asked meanwhile (group commit). With FULL every
 * commit would fsync synchronously inside better-sqlite3, blocking the HTTP event loop for each upload.
 * After a checkpoint the commit is in the database file, which the checkpoint synced; the fsync is then
 * harmless.
 */
export function walSync(db: Db): WalSync {
  if (db.memory) return { sync: async () => {}, close: async () => {} };
  const wal = new KeptFsync(`${db.name}-wal`, true);
  const group = new GroupSync(async () => {
    try {
      await wal.sync();
    } catch (error) {
      // Not in WAL mode (a database opened by hand): the commit went to the database file itself.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await syncFile(db.name);
    }
  });
  return {
    sync: () => group.sync(),
    // Closed with the connection: each store closed and opened again (a lock and unlock) left one open on a WAL
    // deleted since. The syncs asked for so far finish first (their descriptor must not be reused under them).
    async close() {
      await group.sync().catch(() => {});
      wal.close();
    },
  };
}

export interface WalSync {
  /** Resolves once every commit made before the call survives a power cut. */
  sync(): Promise<void>;
  /** Before the connection closes: waits for the syncs asked for, then lets the WAL's descriptor go. */
  close(): Promise<void>;
}

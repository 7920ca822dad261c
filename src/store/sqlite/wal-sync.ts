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
export function walSync(db: Db): () => Promise<void> {
  if (db.memory) return async () => {};
  const wal = new KeptFsync(`${db.name}-wal`);
  const group = new GroupSync(async () => {
    try {
      await wal.sync();
    } catch (error) {
      // Not in WAL mode (a database opened by hand): the commit went to the database file itself.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await syncFile(db.name);
    }
  });
  return () => group.sync();
}

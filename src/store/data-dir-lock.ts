import { DataDir } from '../files/data-dir.js';
import { plainCipher } from '../files/plain-cipher.js';

export class DataDirLockedError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One server per data dir: two would race on the same screenshots and queue. The lock is a file holding the
 * owner's pid; a lock left by a process that no longer exists (a crash, kill -9) is taken over. It is written
 * through a plain DataDir whatever the data dir's cipher: it holds only a pid, and is taken before any key is known.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  const files = new DataDir(dataDir, plainCipher);
  const file = 'server.lock';
  const read = () => files.readFileSync(file).toString('utf8');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      files.writeNewFileSync(file, String(process.pid));
      return () => {
        try {
          if (read() === String(process.pid)) files.removeSync(file);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(read(), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new DataDirLockedError(`another OpenRecall server (pid ${owner}) is using ${dataDir}; stop it first or set OPENRECALL_DATA_DIR`);
      }
      files.removeSync(file); // stale: its owner is gone
    }
  }
  throw new DataDirLockedError(`could not lock ${dataDir}`);
}

/**
 * The data dir's lock for this store. With SQLite in the data dir, one server per data dir. With a shared
 * (PostgreSQL) database, any number of servers and workers share the data dir: there is nothing to lock, and
 * the database's advisory locks keep retention and compaction to one process at a time.
 */
export function lockDataDir(dataDir: string, databaseUrl: string | undefined): () => void {
  return databaseUrl ? () => {} : acquireDataDirLock(dataDir);
}

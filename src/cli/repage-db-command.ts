import fs from 'node:fs';
import { dataPaths, loadServerConfig } from '../config.js';
import { KeyRecordError, readKeyRecord } from '../encryption/key-record.js';
import { acquireDataDirLock, DataDirLockedError } from '../store/data-dir-lock.js';
import { repageSqliteFile } from '../store/repage-sqlite-file.js';
import { UsageError } from './usage-error.js';

const MB = 1024 * 1024;

/**
 * `openrecall repage-db`: rewrites a plain data dir's SQLite database, made in 4 KB pages before 8 KB ones, in
 * 8 KB pages (src/store/repage-sqlite-file.ts: a copy, fsynced, renamed over it). Never run by itself: it reads and
 * writes the whole file (minutes at a year of frames) and needs its size free. An encrypted database keeps its
 * pages (SQLite cannot change them); a database in PostgreSQL has none of this.
 */
export async function repageDbCommand(args: string[]): Promise<number> {
  if (args.length) throw new UsageError(`unknown option ${args[0]}; usage: openrecall repage-db`);
  const config = loadServerConfig();
  const { dataDir } = config;
  if (!fs.existsSync(dataDir)) return refuse(`no data dir at ${dataDir} (set OPENRECALL_DATA_DIR)`);
  if (config.databaseUrl) return refuse('the frames are in PostgreSQL (OPENRECALL_DATABASE_URL): there is no SQLite database to rewrite');
  try {
    if (readKeyRecord(dataDir)) {
      return refuse(`${dataDir} is encrypted: its database keeps the page size it was made with (SQLite cannot change an encrypted database's)`);
    }
  } catch (error) {
    if (error instanceof KeyRecordError) return refuse(error.message);
    throw error;
  }
  let release: () => void;
  try {
    release = acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) return refuse(`${error.message} (openrecall repage-db needs the data dir to itself)`);
    throw error;
  }
  try {
    const { dbFile } = dataPaths(dataDir);
    if (fs.existsSync(dbFile))
      console.log(
        `openrecall: rewriting ${dbFile} in 8 KB pages if it is not (it needs ${Math.ceil(fs.statSync(dbFile).size / MB)} MB free; if stopped, run it again)`,
      );
    const done = repageSqliteFile(dbFile, testKillPoint());
    if (done.result === 'no database') console.log(`openrecall: no database in ${dataDir}: a new one is made in 8 KB pages`);
    else if (done.result === 'already') console.log(`openrecall: ${dbFile} has ${done.pageSizeBefore}-byte pages already: nothing to do`);
    else
      console.log(
        `openrecall: ${dbFile} rewritten from ${done.pageSizeBefore}-byte pages to 8 KB ones: ${Math.round(done.bytesBefore / MB)} MB -> ${Math.round(done.bytesAfter / MB)} MB`,
      );
    return 0;
  } finally {
    release();
  }
}

function refuse(message: string): number {
  console.error(`openrecall: ${message}`);
  return 1;
}

/** Tests only: OPENRECALL_TEST_KILL_AT=<step> (db-copied, db-renamed) makes this process SIGKILL itself there. */
function testKillPoint(): (step: string) => void {
  const at = process.env.OPENRECALL_TEST_KILL_AT;
  return (step) => {
    if (at && step === at) process.kill(process.pid, 'SIGKILL');
  };
}

import fs from 'node:fs';
import { dataPaths, loadServerConfig } from '../config.js';
import { createLogger } from '../log.js';
import { acquireDataDirLock, DataDirLockedError } from '../store/data-dir-lock.js';
import { openStore, redactDatabaseUrl } from '../store/open-store.js';
import { copySqliteToPostgres, MigrateRefusedError } from '../store/migrate-to-postgres.js';
import { openMemory, type OpenedMemory } from './open-memory.js';
import { ProgressBar } from './progress.js';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: openrecall migrate-db --to postgres://user@host:5432/database';

/**
 * `openrecall migrate-db --to postgres://…`: copies this data dir's SQLite database into PostgreSQL (frames with
 * their status, text, descriptions and embeddings; compaction layers; clients and settings). The images stay
 * where they are: the servers using PostgreSQL keep this data dir. Resumable: run it again after an interruption.
 */
export async function migrateDbCommand(args: string[]): Promise<number> {
  const at = args.indexOf('--to');
  const url = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--to='))?.slice(5);
  const unknown = args.filter((a, i) => a !== '--to' && (at < 0 || i !== at + 1) && !a.startsWith('--to='));
  if (!url || unknown.length) throw new UsageError(unknown.length ? `unknown option ${redactDatabaseUrl(unknown[0]!)}; ${USAGE}` : USAGE);
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--to must be a postgres:// URL; ${USAGE}`);

  const { dataDir } = loadServerConfig();
  const { dbFile } = dataPaths(dataDir);
  if (!fs.existsSync(dbFile)) {
    console.error(`openrecall: no SQLite database at ${dbFile}: nothing to migrate (set OPENRECALL_DATA_DIR to the data dir to copy)`);
    return 1;
  }
  let release: () => void;
  try {
    // A server writing to the SQLite file meanwhile would leave frames behind.
    release = acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      console.error(`openrecall: ${error.message} (migrate-db needs the data dir to itself)`);
      return 1;
    }
    throw error;
  }
  const log = createLogger('migrate-db');
  let memory: OpenedMemory | undefined;
  try {
    // An encrypted data dir's key (key file, keyring or the passphrase asked for here); one line if it does not open.
    memory = await openMemory(dataDir);
    const { database } = memory;
    // Brings the SQLite schema up to date first: the copy reads the newest columns.
    await (await openStore({ sqliteFile: dbFile, dataDir, log, ...database })).close();
    const bars = new Map<string, ProgressBar>();
    const counts = await copySqliteToPostgres(dbFile, url, {
      log,
      ...database,
      onProgress: (table, copied, total) => {
        if (!bars.has(table)) bars.set(table, new ProgressBar(total, table));
        bars.get(table)!.update(copied);
      },
    }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (counts instanceof MigrateRefusedError) {
      console.error(`openrecall: ${counts.message}`);
      return 1;
    }
    if (counts instanceof Error) {
      // Every committed batch stays: the next run goes on from there.
      console.error(`openrecall: migrate-db stopped (${counts.message.replace(/\s*\n\s*/g, ' ')}); run it again to resume`);
      return 1;
    }
    for (const c of counts) console.log(`${c.table.padEnd(16)} ${String(c.sqlite).padStart(9)} in SQLite  ${String(c.postgres).padStart(9)} in PostgreSQL`);
    const short = counts.filter((c) => c.postgres !== c.sqlite);
    if (short.length) {
      console.error(
        `openrecall: counts differ (${short.map((c) => `${c.table}: ${c.postgres} in PostgreSQL, ${c.sqlite} in SQLite`).join(', ')}); run migrate-db again`,
      );
      return 1;
    }
    const frames = counts.find((c) => c.table === 'entries')?.postgres ?? 0;
    console.log(
      `done: ${frames} frame(s) in ${redactDatabaseUrl(url)}. Start the servers with OPENRECALL_DATABASE_URL set to it and OPENRECALL_DATA_DIR=${dataDir} (the images stay there).`,
    );
    return 0;
  } finally {
    memory?.keys?.wipe();
    release();
  }
}

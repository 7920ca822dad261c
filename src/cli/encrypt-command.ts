import fs from 'node:fs';
import { dataPaths, loadServerConfig } from '../config.js';
import { newDataKey } from '../encryption/data-key.js';
import { KeyRecordError, newKeyRecord, readKeyRecord, writeKeyRecord, type KeyRecord } from '../encryption/key-record.js';
import { KeySourceError } from '../encryption/key-sources.js';
import { EncryptionStartError, keysFrom, unwrapWith, type EncryptionKeys } from '../encryption/open-encryption.js';
import { filesToSeal, sealFiles } from '../encryption/seal-data-dir.js';
import { openDataDir } from '../files/open-data-dir.js';
import { acquireDataDirLock, DataDirLockedError } from '../store/data-dir-lock.js';
import { checkPlainDatabase, encryptSqliteFile } from '../store/encrypt-sqlite-file.js';
import { currentSource, isKeySourceChoice, nextSource, type KeySourceChoice } from './key-source-choice.js';
import { ProgressBar } from './progress.js';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: openrecall encrypt [--to passphrase|keyring|key-file] [--key-file PATH]';

/**
 * `openrecall encrypt`: turns a plain data dir into an encrypted one in place (SECURITY.md, "Encryption at rest").
 * The key record is written first, marked `converting`, so every server, worker and command refuses the data dir
 * until the job is done; then the database (its cipher, through an encrypted copy renamed over it) and every file
 * the server reads (a sealed copy renamed over each); last, the record loses its mark. Killed at any point, it is
 * run again: what is encrypted already is recognised (it authenticates with the data key) and the rest is done.
 */
export async function encryptCommand(args: string[]): Promise<number> {
  const options = parseArgs(args);
  const config = loadServerConfig();
  const { dataDir } = config;
  const { dbFile } = dataPaths(dataDir);
  const killAt = testKillPoint();
  if (!fs.existsSync(dataDir)) return refuse(`no data dir at ${dataDir} (set OPENRECALL_DATA_DIR)`);

  let record: KeyRecord | null;
  try {
    record = readKeyRecord(dataDir);
  } catch (error) {
    if (error instanceof KeyRecordError) return refuse(error.message);
    throw error;
  }
  if (record && record.state !== 'converting') return refuse(`${dataDir} is encrypted already (\`openrecall rekey\` changes what opens it)`);

  let release: () => void;
  try {
    // With SQLite, a server holds this lock; with PostgreSQL none does (README: stop them first), but the
    // `converting` record makes any that starts meanwhile refuse.
    release = acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) return refuse(`${error.message} (openrecall encrypt needs the data dir to itself)`);
    throw error;
  }
  let keys: EncryptionKeys | undefined;
  try {
    const keyFile = options.keyFile ?? config.encryption?.keyFile;
    if (record) {
      const current = await currentSource(record, keyFile);
      const dataKey = await unwrapWith(current, record);
      if (!dataKey) return refuse(`the ${current.kind} does not open the data dir ${dataDir}: use the key its \`openrecall encrypt\` began with`);
      keys = keysFrom(dataKey, current.kind, record.database);
      console.log(`openrecall: finishing the encryption of ${dataDir} (interrupted before)`);
    } else {
      checkPlainDatabase(dbFile);
      const to = options.to ?? (keyFile ? 'key-file' : undefined);
      if (!to) throw new UsageError(`choose what opens the encrypted data dir: set OPENRECALL_ENCRYPTION_KEY_FILE or pass --to; ${USAGE}`);
      const source = await nextSource(to, keyFile, { existingKeyFile: 'use' });
      const dataKey = newDataKey();
      record = newKeyRecord([await source.wrap(dataKey)], { state: 'converting' });
      await writeKeyRecord(dataDir, record);
      keys = keysFrom(dataKey, source.kind, record.database);
      killAt('record');
      console.log(`openrecall: encrypting ${dataDir} in place (run it again if it stops: it goes on where it was)`);
    }

    const plain = openDataDir(dataDir);
    const sealed = openDataDir(dataDir, keys.fileCipher);
    const files = filesToSeal(plain);
    const bar = new ProgressBar(files.length + 1, 'encrypting');
    const database = encryptSqliteFile(dbFile, keys.databaseKey, killAt);
    bar.update(1, 'database');
    const summary = await sealFiles(plain, sealed, files, { onStep: killAt, onFile: (done) => bar.update(done + 1, 'files') });

    killAt('final');
    await writeKeyRecord(dataDir, newKeyRecord(record.wraps, { database: record.database }));
    console.log(
      `openrecall: ${dataDir} is encrypted (database: ${database}; files: ${summary.sealed} sealed, ${summary.alreadySealed} sealed before${summary.removed ? `, ${summary.removed} plain vector index file(s) removed` : ''})`,
    );
    if (summary.damaged.length) console.log(`openrecall: left as they are, they do not authenticate (damaged?): ${summary.damaged.join(', ')}`);
    if (config.databaseUrl) console.log('openrecall: the text in PostgreSQL (OPENRECALL_DATABASE_URL) stays as it is: see SECURITY.md');
    console.log(
      `openrecall: start it with OPENRECALL_ENCRYPTION=on${keys.source === 'key-file' && keyFile ? ` OPENRECALL_ENCRYPTION_KEY_FILE=${keyFile}` : ''}; the old plaintext may remain in the disk's free blocks (SECURITY.md)`,
    );
    return 0;
  } catch (error) {
    if (error instanceof KeySourceError || error instanceof KeyRecordError) throw new EncryptionStartError(error.message);
    throw error;
  } finally {
    keys?.wipe();
    release();
  }
}

function refuse(message: string): number {
  console.error(`openrecall: ${message}`);
  return 1;
}

function parseArgs(args: string[]): { to?: KeySourceChoice; keyFile?: string } {
  let to: string | undefined;
  let keyFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--to') to = args[++i];
    else if (arg === '--key-file') keyFile = args[++i];
    else throw new UsageError(`unknown option ${arg}; ${USAGE}`);
  }
  if (to !== undefined && !isKeySourceChoice(to)) throw new UsageError(USAGE);
  if (to === 'key-file' && keyFile === undefined && !process.env.OPENRECALL_ENCRYPTION_KEY_FILE)
    throw new UsageError(`--to key-file needs --key-file PATH (or OPENRECALL_ENCRYPTION_KEY_FILE); ${USAGE}`);
  if (keyFile !== undefined && to !== undefined && to !== 'key-file') throw new UsageError(`--key-file PATH goes with --to key-file; ${USAGE}`);
  return { ...(to ? { to } : {}), ...(keyFile ? { keyFile } : {}) };
}

/**
 * Tests only: OPENRECALL_TEST_KILL_AT=<step>:<n> makes this process SIGKILL itself the n-th time (default 1) it
 * reaches <step> (record, db-copied, db-rekeyed, db-renamed, file-temp, file, final), so a crash lands exactly there.
 */
function testKillPoint(): (step: string) => void {
  const at = process.env.OPENRECALL_TEST_KILL_AT;
  if (!at) return () => {};
  const [name, count] = at.split(':');
  const nth = Number(count ?? 1);
  let seen = 0;
  return (step) => {
    if (step === name && ++seen === nth) process.kill(process.pid, 'SIGKILL');
  };
}

import fs from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import { removeCopy, replaceWithCopy, syncCopy } from './database-file-copy.js';
import { StoreOpenError } from './ports.js';
import { NEW_DATABASE_PAGE_SIZE, openKeyedDatabase, rekeyPlainDatabase } from './sqlite/database.js';
import type { DatabaseKey } from '../encryption/data-key.js';

/** Where `openrecall encrypt` is in converting the database (its test hook kills the process at one of these). */
export type DatabaseEncryptionStep = 'db-copied' | 'db-rekeyed' | 'db-renamed';

export type DatabaseEncryptionResult = 'encrypted' | 'already encrypted' | 'no database';

/** The copy being encrypted, beside the database: a crash leaves the original whole, and the next run starts over. */
const temporaryOf = (file: string) => `${file}.encrypting`;

/**
 * Turns the plain SQLite database `file` into an encrypted one opened by `key` (its cipher: the format `openDatabase`
 * opens with `databaseKey`), never in place: the plain database (its WAL read too) is copied with `VACUUM INTO`
 * beside it in NEW_DATABASE_PAGE_SIZE pages (one of 4 KB pages gets 8 KB ones on the way: an encrypted database's
 * page size can no longer change), the copy encrypted with a rekey, fsynced, and renamed over the original once its
 * WAL is checkpointed and gone. Run again after a crash at any point, it finishes: a database the key already opens
 * is left as it is. The caller holds the data dir (no server uses the file).
 */
export function encryptSqliteFile(file: string, key: DatabaseKey, onStep: (step: DatabaseEncryptionStep) => void = () => {}): DatabaseEncryptionResult {
  const temporary = temporaryOf(file);
  removeCopy(temporary);
  if (!fs.existsSync(file)) return 'no database';
  if (!isPlainDatabase(file)) {
    checkKey(file, key);
    return 'already encrypted';
  }

  const plain = new Database(file);
  try {
    plain.pragma('busy_timeout = 5000');
    // Everything the WAL holds goes into the copy and then into the file itself, so no plain WAL outlives it. The
    // page size set here is the copy's (VACUUM INTO takes it even from a database in WAL mode, whose own is kept).
    plain.pragma(`page_size = ${NEW_DATABASE_PAGE_SIZE}`);
    plain.prepare('VACUUM INTO ?').run(temporary);
    const [checkpoint] = plain.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    if (checkpoint && checkpoint.busy !== 0) throw new StoreOpenError(`${file} is in use by another process: stop it and run \`openrecall encrypt\` again`);
  } finally {
    plain.close();
  }
  onStep('db-copied');

  const copy = new Database(temporary);
  try {
    rekeyPlainDatabase(copy, key);
  } finally {
    copy.close();
  }
  checkKey(temporary, key);
  syncCopy(temporary);
  onStep('db-rekeyed');

  replaceWithCopy(file, temporary);
  onStep('db-renamed');
  return 'encrypted';
}

const PLAIN_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Whether `file` is a plain SQLite database by its first 16 bytes (read only: opening it could checkpoint its WAL). */
function isPlainDatabase(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const start = Buffer.alloc(PLAIN_HEADER.length);
    const read = fs.readSync(fd, start, 0, start.length, 0);
    return read === 0 || start.equals(PLAIN_HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

/** Refuses (StoreOpenError, one line) a database that `key` does not open. */
function checkKey(file: string, key: DatabaseKey): void {
  openKeyedDatabase(file, { fileMustExist: true }, key).close();
}

/** A plain database `openrecall encrypt` may start from: refuses one that is not plain SQLite before anything is written. */
export function checkPlainDatabase(file: string): void {
  if (fs.existsSync(file) && !isPlainDatabase(file)) {
    throw new StoreOpenError(`${file} is not a plain SQLite database (encrypted already, or damaged): there is nothing to encrypt`);
  }
}

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import type { DatabaseCipher, DatabaseKey } from '../../encryption/data-key.js';
import { sqliteRawKeyForm, wipe } from '../../encryption/secret-bytes.js';
import { syncDirectory } from '../../files/atomic-write.js';
import { DIRECTORY_MODE } from '../../files/owner-only.js';
import { StoreOpenError } from '../ports.js';
import { checkSchemaVersion, runMigrations, type MigrationContext } from './migrations.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Data directory the stored image paths are relative to (legacy migration probes files there). */
  dataDir: string;
  readonly?: boolean;
  log?: (message: string) => void;
  /**
   * False for the HTTP server's connection: a checkpoint copies the WAL into the database and syncs it, which
   * must not stall request handling. The processor's connection does the checkpoints instead.
   */
  checkpoints?: boolean;
  /** The raw 32-byte key of an encrypted data dir and its cipher (src/encryption): the file, its WAL and journal are encrypted. */
  databaseKey?: DatabaseKey;
}

/** The database key does not open the file: nothing was read or written. */
export class DatabaseKeyError extends StoreOpenError {
  override readonly name: string = 'DatabaseKeyError';
}

/**
 * The settings of each database cipher (src/encryption/data-key.ts), set before the key: every one explicitly, so a
 * later default of SQLite3 Multiple Ciphers never changes how an existing file is read. `check` is what the last
 * pragma must answer (a build without the cipher answers otherwise).
 */
const CIPHER_SETTINGS: Record<DatabaseCipher, { pragmas: string[]; check: string }> = {
  // SQLCipher 4 (AES-256-CBC, HMAC-SHA512): the sqlcipher tools read it.
  'sqlcipher-v4-raw-key': { pragmas: [`cipher = 'sqlcipher'`, 'legacy = 4'], check: '4' },
  // AEGIS-256 (not its x2/x4 variants, which encrypt differently): authenticated like SQLCipher, ~8x cheaper a page.
  'aegis-256-raw-key': { pragmas: [`cipher = 'aegis'`, `algorithm = 'aegis-256'`], check: 'aegis-256' },
};

function setCipher(db: Database.Database, databaseKey: DatabaseKey): void {
  const settings = CIPHER_SETTINGS[databaseKey.cipher];
  let answer: unknown;
  for (const pragma of settings.pragmas) answer = db.pragma(pragma, { simple: true });
  if (String(answer) !== settings.check)
    throw new StoreOpenError(`this build of SQLite cannot encrypt with ${databaseKey.cipher} (it answered ${String(answer)})`);
}

/**
 * Keys a connection before its first statement, with the cipher its file was made with (a raw key: no KDF, the
 * key is already random). Then checks it: a wrong key fails here, before anything could be written.
 */
export function keyDatabase(db: Database.Database, file: string, databaseKey: DatabaseKey | undefined): void {
  if (databaseKey) {
    setCipher(db, databaseKey);
    // Through sqlite3_key with the raw-key form x'<hex>' built in a buffer, zeroed after: never a JavaScript string
    // (which could not be wiped, and would outlive `openrecall lock` in the heap).
    withRawKey(databaseKey, (raw) => db.key(raw));
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    if ((error as { code?: string }).code !== 'SQLITE_NOTADB') throw error;
    if (databaseKey) throw new DatabaseKeyError(`the key does not open the data dir: ${file} was encrypted with another key (or is not encrypted)`);
    throw new StoreOpenError(`${file} is encrypted or is not a SQLite database: start with OPENRECALL_ENCRYPTION=on and its key`);
  }
}

/** Encrypts the plain database open on `db` in place, with `databaseKey`'s cipher (a rekey needs a rollback journal). */
export function rekeyPlainDatabase(db: Database.Database, databaseKey: DatabaseKey): void {
  db.pragma('journal_mode = DELETE');
  setCipher(db, databaseKey);
  withRawKey(databaseKey, (raw) => db.rekey(raw));
}

/** Hands `databaseKey` to `use` in its raw-key form, zeroed after. */
function withRawKey(databaseKey: DatabaseKey, use: (raw: Buffer) => void): void {
  const raw = sqliteRawKeyForm(databaseKey.key);
  try {
    use(raw);
  } finally {
    wipe(raw);
  }
}

/** Opens (creating if needed) the SQLite database in WAL mode and brings its schema up to date. */
export function openDatabase(file: string, options: OpenDatabaseOptions): Db {
  if (!options.readonly) fs.mkdirSync(path.dirname(file), { recursive: true, mode: DIRECTORY_MODE });
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    keyDatabase(db, file, options.databaseKey);
    db.pragma('busy_timeout = 5000');
    checkSchemaVersion(db);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // What is deleted or overwritten (redacted text, deleted frames) is zeroed, not left in free space; its
      // cost did not show next to the noise (bench/secure-delete.ts, BENCHMARKS.md).
      db.pragma('secure_delete = ON');
      if (options.checkpoints === false) db.pragma('wal_autocheckpoint = 0');
      const context: MigrationContext = { dataDir: options.dataDir, log: options.log ?? (() => {}) };
      runMigrations(db, context);
      // The database and WAL files' names: commits are made durable by fsyncing the WAL (wal-sync.ts).
      syncDirectory(path.dirname(file));
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

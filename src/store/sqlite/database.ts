import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import type { DatabaseCipher, DatabaseKey } from '../../encryption/data-key.js';
import { sqliteRawKeyForm, wipe } from '../../encryption/secret-bytes.js';
import { syncDirectory } from '../../files/atomic-write.js';
import { DIRECTORY_MODE } from '../../files/owner-only.js';
import { StoreOpenError } from '../ports.js';
import { loadBm25Extension } from './bm25-extension.js';
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
  /**
   * The SQLite extension ranking keyword matches (bm25-extension.ts: BM25_EXTENSION_FILE by default); false for
   * none: FTS5's bm25 then counts every match of each phrase, as before issue 24.
   */
  bm25Extension?: string | false;
}

/** The database key does not open the file: nothing was read or written. */
export class DatabaseKeyError extends StoreOpenError {
  override readonly name: string = 'DatabaseKeyError';
}

/**
 * The page size of every database this version creates. A frame's row holds its OCR text (2.1-2.4 KB at 300 words),
 * which fills a 4 KB page alone (SQLite keeps a row whole up to ~4 KB): in 8 KB pages three rows share a page
 * (BENCHMARKS.md, issue 24). Databases made before keep their 4 KB pages: a page size only changes by rewriting the
 * whole file (VACUUM; never for an encrypted one, SQLite3 Multiple Ciphers refuses it).
 */
export const NEW_DATABASE_PAGE_SIZE = 8192;
/** SQLite's default page size, and SQLCipher 4's: every database made before NEW_DATABASE_PAGE_SIZE. */
export const OLD_DATABASE_PAGE_SIZE = 4096;
/**
 * The page sizes a SQLCipher database may have, in the order they are tried. A SQLCipher file keeps nothing in the
 * clear but its salt, so its page size cannot be read from it: the connection is keyed with one (`legacy_page_size`),
 * and a wrong one fails page 1's HMAC like a wrong key (SQLITE_NOTADB; the file and its WAL left as they were, even a
 * WAL a crash left: test/store/page-size.test.ts). The new size first: a new (empty) file opens with it and is
 * created so.
 */
const SQLCIPHER_PAGE_SIZES = [NEW_DATABASE_PAGE_SIZE, OLD_DATABASE_PAGE_SIZE] as const;

/**
 * The settings of each database cipher (src/encryption/data-key.ts), set before the key: every one explicitly, so a
 * later default of SQLite3 Multiple Ciphers never changes how an existing file is read. `check` is what the last
 * pragma must answer (a build without the cipher answers otherwise). The page size: AEGIS (not a legacy format)
 * keeps the header's bytes 16-23 in the clear, so SQLite reads the page size from the file, and a new file takes
 * `PRAGMA page_size` like a plain one; SQLCipher's is `legacy_page_size`, which the key forces on the connection.
 */
const CIPHER_SETTINGS: Record<DatabaseCipher, { pragmas: (pageSize: number) => string[]; check: (pageSize: number) => string }> = {
  // SQLCipher 4 (AES-256-CBC, HMAC-SHA512): the sqlcipher tools read it (with `PRAGMA cipher_page_size` when 8 KB).
  'sqlcipher-v4-raw-key': {
    pragmas: (pageSize) => [`cipher = 'sqlcipher'`, 'legacy = 4', `legacy_page_size = ${pageSize}`],
    check: (pageSize) => String(pageSize),
  },
  // AEGIS-256 (not its x2/x4 variants, which encrypt differently): authenticated like SQLCipher, ~8x cheaper a page.
  'aegis-256-raw-key': { pragmas: () => [`cipher = 'aegis'`, `algorithm = 'aegis-256'`], check: () => 'aegis-256' },
};

function setCipher(db: Database.Database, databaseKey: DatabaseKey, pageSize: number): void {
  const settings = CIPHER_SETTINGS[databaseKey.cipher];
  let answer: unknown;
  for (const pragma of settings.pragmas(pageSize)) answer = db.pragma(pragma, { simple: true });
  if (String(answer) !== settings.check(pageSize))
    throw new StoreOpenError(`this build of SQLite cannot encrypt with ${databaseKey.cipher} (it answered ${String(answer)})`);
}

/**
 * Keys a connection before its first statement, with the cipher its file was made with (a raw key: no KDF, the
 * key is already random) and, for SQLCipher, `pageSize`. Then checks it: a wrong key fails here, before anything
 * could be written.
 */
function keyConnection(db: Database.Database, file: string, databaseKey: DatabaseKey | undefined, pageSize: number): void {
  if (databaseKey) {
    setCipher(db, databaseKey, pageSize);
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

/**
 * Opens `file` (better-sqlite3's `options`: readonly, fileMustExist) keyed with `databaseKey` when it is encrypted,
 * and checks the key opens it (DatabaseKeyError, nothing written, when not). A SQLCipher database is opened with
 * each page size it may have until one reads it (SQLCIPHER_PAGE_SIZES): 8 KB for one made by this version, 4 KB
 * before. Nothing more is set on the connection.
 */
export function openKeyedDatabase(file: string, options: Database.Options, databaseKey: DatabaseKey | undefined): Database.Database {
  const pageSizes = databaseKey?.cipher === 'sqlcipher-v4-raw-key' ? SQLCIPHER_PAGE_SIZES : [NEW_DATABASE_PAGE_SIZE];
  let failure: unknown;
  for (const pageSize of pageSizes) {
    const db = new Database(file, options);
    try {
      keyConnection(db, file, databaseKey, pageSize);
      return db;
    } catch (error) {
      db.close();
      if (!(error instanceof DatabaseKeyError)) throw error;
      failure = error;
    }
  }
  throw failure;
}

/**
 * Gives a database that has no page yet (a new file) NEW_DATABASE_PAGE_SIZE pages; one that has pages keeps its
 * own (setting it would only be remembered by the connection, for a later VACUUM). A SQLCipher connection was keyed
 * with its page size already (openKeyedDatabase).
 */
function sizeNewDatabase(db: Database.Database): void {
  if (Number(db.pragma('page_count', { simple: true })) === 0) db.pragma(`page_size = ${NEW_DATABASE_PAGE_SIZE}`);
}

/**
 * Encrypts the plain database open on `db` in place, with `databaseKey`'s cipher (a rekey needs a rollback journal).
 * Its page size is kept (SQLite3 Multiple Ciphers cannot change it): a SQLCipher one must be a size
 * openKeyedDatabase tries.
 */
export function rekeyPlainDatabase(db: Database.Database, databaseKey: DatabaseKey): void {
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  if (databaseKey.cipher === 'sqlcipher-v4-raw-key' && !(SQLCIPHER_PAGE_SIZES as readonly number[]).includes(pageSize)) {
    throw new StoreOpenError(`a database of ${pageSize}-byte pages cannot be encrypted with ${databaseKey.cipher}`);
  }
  db.pragma('journal_mode = DELETE');
  setCipher(db, databaseKey, pageSize);
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
  const db = openKeyedDatabase(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false }, options.databaseKey);
  try {
    // After the key (an encrypted connection reads nothing before it), in every process that opens the store.
    if (options.bm25Extension !== false) loadBm25Extension(db, options.bm25Extension, options.log);
    db.pragma('busy_timeout = 5000');
    // Temporary data (a statement's journal in a batch of inserts, sorts, GROUP BY) stays in memory. This build
    // keeps it in files (of /var/tmp) by default, which SQLite3 Multiple Ciphers does not encrypt: every batch of
    // uploads wrote ~100 KB of plain database pages (titles, app names) outside the data dir, from the event loop.
    db.pragma('temp_store = MEMORY');
    if (!options.readonly) sizeNewDatabase(db);
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

import fs from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import { removeCopy, replaceWithCopy, syncCopy } from './database-file-copy.js';
import { StoreOpenError } from './ports.js';
import { NEW_DATABASE_PAGE_SIZE } from './sqlite/database.js';

/** Where `openrecall repage-db` is (its test kills the process at one of these). */
export type RepageStep = 'db-copied' | 'db-renamed';

export type RepageResult =
  | { result: 'rewritten'; pageSizeBefore: number; bytesBefore: number; bytesAfter: number }
  | { result: 'already'; pageSizeBefore: number }
  | { result: 'no database' };

/** The copy being written, beside the database: a crash leaves the original whole, and the next run starts over. */
const temporaryOf = (file: string) => `${file}.repaging`;
const PLAIN_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Rewrites the plain SQLite database `file`, made in 4 KB pages by a version before 8 KB ones, in
 * NEW_DATABASE_PAGE_SIZE pages (BENCHMARKS.md, issue 24: ~20 % fewer bytes a frame at 300 words), never in place:
 * the database (its WAL read too) is copied with `VACUUM INTO` beside it, the copy checked and fsynced, and renamed
 * over the original once the original's WAL is checkpointed into it and gone. A crash at any point leaves one whole
 * database under the name (the original, or the copy), and running it again finishes or finds nothing to do. It
 * needs the database's size free on the disk, and the data dir to itself (the caller holds its lock).
 *
 * An encrypted database is refused: SQLite3 Multiple Ciphers cannot change an encrypted database's page size (its
 * VACUUM keeps it, a rekey refuses), so it keeps 4 KB pages. (`openrecall encrypt` makes its copy in 8 KB pages.)
 */
export function repageSqliteFile(file: string, onStep: (step: RepageStep) => void = () => {}): RepageResult {
  const temporary = temporaryOf(file);
  removeCopy(temporary);
  if (!fs.existsSync(file) || fs.statSync(file).size === 0) return { result: 'no database' };
  if (!isPlainDatabase(file)) {
    throw new StoreOpenError(`${file} is encrypted: an encrypted database keeps the page size it was made with (SQLite cannot change it)`);
  }

  const bytesBefore = fs.statSync(file).size;
  const original = new Database(file, { fileMustExist: true });
  let pageSizeBefore: number;
  let frames: unknown;
  try {
    original.pragma('busy_timeout = 5000');
    pageSizeBefore = Number(original.pragma('page_size', { simple: true }));
    if (pageSizeBefore >= NEW_DATABASE_PAGE_SIZE) return { result: 'already', pageSizeBefore };
    frames = countFrames(original);
    // The page size set here is the copy's (VACUUM INTO takes it even from a database in WAL mode, whose own is
    // kept). Everything the WAL holds goes into the copy, then into the original itself: no WAL outlives it.
    original.pragma(`page_size = ${NEW_DATABASE_PAGE_SIZE}`);
    try {
      original.prepare('VACUUM INTO ?').run(temporary);
    } catch (error) {
      fs.rmSync(temporary, { force: true });
      throw error;
    }
    const [checkpoint] = original.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    if (checkpoint && checkpoint.busy !== 0) {
      fs.rmSync(temporary, { force: true });
      throw new StoreOpenError(`${file} is in use by another process: stop it and run \`openrecall repage-db\` again`);
    }
  } finally {
    original.close();
  }

  const copy = new Database(temporary, { fileMustExist: true });
  try {
    const pageSize = Number(copy.pragma('page_size', { simple: true }));
    const copied = countFrames(copy);
    if (pageSize !== NEW_DATABASE_PAGE_SIZE || copied !== frames) {
      throw new StoreOpenError(
        `the copy of ${file} came out wrong (${pageSize}-byte pages, ${String(copied)} frames of ${String(frames)}): nothing was changed`,
      );
    }
  } catch (error) {
    copy.close();
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  copy.close();
  syncCopy(temporary);
  onStep('db-copied');

  replaceWithCopy(file, temporary);
  onStep('db-renamed');
  return { result: 'rewritten', pageSizeBefore, bytesBefore, bytesAfter: fs.statSync(file).size };
}

/** The frames' count and highest id (undefined before the schema has `entries`): the copy must have the same. */
function countFrames(db: Database.Database): string | undefined {
  if (db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'`).get() === undefined) return undefined;
  const row = db.prepare('SELECT count(*) AS n, max(id) AS last FROM entries').get() as { n: number; last: number | null };
  return `${row.n}/${String(row.last)}`;
}

/** Whether `file` is a plain SQLite database by its first 16 bytes. */
function isPlainDatabase(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const start = Buffer.alloc(PLAIN_HEADER.length);
    return fs.readSync(fd, start, 0, start.length, 0) === start.length && start.equals(PLAIN_HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

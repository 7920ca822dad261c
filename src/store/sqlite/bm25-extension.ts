import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3-multiple-ciphers';

/**
 * The SQLite extension of native/openrecall_bm25.c, built by `npm run build` (scripts/build-native.mjs) into
 * dist/native/ under the package root: three folders above this module both as src/store/sqlite/*.ts (tsx: the
 * tests) and as dist/store/sqlite/*.js. Absent when the build found no C compiler.
 */
export const BM25_EXTENSION_FILE = fileURLToPath(
  new URL(`../../../dist/native/openrecall_bm25.${process.platform === 'win32' ? 'dll' : process.platform === 'darwin' ? 'dylib' : 'so'}`, import.meta.url),
);
const ENTRY_POINT = 'sqlite3_openrecallbm_init';

/** Connections where openrecall_bm25 is defined. */
const loaded = new WeakSet<Database.Database>();

/**
 * Loads the extension defining the FTS5 auxiliary function openrecall_bm25 (FTS5's bm25 with each phrase's
 * matches counted up to a cap, the rest estimated: see the C file) on `db`, through the C API only: SQL's
 * load_extension() stays refused ("not authorized": better-sqlite3 enables only sqlite3_load_extension). False when
 * `file` is absent or does not load (then the search ranks with FTS5's bm25, as before: `log` says why when the
 * file was there).
 */
export function loadBm25Extension(db: Database.Database, file: string = BM25_EXTENSION_FILE, log: (message: string) => void = () => {}): boolean {
  if (!fs.existsSync(file)) return false;
  try {
    // better-sqlite3 takes the entry point as a second argument (its typings omit it).
    (db.loadExtension as (path: string, entryPoint: string) => unknown).call(db, file, ENTRY_POINT);
  } catch (error) {
    log(`keyword ranking: ${file} did not load (${(error as Error).message}); FTS5's bm25 counts every match instead`);
    return false;
  }
  loaded.add(db);
  return true;
}

/** Whether openrecall_bm25 is defined on `db` (loadBm25Extension). */
export function hasBm25Extension(db: Database.Database): boolean {
  return loaded.has(db);
}

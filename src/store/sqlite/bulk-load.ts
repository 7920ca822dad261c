import type { Db } from './database.js';

/**
 * Writes many frames at once (benchmark fixtures, the scale test): `load` runs with the insert triggers of the
 * full-text indexes over `entries` dropped; then each of those indexes is rebuilt once from `entries` and its
 * trigger put back, exactly as the migrations made it. The database is the one row-by-row inserts give (same
 * rows, same index contents), built in half the time and half the CPU: each frame is tokenised once, in one
 * pass, instead of inside its insert and again by the rebuild the benchmark ran after. `load` makes its own transactions (a million frames in one would
 * hold the whole database in the WAL); the rebuild and the triggers' return are one transaction, run even when
 * `load` throws. For a database being built: a process killed inside `load` leaves it without those triggers.
 */
export function bulkLoad(db: Db, load: () => void): void {
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE % USING fts5(%content=''entries''%'`)
    .pluck()
    .all() as string[];
  const triggers = db
    .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries' AND name IN (SELECT value || '_insert' FROM json_each(?))`)
    .all(JSON.stringify(tables)) as Array<{ name: string; sql: string }>;
  db.transaction(() => {
    for (const { name } of triggers) db.exec(`DROP TRIGGER ${name}`);
  })();
  try {
    load();
  } finally {
    db.transaction(() => {
      // A 64 MB buffer of terms instead of 1 MB: the rebuild writes a few large segments, not hundreds to merge.
      // Set back to FTS5's default afterwards (the one trace: a `hashsize` row at that default in the config).
      for (const table of tables) {
        db.exec(`INSERT INTO ${table}(${table}, rank) VALUES ('hashsize', ${64 * 1024 * 1024})`);
        db.exec(`INSERT INTO ${table}(${table}) VALUES ('rebuild')`);
        db.exec(`INSERT INTO ${table}(${table}, rank) VALUES ('hashsize', ${1024 * 1024})`);
      }
      for (const { sql } of triggers) db.exec(sql);
    })();
  }
}

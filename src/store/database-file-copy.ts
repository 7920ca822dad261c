import fs from 'node:fs';
import path from 'node:path';
import { syncDirectory } from '../files/atomic-write.js';

/**
 * The steps shared by the commands that rewrite a SQLite database file into a copy beside it and put the copy in
 * its place (`openrecall encrypt`, `openrecall repage-db`): never in place, so a crash leaves one whole database.
 */

/** The files SQLite keeps beside a database. */
export const companionsOf = (file: string): string[] => [`${file}-wal`, `${file}-shm`, `${file}-journal`];

/** Removes a copy (and its companions) that a killed run left behind. */
export function removeCopy(copy: string): void {
  for (const leftover of [copy, ...companionsOf(copy)]) fs.rmSync(leftover, { force: true });
}

/** Makes the copy survive a power cut. SQLite wrote it through its own descriptor; fsync flushes it whichever wrote it. */
export function syncCopy(copy: string): void {
  const fd = fs.openSync(copy, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Gives the copy the database's name: the original's WAL was read into the copy, so it and the other companions go
 * first (no old WAL may be applied to the copy), then the rename and the folder's fsync.
 */
export function replaceWithCopy(file: string, copy: string): void {
  for (const companion of companionsOf(file)) fs.rmSync(companion, { force: true });
  fs.renameSync(copy, file);
  syncDirectory(path.dirname(file));
}

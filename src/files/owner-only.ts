import fs from 'node:fs';
import path from 'node:path';

/**
 * A screen memory holds everything its user saw: no other local user may read it. Every entry point sets this
 * umask first, so every directory is created 0700 and every file 0600 (SQLite's database, WAL and SHM included)
 * without each call site having to remember; the few places that create files also pass the modes explicitly.
 */
export const OWNER_ONLY_UMASK = 0o077;
export const DIRECTORY_MODE = 0o700;
export const FILE_MODE = 0o600;

export function useOwnerOnlyUmask(): void {
  process.umask(OWNER_ONLY_UMASK);
}

export const isLoose = (mode: number) => (mode & 0o077) !== 0;
export const octal = (mode: number) => (mode & 0o777).toString(8).padStart(3, '0');

/**
 * What other users could reach at the top of a data dir: the data dir itself, its top-level folders and files,
 * and the database folder's files (database, WAL, SHM), each with its mode. Symbolic links are not followed.
 */
export function looseDataDirEntries(dataDir: string, databaseDir: string): { path: string; mode: number }[] {
  const loose: { path: string; mode: number }[] = [];
  const check = (target: string) => {
    const stat = statOrUndefined(target);
    if (stat && (stat.isDirectory() || stat.isFile()) && isLoose(stat.mode)) loose.push({ path: target, mode: stat.mode });
  };
  check(dataDir);
  for (const dir of [dataDir, databaseDir]) {
    for (const entry of readdirOrEmpty(dir)) check(path.join(dir, entry));
  }
  return loose;
}

/**
 * Tightens a data dir an older version (or a hand-made folder) left readable by others. At start only the
 * entries of looseDataDirEntries are changed: a 0700 data dir already keeps every other user out of
 * everything below it, and walking a million screenshots at every start would cost seconds. When the data dir
 * itself was loose, the rest of the tree is tightened by `tightenTreeInBackground` (a one-time walk, started
 * once the server listens). Returns what it changed, for the caller's log line.
 */
export function tightenDataDir(dataDir: string, databaseDir: string): { rootWasLoose: boolean; changed: string[] } {
  const loose = looseDataDirEntries(dataDir, databaseDir);
  for (const entry of loose) fs.chmodSync(entry.path, entry.mode & 0o700);
  return {
    rootWasLoose: loose.some((entry) => entry.path === dataDir),
    changed: loose.map((entry) => `${path.relative(dataDir, entry.path) || '.'} (was ${octal(entry.mode)})`),
  };
}

/**
 * Walks the whole tree (a few entries at a time, off the start-up path) and takes group and other access
 * off every folder and file. Symbolic links are not followed. Resolves with the number of entries changed.
 */
export async function tightenTreeInBackground(dataDir: string): Promise<number> {
  let changed = 0;
  const pending = [dataDir];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile
    }
    for (const entry of entries) {
      const target = path.join(dir, entry.name);
      if (!entry.isDirectory() && !entry.isFile()) continue;
      if (entry.isDirectory()) pending.push(target);
      try {
        const stat = await fs.promises.lstat(target);
        if (!isLoose(stat.mode)) continue;
        await fs.promises.chmod(target, stat.mode & 0o700);
        changed++;
      } catch {
        // removed meanwhile
      }
    }
  }
  return changed;
}

function statOrUndefined(target: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(target);
  } catch {
    return undefined;
  }
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

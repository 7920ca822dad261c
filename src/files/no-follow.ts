import fs from 'node:fs';
import path from 'node:path';

/**
 * Files below a root reached without following a symbolic link anywhere on the way: a link planted inside
 * the data dir (by anyone who could write there) must not make a request read or write a file elsewhere.
 * Each component below the root is checked with lstat; the last one is opened with O_NOFOLLOW.
 */
export class NotARegularFileError extends Error {
  readonly code: 'ENOENT' | 'ELOOP' | 'EISDIR';

  constructor(relative: string, code: 'ENOENT' | 'ELOOP' | 'EISDIR') {
    const why = code === 'ELOOP' ? 'is a symbolic link (never followed)' : code === 'EISDIR' ? 'is not a file' : 'does not exist';
    super(`${relative} ${why}`);
    this.code = code;
  }
}

/**
 * Checks the directories of `relative` below `root`: ELOOP when one is a symbolic link, ENOENT when one is
 * missing (and `create` is false). With `create`, missing directories are made one by one.
 */
export async function checkDirectories(root: string, relative: string, options: { create?: boolean } = {}): Promise<void> {
  const parts = relative.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (!options.create) throw new NotARegularFileError(relative, 'ENOENT');
      await fs.promises.mkdir(current).catch((reason: NodeJS.ErrnoException) => {
        if (reason.code !== 'EEXIST') throw reason;
      });
      stat = await fs.promises.lstat(current);
    }
    if (stat.isSymbolicLink()) throw new NotARegularFileError(relative, 'ELOOP');
    if (!stat.isDirectory()) throw new NotARegularFileError(relative, 'ENOENT');
  }
}

/** A regular file's bytes; NotARegularFileError for a missing file, a directory or a symbolic link. */
export async function readFileNoFollow(root: string, relative: string): Promise<Buffer> {
  await checkDirectories(root, relative);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path.join(root, relative), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotARegularFileError(relative, 'ENOENT');
    if (code === 'ELOOP') throw new NotARegularFileError(relative, 'ELOOP');
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new NotARegularFileError(relative, 'EISDIR');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** What `relative` is, without following a link: a regular file, something else, or nothing. */
export async function lstatKind(root: string, relative: string): Promise<'file' | 'other' | 'none'> {
  await checkDirectories(root, relative);
  try {
    return (await fs.promises.lstat(path.join(root, relative))).isFile() ? 'file' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw error;
  }
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FILE_MODE } from './owner-only.js';

/**
 * Writing a file so that a crash leaves either the whole file or nothing at its name: a temporary file
 * beside it, then a rename. With `durable`, the file and its directory are fsynced, so the rename also
 * survives a power cut.
 */
export interface AtomicWriteOptions {
  durable?: boolean;
  /** Permissions of a new file (default 0o600: owner only, see owner-only.ts). */
  mode?: number;
  /**
   * Only one writer of this target at a time (a frame's files, under its lease): the temporary file is always
   * `<target>.tmp`, so one a killed write left behind is overwritten by the retry instead of staying forever.
   */
  singleWriter?: boolean;
}

const temporaryName = (target: string) => `${target}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;

export async function writeFileAtomic(target: string, bytes: Buffer | string, options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = options.singleWriter ? `${target}.tmp` : temporaryName(target);
  await viaTemporary(target, temporary, options.singleWriter ? 'w' : 'wx', options, (handle) => handle.writeFile(bytes));
}

/**
 * writeFileAtomic for a file too large to hold twice: `pieces` are written as they come (gathered into writes of
 * about 1 MiB), off the event loop, then the temporary is renamed (always a fresh temporary name).
 */
export async function writeFileAtomicFrom(target: string, pieces: AsyncIterable<Buffer>, options: AtomicWriteOptions = {}): Promise<void> {
  await viaTemporary(target, temporaryName(target), 'wx', options, async (handle) => {
    let gathered: Buffer[] = [];
    let bytes = 0;
    const flush = async () => {
      const whole = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered);
      for (let at = 0; at < whole.length; ) at += (await handle.write(whole, at, whole.length - at)).bytesWritten;
      gathered = [];
      bytes = 0;
    };
    for await (const piece of pieces) {
      gathered.push(piece);
      bytes += piece.length;
      if (bytes >= 1 << 20) await flush();
    }
    if (bytes > 0) await flush();
  });
}

/** `write` fills the temporary; then (fsynced when durable) it is renamed over `target`; on failure it is removed. */
async function viaTemporary(
  target: string,
  temporary: string,
  flags: 'w' | 'wx',
  options: AtomicWriteOptions,
  write: (handle: fs.promises.FileHandle) => Promise<void>,
): Promise<void> {
  try {
    const handle = await fs.promises.open(temporary, flags, options.mode ?? FILE_MODE);
    try {
      await write(handle);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, target);
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
  if (options.durable) await syncDirectoryAsync(path.dirname(target));
}

export function writeFileAtomicSync(target: string, bytes: Buffer | string, options: AtomicWriteOptions = {}): void {
  const temporary = options.singleWriter ? `${target}.tmp` : temporaryName(target);
  try {
    const fd = fs.openSync(temporary, options.singleWriter ? 'w' : 'wx', options.mode ?? FILE_MODE);
    try {
      fs.writeFileSync(fd, bytes);
      if (options.durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  if (options.durable) syncDirectory(path.dirname(target));
}

/** Makes a rename in `dir` durable; a filesystem that cannot fsync a directory is left as it is. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems (and platforms) refuse fsync on a directory.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** syncDirectory off the event loop (libuv's thread pool), for the HTTP process. */
export async function syncDirectoryAsync(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems (and platforms) refuse fsync on a directory.
  } finally {
    await handle?.close();
  }
}

/** fsyncs a file that another descriptor (SQLite's) wrote: fsync flushes the file, whichever descriptor wrote it. */
export async function syncFile(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes a directory that `mkdir -p` just created durable: each new folder's entry is fsynced in its parent,
 * from `firstCreated` (what fs.mkdir with recursive returns) down to `dir`.
 */
export async function syncCreatedDirectories(firstCreated: string | undefined, dir: string): Promise<void> {
  if (firstCreated === undefined) return;
  const chain: string[] = [];
  for (let at = dir; at.length >= firstCreated.length; at = path.dirname(at)) {
    chain.push(path.dirname(at));
    if (at === firstCreated || at === path.dirname(at)) break;
  }
  for (const parent of chain.reverse()) await syncDirectoryAsync(parent);
}

/**
 * Removes the temporary files that writes of `target` left beside it when their process was killed before
 * the rename. Only for a target no live process is writing. Returns how many were removed.
 */
export function removeLeftoverTemporaries(target: string): number {
  const prefix = `${path.basename(target)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(target));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+\.[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length))) continue;
    fs.rmSync(path.join(path.dirname(target), name), { force: true });
    removed++;
  }
  return removed;
}

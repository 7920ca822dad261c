import path from 'node:path';
import { DamagedFileError } from '../files/file-cipher.js';
import type { DataDir } from '../files/data-dir.js';
import { HEADER_BYTES, looksSealed } from './aead-file-cipher.js';

/**
 * The files `openrecall encrypt` seals: every file the server reads through its DataDir. Not the database
 * (encrypted by SQLite, `db/`), the key record, the lock, the capture client's own files (`buffer/`, `client-*`) nor the
 * downloaded models (`models/`): those are not the server's, or not the memory.
 */
const SEALED_FOLDERS = ['screenshots', 'thumbnails', 'compact'];
const SEALED_FILES = ['compaction.journal', 'retention.journal'];
/** The vector index's sign bits, in the clear in a plain data dir: removed, and rebuilt sealed at the next start. */
const REMOVED_FOLDERS = ['index'];

/** A sealed copy being written beside its plain file; a crash leaves the plain file whole, and the next run starts it over. */
const TEMPORARY_SUFFIX = '.encrypting';

export type FileSealStep = 'file-temp' | 'file';

export interface SealOptions {
  /** After each file (sealed, found sealed already, or removed). */
  onFile?: (done: number, total: number) => void;
  /** Test hook: called at each step (`openrecall encrypt`'s OPENRECALL_TEST_KILL_AT). */
  onStep?: (step: FileSealStep) => void;
}

export interface SealSummary {
  sealed: number;
  alreadySealed: number;
  removed: number;
  /** Files that carry a sealed header but do not authenticate with this key: left as they are. */
  damaged: string[];
}

/** The files to seal (relative paths); temporaries a killed run left behind are removed on the way. */
export function filesToSeal(plain: DataDir): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of plain.entriesSync(dir)) {
      const relative = path.posix.join(dir, entry.name);
      // A symbolic link is never followed: what it points at is not the data dir's to rewrite.
      if (entry.isDirectory) walk(relative);
      else if (entry.isFile && entry.name.endsWith(TEMPORARY_SUFFIX)) plain.removeSync(relative);
      else if (entry.isFile) found.push(relative);
    }
  };
  for (const folder of [...SEALED_FOLDERS, ...REMOVED_FOLDERS]) walk(folder);
  for (const file of SEALED_FILES) {
    plain.removeSync(`${file}${TEMPORARY_SUFFIX}`);
    if (plain.entriesSync('').some((e) => e.isFile && e.name === file)) found.push(file);
  }
  return found;
}

/**
 * Seals every plain file of `files` in place: `plain` reads the bytes as they are on the disk, `sealed` (the
 * same root, the data dir's AEAD cipher) writes each one's sealed copy to a temporary beside it, fsyncs it, renames
 * it over the plain file and fsyncs the folder. A file that already authenticates with the key (a run killed
 * after its rename) is skipped, so running again finishes the job.
 */
export async function sealFiles(plain: DataDir, sealed: DataDir, files: string[], options: SealOptions = {}): Promise<SealSummary> {
  const summary: SealSummary = { sealed: 0, alreadySealed: 0, removed: 0, damaged: [] };
  for (const [index, file] of files.entries()) {
    const start = plain.readHeadSync(file, HEADER_BYTES);
    if (looksSealed(start)) {
      if (await authenticates(sealed, file)) summary.alreadySealed++;
      else summary.damaged.push(file);
    } else if (REMOVED_FOLDERS.some((folder) => file.startsWith(`${folder}/`))) {
      await plain.remove(file);
      await plain.syncDir(path.posix.dirname(file));
      summary.removed++;
    } else {
      await sealOne(plain, sealed, file, options.onStep);
      summary.sealed++;
    }
    options.onStep?.('file');
    options.onFile?.(index + 1, files.length);
  }
  return summary;
}

async function authenticates(sealed: DataDir, file: string): Promise<boolean> {
  try {
    for await (const _ of sealed.createReadStream(file)) {
      // Read to the end: each chunk is authenticated on the way.
    }
    return true;
  } catch (error) {
    if (error instanceof DamagedFileError) return false;
    throw error;
  }
}

async function sealOne(plain: DataDir, sealed: DataDir, file: string, onStep: SealOptions['onStep']): Promise<void> {
  const temporary = `${file}${TEMPORARY_SUFFIX}`;
  const writer = await sealed.createFileAsync(temporary);
  try {
    for await (const piece of plain.createReadStream(file)) writer.write([piece as Buffer]);
    await writer.finish({ durable: true });
  } catch (error) {
    writer.close();
    await plain.remove(temporary);
    throw error;
  }
  onStep?.('file-temp');
  await sealed.rename(temporary, file);
  await sealed.syncDir(path.posix.dirname(file));
}

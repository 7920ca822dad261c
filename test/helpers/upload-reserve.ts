import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UPLOAD_RESERVE, UPLOAD_RESERVE_SIZE } from '../../src/images/image-store.js';
import { waitUntil } from './api.js';
import { listFilesRecursive } from './temp-dir.js';

/**
 * The uploads in screenshots/incoming, as paths relative to it: its files but the empty ones that the upload
 * reserve created ahead there (a SQLite server writes each upload in place, in one of those).
 */
export function incomingUploads(dataDir: string): string[] {
  const dir = path.join(dataDir, 'screenshots', 'incoming');
  return listFilesRecursive(dir).filter((name) => {
    try {
      return fs.statSync(path.join(dir, name)).size > 0;
    } catch {
      return false; // removed meanwhile
    }
  });
}

/** The files of the server's upload reserve (empty files created ahead, and uploads being written). */
export function reserveFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, UPLOAD_RESERVE);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/**
 * No upload's part file is left in the reserve: it holds its empty files (at most its size; it refills in batches)
 * and nothing else (a part file left by a refused upload would hold that upload's bytes, or be one too many).
 */
export async function assertOnlyTheReserveLeft(dataDir: string): Promise<void> {
  const empty = (name: string) => {
    try {
      return fs.statSync(path.join(dataDir, UPLOAD_RESERVE, name)).size === 0;
    } catch {
      return true; // removed meanwhile
    }
  };
  await waitUntil(() => reserveFiles(dataDir).length <= UPLOAD_RESERVE_SIZE && reserveFiles(dataDir).every(empty), {
    what: 'only the upload reserve left',
    timeoutMs: 10_000,
    intervalMs: 10,
  }).catch(() => undefined); // the assertions below say what is wrong
  const files = reserveFiles(dataDir);
  assert.ok(files.length <= UPLOAD_RESERVE_SIZE, `a part file of a refused upload stays: ${files.length} files in ${UPLOAD_RESERVE}`);
  for (const name of files) assert.ok(empty(name), `${name} holds an upload's bytes`);
  // The reserves of uploads written in place: one for each format, of empty files (an upload's file is not empty).
  const incoming = path.join(dataDir, 'screenshots', 'incoming');
  const emptyUploads = listFilesRecursive(incoming).length - incomingUploads(dataDir).length;
  assert.ok(emptyUploads <= 3 * UPLOAD_RESERVE_SIZE, `${emptyUploads} empty files in screenshots/incoming: more than its reserves hold`);
}

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
 * No upload's part file is left in the reserve: once it is refilled, it holds its empty files and nothing else
 * (a part file left by a refused upload would hold that upload's bytes, and be one too many).
 */
export async function assertOnlyTheReserveLeft(dataDir: string): Promise<void> {
  await waitUntil(() => reserveFiles(dataDir).length === 0 || reserveFiles(dataDir).length >= UPLOAD_RESERVE_SIZE, {
    what: 'the upload reserve refilled',
    timeoutMs: 10_000,
    intervalMs: 10,
  });
  const files = reserveFiles(dataDir);
  assert.ok(files.length <= UPLOAD_RESERVE_SIZE, `a part file of a refused upload stays: ${files.length} files in ${UPLOAD_RESERVE}`);
  for (const name of files) assert.equal(fs.statSync(path.join(dataDir, UPLOAD_RESERVE, name)).size, 0, `${name} holds an upload's bytes`);
  // The reserves of uploads written in place: one for each format, of empty files (an upload's file is not empty).
  const incoming = path.join(dataDir, 'screenshots', 'incoming');
  const empty = listFilesRecursive(incoming).length - incomingUploads(dataDir).length;
  assert.ok(empty <= 3 * UPLOAD_RESERVE_SIZE, `${empty} empty files in screenshots/incoming: more than its reserves hold`);
}

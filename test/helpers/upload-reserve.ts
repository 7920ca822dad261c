import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UPLOAD_RESERVE, UPLOAD_RESERVE_SIZE } from '../../src/images/image-store.js';
import { waitUntil } from './api.js';

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
}

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/temp-dir.js';

const child = new URL('../helpers/scrub-child.ts', import.meta.url).pathname;

/** Runs a scrub in a child whose SQLite temporary folder is watched; the names of the files made there. */
async function scrubWatched(kind: 'encrypted' | 'plain'): Promise<string[]> {
  const sqliteTemp = tempDir();
  const created = new Set<string>();
  const watcher = fs.watch(sqliteTemp, (_event, name) => created.add(String(name)));
  try {
    const run = spawn(process.execPath, ['--import', 'tsx', child, kind, tempDir()], {
      env: { ...process.env, SQLITE_TMPDIR: sqliteTemp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stdout.on('data', (c: Buffer) => (output += c));
    run.stderr.on('data', (c: Buffer) => (output += c));
    const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /scrubbed/);
    await new Promise((resolve) => setTimeout(resolve, 100)); // inotify events still on their way
    return [...created];
  } finally {
    watcher.close();
  }
}

/**
 * The scrub's VACUUM builds a whole copy of the database in a temporary database. SQLite3 Multiple Ciphers does not
 * encrypt temporary files, so for an encrypted database that copy was plain text on the disk; in memory it would be
 * the whole database in RAM. An encrypted database is not vacuumed (what redaction rewrote is zeroed by
 * secure_delete, and encrypted); a plain one still is, with its copy in a file.
 */
describe('the scrub and SQLite temporary files', { timeout: 180_000 }, () => {
  it('an encrypted database is scrubbed without any temporary file; a plain one is vacuumed through one', async () => {
    assert.deepEqual(await scrubWatched('encrypted'), [], 'no temporary file (it would hold the plain pages)');
    assert.ok((await scrubWatched('plain')).length > 0, "a plain database's VACUUM spills its copy to a file, not to RAM");
  });
});

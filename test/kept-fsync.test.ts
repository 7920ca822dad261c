import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { KeptFsync } from '../src/files/kept-fsync.js';
import { tempDir } from './helpers/temp-dir.js';

/** The descriptors this process holds open on `file` (by what /proc says they name). */
function descriptorsOn(file: string): string[] {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(file);
    } catch {
      return false;
    }
  });
}

describe('KeptFsync: the WAL and the incoming folder synced through a descriptor kept open', () => {
  it('keeps one descriptor across syncs, and follows the path to a new file made in its place', async () => {
    const file = path.join(tempDir(), 'recall.db-wal');
    fs.writeFileSync(file, 'first');
    const kept = new KeptFsync(file);
    await kept.sync();
    await kept.sync();
    assert.equal(descriptorsOn(file).length, 1, 'one descriptor for every sync');

    // The WAL deleted and made again (the last connection closed, then a new one): the old descriptor would sync a
    // file nobody uses any more.
    fs.rmSync(file);
    fs.writeFileSync(file, 'second');
    await kept.sync();
    const open = descriptorsOn(file);
    assert.equal(open.length, 1, `only the new file is held: ${open.map((fd) => fs.readlinkSync(`/proc/self/fd/${fd}`)).join(', ')}`);
    assert.ok(!fs.readlinkSync(`/proc/self/fd/${open[0]}`).endsWith('(deleted)'), 'the descriptor names the file now at the path');

    kept.close();
    await new Promise((resolve) => setTimeout(resolve, 50)); // fs.close runs on the thread pool
    assert.equal(descriptorsOn(file).length, 0, 'closed');
  });

  it('rejects when the path is gone, as an fsync of a missing file must', async () => {
    const kept = new KeptFsync(path.join(tempDir(), 'missing'));
    await assert.rejects(kept.sync(), { code: 'ENOENT' });
  });

  it('syncs a folder', async () => {
    const dir = tempDir();
    const kept = new KeptFsync(dir);
    await kept.sync();
    assert.equal(descriptorsOn(dir).length, 1);
    kept.close();
  });
});

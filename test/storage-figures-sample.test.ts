// Issue 24: after every start the server measures thumbnails/. At a year that folder holds a million files, and
// statting each one cost the server's event loop about 25 s. A small folder is measured file by file, as before; a
// large one is counted whole and a sample of it statted, its sizes scaled to the count.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DataDir, type DataFileStat } from '../src/files/data-dir.js';
import { plainCipher } from '../src/files/plain-cipher.js';
import { StorageFigures } from '../src/retention/storage-figures.js';
import type { StorageRepository } from '../src/store/ports.js';
import { tempDir } from './helpers/temp-dir.js';

/** A DataDir that counts the files it stats. */
class CountingDataDir extends DataDir {
  stats = 0;
  override async stat(relative: string): Promise<DataFileStat | undefined> {
    this.stats++;
    return super.stat(relative);
  }
}

const repo = { totals: async () => ({ imageBytes: 0, frames: 0, processedFrames: 0, unfinishedFrames: 0 }) } as unknown as StorageRepository;

/** A data dir with `count` thumbnails of three sizes; returns it and their bytes (what DataDir.stat reports). */
function thumbnails(count: number): { root: string; diskBytes: number } {
  const root = tempDir('openrecall-thumbs-');
  const folder = path.join(root, 'thumbnails');
  fs.mkdirSync(folder);
  let diskBytes = 0;
  for (let id = 1; id <= count; id++) {
    const file = path.join(folder, `${id}.webp`);
    fs.writeFileSync(file, Buffer.alloc(1 + ((id * 7919) % 3) * 4096 + 100));
    diskBytes += fs.statSync(file).size;
  }
  return { root, diskBytes };
}

async function measure(root: string): Promise<{ bytes: number; stats: number }> {
  const files = new CountingDataDir(root, plainCipher);
  const figures = new StorageFigures(repo, files, { root, thumbnails: path.join(root, 'thumbnails'), dbFile: path.join(root, 'db', 'recall.db') });
  await figures.walkThumbnails();
  return { bytes: figures.thumbnails(), stats: files.stats };
}

describe('the size of thumbnails/', () => {
  it('is measured file by file while there are few', async () => {
    const { root, diskBytes } = thumbnails(1500);
    const { bytes, stats } = await measure(root);
    assert.equal(stats, 1500);
    assert.equal(bytes, diskBytes);
  });

  it('is estimated from a sample when there are many: the files counted, a few statted', async () => {
    const { root, diskBytes } = thumbnails(12_000);
    const { bytes, stats } = await measure(root);
    // The first 2000, then one in 100.
    assert.ok(stats <= 2000 + 100 + 1, `${stats} files statted`);
    assert.ok(Math.abs(bytes - diskBytes) <= 0.05 * diskBytes, `estimated ${bytes} bytes, ${diskBytes} on the disk`);
  });
});

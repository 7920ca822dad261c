import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NewFileReserve } from '../src/files/new-file-reserve.js';
import { tempDir } from './helpers/temp-dir.js';

function reserveIn(dir: string, options: { size?: number; maxAgeMs?: number; now?: () => number; afterCreate?: () => Promise<void> } = {}) {
  const reserve = new NewFileReserve(
    () => {
      const name = `${crypto.randomUUID()}.part`;
      return { name, path: path.join(dir, name) };
    },
    {
      size: options.size ?? 3,
      maxAgeMs: options.maxAgeMs ?? 60_000,
      ...(options.now ? { now: options.now } : {}),
      ...(options.afterCreate ? { afterCreate: options.afterCreate } : {}),
    },
  );
  return reserve;
}

/** The paths this process holds open (its descriptors' targets). */
const openPaths = () =>
  fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [fs.readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });

describe('NewFileReserve: new files created ahead of need', () => {
  it('creates a batch one file at a time, so a refill never wakes a thread of the pool per file at once', async (t) => {
    const dir = tempDir();
    let creating = 0;
    let most = 0;
    const open = fs.open;
    t.mock.method(fs, 'open', (...args: unknown[]) => {
      const done = args.at(-1) as (...result: unknown[]) => void;
      creating++;
      most = Math.max(most, creating);
      return (open as (...a: unknown[]) => void)(...args.slice(0, -1), (...result: unknown[]) => {
        creating--;
        done(...result);
      });
    });
    const reserve = reserveIn(dir, { size: 16 });
    await reserve.take(); // none ready: the taker's own file, beside the first batch
    await reserve.settled();
    most = 0;
    for (let i = 0; i < 8; i++) await reserve.take(); // half taken: a batch of 8
    await reserve.settled();
    assert.equal(reserve.readyCount, 16);
    assert.equal(most, 1, `${most} files were being created at once`);
    await reserve.close();
  });

  it('hands out new empty 0600 files, from the reserve once it is filled, and refills it once half of them are taken', async () => {
    const dir = tempDir();
    const reserve = reserveIn(dir, { size: 4 });
    const first = await reserve.take(); // nothing ready yet: created on the spot, and the reserve starts filling
    await reserve.settled();
    assert.equal(reserve.readyCount, 4);
    const ready = new Set(fs.readdirSync(dir).filter((name) => name !== first.name));
    assert.equal(ready.size, 4);
    const second = await reserve.take();
    assert.ok(ready.has(second.name), 'the second file was one created ahead');
    for (const file of [first, second]) {
      assert.equal(fs.statSync(file.path).size, 0);
      assert.equal(fs.statSync(file.path).mode & 0o777, 0o600);
      fs.writeSync(file.fd, 'bytes');
      fs.closeSync(file.fd);
      assert.equal(fs.readFileSync(file.path, 'utf8'), 'bytes');
    }
    assert.notEqual(first.name, second.name);
    await reserve.settled();
    assert.equal(reserve.readyCount, 3, 'one file taken of four: not replaced yet');
    const third = await reserve.take();
    assert.ok(ready.has(third.name));
    await reserve.settled();
    assert.equal(reserve.readyCount, 4, 'half taken: the reserve was filled again');
    assert.equal(fs.readdirSync(dir).length, 7);
    fs.closeSync(third.fd);
    await reserve.close();
  });

  it('creates the files of a refill together, and runs afterCreate (the fsync of their folder) once for them', async () => {
    const dir = tempDir();
    let syncs = 0;
    const reserve = reserveIn(dir, { size: 8, afterCreate: async () => void syncs++ });
    const taken = [await reserve.take()]; // its own file and sync, and a batch of 8 with one sync
    await reserve.settled();
    for (let i = 0; i < 4; i++) taken.push(await reserve.take()); // the fourth leaves 4: a batch of 4, one sync
    await reserve.settled();
    assert.equal(reserve.readyCount, 8);
    assert.equal(syncs, 3, '13 files created, 3 syncs');
    for (const file of taken) fs.closeSync(file.fd);
    await reserve.close();
  });

  it('hands out a file only once afterCreate (its folder synced) finished after its creation; a failed one removes it', async () => {
    const dir = tempDir();
    const synced = new Set<string>();
    const reserve = reserveIn(dir, {
      size: 2,
      afterCreate: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (const name of fs.readdirSync(dir)) synced.add(name);
      },
    });
    const taken = [await reserve.take()];
    await reserve.settled();
    taken.push(await reserve.take(), await reserve.take());
    for (const file of taken) assert.ok(synced.has(file.name), `${file.name} was handed out before its folder was synced`);
    await reserve.settled();
    await reserve.close();

    const failing = reserveIn(dir, { size: 2, afterCreate: async () => Promise.reject(Object.assign(new Error('fsync failed'), { code: 'EIO' })) });
    const before = fs.readdirSync(dir).length;
    await assert.rejects(failing.take(), /fsync failed/);
    await failing.settled();
    assert.equal(failing.readyCount, 0, 'no file whose folder failed to sync is kept');
    assert.equal(fs.readdirSync(dir).length, before, 'and each is removed');
    await failing.close();
    for (const file of taken) fs.closeSync(file.fd);
  });

  it('replaces a file held longer than maxAgeMs instead of handing it out, and removes it', async () => {
    const dir = tempDir();
    let now = 1_000_000;
    const reserve = reserveIn(dir, { size: 2, maxAgeMs: 600_000, now: () => now });
    const first = await reserve.take();
    await reserve.settled();
    const stale = fs.readdirSync(dir).filter((name) => name !== first.name);
    assert.equal(stale.length, 2);
    now += 600_001;
    const fresh = await reserve.take();
    assert.ok(!stale.includes(fresh.name), 'an old file is not handed out');
    await reserve.settled();
    for (const name of stale) assert.ok(!fs.existsSync(path.join(dir, name)), `${name} removed`);
    assert.ok(!openPaths().some((p) => stale.some((name) => p.startsWith(path.join(dir, name)))), 'their descriptors closed');
    assert.equal(reserve.readyCount, 2);
    await reserve.close();
  });

  it('at close removes every file it holds, and one still being created, and closes their descriptors', async () => {
    const dir = tempDir();
    const reserve = reserveIn(dir, { size: 4 });
    const taken = await reserve.take(); // the refill is under way as close() is called
    await reserve.close();
    assert.deepEqual(fs.readdirSync(dir), [taken.name], 'only the file handed out is left');
    assert.deepEqual(
      openPaths().filter((p) => p.startsWith(dir)),
      [taken.path],
      'no descriptor of a removed file left open',
    );
    fs.closeSync(taken.fd);
    const after = await reserve.take(); // a closed reserve still creates a file when asked, and keeps none
    await reserve.settled();
    assert.equal(reserve.readyCount, 0);
    fs.closeSync(after.fd);
  });

  it('reports the error of creating a file (a missing folder) to the taker', async () => {
    const dir = path.join(tempDir(), 'missing');
    const reserve = reserveIn(dir);
    await assert.rejects(reserve.take(), { code: 'ENOENT' });
    await reserve.settled();
    assert.equal(reserve.readyCount, 0);
  });
});

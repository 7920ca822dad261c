import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadServerConfig, type ServerConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startServerOrLocked, type ServerHandle } from '../../src/server/server.js';
import { getJson, upload, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { tempDir } from '../helpers/temp-dir.js';
import { UPLOAD_RESERVE_SIZE } from '../../src/images/image-store.js';

/** What this process's open descriptors name, for those whose target starts with `prefix` ("(deleted)" included). */
function descriptorsOn(prefix: string): string[] {
  const names: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(prefix)) names.push(target);
    } catch {
      // closed meanwhile (the readdir's own descriptor)
    }
  }
  return names;
}

describe('lock and unlock cycles leave no descriptor behind (in-process server, key file)', { timeout: 600_000 }, () => {
  let handle: ServerHandle | undefined;
  after(async () => {
    await handle?.close();
  });

  it('4 cycles with an upload each: none left on the WAL while locked, and no more after them than before', {
    skip: process.platform !== 'linux' && 'reads /proc/self/fd',
  }, async () => {
    const dataDir = path.join(tempDir(), 'data');
    const config: ServerConfig = {
      ...loadServerConfig({ OPENRECALL_EMBEDDING_PROVIDER: 'none' }),
      dataDir,
      host: '127.0.0.1',
      port: 0,
      ocrEngine: 'none',
      workers: 1,
      encryption: { mode: 'on', keyFile: path.join(tempDir(), 'data.key') },
    };
    handle = await startServerOrLocked(config, silentLogger);
    const api = `${handle.url}/api`;
    const json = { 'content-type': 'application/json' };
    const wal = path.join(dataDir, 'db', 'recall.db-wal');
    const incoming = path.join(dataDir, 'screenshots', 'incoming');
    const image = await solidPng();
    let unlocked: string[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      // An upload's 202 waits for the WAL's fsync: the descriptor is opened (kept-fsync.ts).
      const sent = await upload(api, { image, captureId: `cycle-${cycle}` });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      // SQLite's own connection holds the WAL too; OpenRecall's kept descriptor is the other one.
      if (cycle === 0) unlocked = descriptorsOn(wal);
      assert.ok(unlocked.length >= 1, 'the check can fail: the WAL is held while unlocked');
      assert.equal((await getJson(`${api}/lock`, { method: 'POST', headers: json, body: '{}' })).status, 200);
      await waitUntil(async () => (await getJson(`${api}/entries`).catch(() => undefined))?.status === 423, { what: 'the locked answers' });
      // The real app answers 423 from the moment the lock is asked, while it closes; the store's close (server.ts
      // lockNow) then lets the WAL and the incoming folder go: their descriptors must be gone soon after, and stay gone while locked.
      await waitUntil(() => descriptorsOn(wal).length + descriptorsOn(incoming).length === 0, {
        timeoutMs: 30_000,
        what: `locked (cycle ${cycle}): no descriptor on the WAL or the incoming folder`,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(descriptorsOn(wal), [], `locked (cycle ${cycle}): no descriptor on the WAL`);
      assert.deepEqual(descriptorsOn(incoming), [], `locked (cycle ${cycle}): none on the incoming folder`);
      assert.equal((await getJson(`${api}/unlock`, { method: 'POST', headers: json, body: '{}' })).status, 200);
      await waitUntil(async () => (await getJson(`${api}/entries`).catch(() => undefined))?.status === 200, { what: 'the real app again' });
    }
    const sent = await upload(api, { image, captureId: 'last' });
    assert.equal(sent.status, 202);
    const held = descriptorsOn(wal);
    assert.deepEqual(held, unlocked, 'as many descriptors on the WAL as before the first lock, none on a deleted one');
    const onIncoming = descriptorsOn(incoming);
    assert.equal(onIncoming.filter((target) => target === incoming).length, 1, 'one on the incoming folder (its fsync once the upload reserve made files)');
    // The rest are the upload reserve's empty files, created ahead there (released while locked, as checked above).
    assert.ok(onIncoming.length - 1 <= UPLOAD_RESERVE_SIZE, `${onIncoming.length} descriptors under the incoming folder`);
    const entries = await getJson(`${api}/entries?limit=10`);
    assert.equal(entries.body.entries.length, 5, 'every frame kept across the cycles');
  });
});

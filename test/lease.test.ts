import assert from 'node:assert/strict';
import { newFrame } from './helpers/store-frames.js';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadServerConfig } from '../src/config.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { tempDir } from './helpers/temp-dir.js';

const frame = (captureId: string) => newFrame(1_700_000_000, { captureId });

function open() {
  const dataDir = tempDir();
  return openSqliteStore(path.join(dataDir, 'db', 'recall.db'), { dataDir });
}

describe('processing leases (SQLite)', () => {
  it('re-queues a frame whose lease ran out; the first worker can then write nothing, and the frame completes once', async () => {
    const store = open();
    const { frames } = store;
    const { id } = await frames.insertPending(frame('lease-1'));
    const first = { workerId: 'host:1:aaaaaa', seconds: 1 };
    const second = { workerId: 'host:2:bbbbbb', seconds: 60 };

    const claimed = await frames.claimNext(10, first);
    assert.equal(claimed?.entry.id, id);
    assert.equal(await frames.renewLease(id, first), true, 'the holder renews');
    assert.equal(await frames.renewLease(id, second), false, 'another worker cannot');
    assert.deepEqual(await frames.requeueExpired(5), { requeued: 0, failed: 0 }, 'a live lease is left alone');

    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await frames.requeueExpired(5), { requeued: 1, failed: 0 });
    assert.equal((await frames.get(id))!.status, 'PENDING');
    assert.equal(await frames.renewLease(id, first), false, 'the lost lease cannot be renewed');

    const again = await frames.claimNext(10, second);
    assert.equal(again?.entry.id, id);
    assert.equal(again?.entry.attempts, 2);

    const before = await frames.get(id);
    assert.equal(await frames.saveResults(id, { text: 'from the first worker' }, first.workerId), false);
    assert.equal(await frames.complete(id, first.workerId), false);
    assert.equal(await frames.failAttempt(id, 'late failure', 3, first.workerId), undefined);
    await frames.failPermanently(id, 'late failure', first.workerId);
    await frames.release(id, first.workerId);
    assert.deepEqual(await frames.get(id), before, 'the first worker changed nothing');

    assert.equal(await frames.saveResults(id, { text: 'from the second worker' }, second.workerId), true);
    assert.equal(await frames.complete(id, second.workerId), true);
    assert.equal(await frames.complete(id, second.workerId), false, 'completes once');
    const done = (await frames.get(id))!;
    assert.equal(done.status, 'COMPLETED');
    assert.equal(done.text, 'from the second worker');
    const lease = store.db.prepare('SELECT worker_id, lease_expires_at FROM entries WHERE id = ?').get(id);
    assert.deepEqual(lease, { worker_id: null, lease_expires_at: null }, 'the lease is cleared on completion');
    await store.close();
  });

  it('fails a frame whose lease ran out crashLimit times instead of re-queueing it', async () => {
    const store = open();
    const { id } = await store.frames.insertPending(frame('lease-2'));
    const lease = { workerId: 'w', seconds: -1 }; // expired at once
    for (let crash = 1; crash <= 2; crash++) {
      await store.frames.claimNext(10, lease);
      assert.deepEqual(await store.frames.requeueExpired(2), crash < 2 ? { requeued: 1, failed: 0 } : { requeued: 0, failed: 1 });
    }
    const failed = (await store.frames.get(id))!;
    assert.equal(failed.status, 'FAILED');
    assert.match(failed.last_error!, /interrupted 2 times/);
    await store.close();
  });

  it('backfill writes (no worker) go to COMPLETED frames as before', async () => {
    const store = open();
    const { id } = await store.frames.insertPending(frame('lease-3'));
    const lease = { workerId: 'w', seconds: 60 };
    await store.frames.claimNext(10, lease);
    await store.frames.complete(id, lease.workerId);
    assert.equal(await store.frames.saveResults(id, { description: 'later' }), true);
    assert.equal((await store.frames.get(id))!.description, 'later');
    await store.close();
  });
});

describe('OPENRECALL_LEASE_SECONDS', () => {
  it('defaults to 60 seconds and refuses a value that is not a positive number', () => {
    assert.equal(loadServerConfig({}).leaseSeconds, 60);
    assert.equal(loadServerConfig({ OPENRECALL_LEASE_SECONDS: '90' }).leaseSeconds, 90);
    for (const bad of ['0', '-5', 'soon']) assert.throws(() => loadServerConfig({ OPENRECALL_LEASE_SECONDS: bad }), ConfigError);
  });
});

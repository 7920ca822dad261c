import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../src/store/ports.js';
import { waitUntil } from '../helpers/api.js';
import { newFrame } from '../helpers/store-frames.js';
import { openTestStore, STORE_KINDS, type StoreKind, type TestStore } from '../helpers/stores.js';

const CRASH_LIMIT = 3;

async function withStore(kind: StoreKind, test: (store: Store, opened: TestStore) => Promise<void>): Promise<void> {
  const opened = await openTestStore(kind);
  try {
    await test(opened.store, opened);
  } finally {
    await opened.cleanup();
  }
}

for (const kind of STORE_KINDS) {
  describe(`lease contract (${kind})`, () => {
    it('re-queues a frame whose lease ran out, without any restart, and refuses the late worker', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        await frames.claimNext(5, { workerId: 'dead', seconds: 0.2 });
        assert.deepEqual(await frames.requeueExpired(CRASH_LIMIT), { requeued: 0, failed: 0 }, 'a live lease stays');
        await sleep(300);
        assert.deepEqual(await frames.requeueExpired(CRASH_LIMIT), { requeued: 1, failed: 0 });
        assert.equal((await frames.get(id))?.status, 'PENDING');

        const taken = await frames.claimNext(5, { workerId: 'alive', seconds: 60 });
        assert.equal(taken?.entry.id, id);
        assert.equal(taken?.entry.attempts, 2);

        assert.equal(await frames.renewLease(id, { workerId: 'dead', seconds: 60 }), false);
        assert.equal(await frames.saveResults(id, { text: 'late text' }, 'dead'), false);
        assert.equal(await frames.complete(id, 'dead'), false);
        assert.equal(await frames.failAttempt(id, 'late failure', 5, 'dead'), undefined);
        await frames.failPermanently(id, 'late permanent failure', 'dead');
        await frames.release(id, 'dead');
        let row = await frames.get(id);
        assert.equal(row?.status, 'PROCESSING');
        assert.equal(row?.text, null);
        assert.equal(row?.last_error, null);
        assert.equal(row?.attempts, 2);

        assert.equal(await frames.saveResults(id, { text: 'fresh text' }, 'alive'), true);
        assert.equal(await frames.complete(id, 'alive'), true);
        row = await frames.get(id);
        assert.equal(row?.status, 'COMPLETED');
        assert.equal(row?.text, 'fresh text');
      }));

    it('names the holder of a frame only while its lease runs, and which uploads frames still point at (the worker file API)', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        const upload = (await frames.get(id))!.image_path!;
        assert.equal(await frames.heldBy(id, 'holder'), undefined, 'a pending frame is nobody’s');
        assert.equal(await frames.uploadInUse(upload), true, 'a pending frame points at its upload');
        await frames.claimNext(5, { workerId: 'holder', seconds: 0.3 });
        assert.equal((await frames.heldBy(id, 'holder'))?.id, id);
        assert.equal(await frames.heldBy(id, 'other'), undefined);
        assert.equal(await frames.heldBy(id + 1, 'holder'), undefined);
        await waitUntil(async () => (await frames.heldBy(id, 'holder')) === undefined, { timeoutMs: 10_000, what: 'the lease to run out' });
        assert.equal((await frames.get(id))?.status, 'PROCESSING', 'not re-queued yet, but no longer held');

        await frames.requeueExpired(CRASH_LIMIT);
        await frames.claimNext(5, { workerId: 'next', seconds: 60 });
        assert.equal(await frames.saveResults(id, { image_path: 'screenshots/2026/01/01/1.webp' }, 'next'), true);
        assert.equal(await frames.uploadInUse(upload), false, 'once stored, nothing points at the upload');
        assert.equal(await frames.uploadInUse('screenshots/2026/01/01/1.webp'), true);
        assert.ok(await frames.complete(id, 'next'));
        assert.equal(await frames.heldBy(id, 'next'), undefined, 'a completed frame is nobody’s');
        assert.equal(await frames.uploadInUse('screenshots/2026/01/01/1.webp'), false, 'only frames not stored yet are asked about');
      }));

    it('keeps a renewed lease past its first expiry', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        await frames.claimNext(5, { workerId: 'slow', seconds: 0.3 });
        assert.equal(await frames.renewLease(id, { workerId: 'slow', seconds: 60 }), true);
        await sleep(400);
        assert.deepEqual(await frames.requeueExpired(CRASH_LIMIT), { requeued: 0, failed: 0 });
        assert.equal(await frames.complete(id, 'slow'), true);
        assert.equal(await frames.renewLease(id, { workerId: 'slow', seconds: 60 }), false, 'no lease on a completed frame');
      }));

    it('fails a frame whose worker died crashLimit times', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        for (let crash = 1; crash <= CRASH_LIMIT; crash++) {
          assert.equal((await frames.claimNext(5, { workerId: `worker-${crash}`, seconds: 0.05 }))?.entry.id, id);
          await sleep(100);
          const expected = crash < CRASH_LIMIT ? { requeued: 1, failed: 0 } : { requeued: 0, failed: 1 };
          assert.deepEqual(await frames.requeueExpired(CRASH_LIMIT), expected);
        }
        const row = await frames.get(id);
        assert.equal(row?.status, 'FAILED');
        assert.equal(row?.last_error, `processing was interrupted ${CRASH_LIMIT} times`);
        assert.equal(await frames.claimNext(5, { workerId: 'next', seconds: 60 }), undefined);
      }));

    it('hands each of 200 frames to exactly one of 4 stores claiming at once, and completes each once', () =>
      withStore(kind, async (first, opened) => {
        const stores = [first, await opened.openAnother(), await opened.openAnother(), await opened.openAnother()];
        for (let t = 0; t < 200; t++) await first.frames.insertPending(newFrame(t));
        const claimedBy = new Map<number, string>();
        const duplicates: number[] = [];
        const work = async (store: Store, workerId: string) => {
          for (;;) {
            const claim = await store.frames.claimNext(50, { workerId, seconds: 60 });
            if (!claim) return;
            if (claimedBy.has(claim.entry.id)) duplicates.push(claim.entry.id);
            claimedBy.set(claim.entry.id, workerId);
            assert.equal(await store.frames.complete(claim.entry.id, workerId), true);
          }
        };
        await Promise.all(stores.flatMap((store, s) => [work(store, `store-${s}-a`), work(store, `store-${s}-b`)]));
        assert.deepEqual(duplicates, []);
        assert.equal(claimedBy.size, 200);
        assert.ok(new Set(claimedBy.values()).size > 1, 'the workers shared the queue');
        assert.deepEqual(await first.frames.counts(), { pending: 0, processing: 0, completed: 200, failed: 0 });
        const rows = await first.frames.list({ limit: 500 });
        assert.ok(rows.every((row) => row.attempts === 1));
      }));
  });
}

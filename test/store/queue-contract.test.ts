import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease, Store } from '../../src/store/ports.js';
import { insertShuffled, newFrame, processNext } from '../helpers/store-frames.js';
import { openTestStore, STORE_KINDS, type StoreKind } from '../helpers/stores.js';

const lease: Lease = { workerId: 'worker-1', seconds: 60 };

async function withStore(kind: StoreKind, test: (store: Store) => Promise<void>): Promise<void> {
  const opened = await openTestStore(kind);
  try {
    await test(opened.store);
  } finally {
    await opened.cleanup();
  }
}

for (const kind of STORE_KINDS) {
  describe(`queue contract (${kind})`, () => {
    it('records a new frame as PENDING and a repeated capture id as the same frame', () =>
      withStore(kind, async ({ frames }) => {
        const frame = newFrame(100, { captureId: 'same' });
        const first = await frames.insertPending(frame);
        const again = await frames.insertPending({ ...frame, timestamp: 200 });
        assert.deepEqual(again, { id: first.id, duplicate: true });
        assert.equal(first.duplicate, false);
        assert.equal(await frames.findIdByCaptureId('same'), first.id);
        assert.equal(await frames.findIdByCaptureId('unknown'), undefined);
        const row = await frames.get(first.id);
        assert.equal(row?.status, 'PENDING');
        assert.equal(row?.timestamp, 100);
        assert.equal(row?.attempts, 0);
        assert.equal(row?.bytes, 1000);
        assert.equal(row?.capture_id, 'same');
        assert.equal(await frames.get(first.id + 1000), undefined);
        assert.deepEqual(await frames.counts(), { pending: 1, processing: 0, completed: 0, failed: 0 });
      }));

    it('claims oldest first up to the threshold and newest first above it', () =>
      withStore(kind, async ({ frames }) => {
        const ids = await insertShuffled(frames, [10, 20, 30, 40, 50]);
        const fifo = await frames.claimNext(5, lease);
        assert.equal(fifo?.mode, 'FIFO');
        assert.equal(fifo?.entry.id, ids.get(10));
        const lifo = await frames.claimNext(3, lease);
        assert.equal(lifo?.mode, 'LIFO');
        assert.equal(lifo?.entry.id, ids.get(50));
        assert.equal(lifo?.entry.status, 'PROCESSING');
        assert.equal(lifo?.entry.attempts, 1);
        assert.ok(lifo?.entry.processing_started_at);
        assert.equal(await frames.pendingCount(), 3);
      }));

    it('breaks capture-time ties by id in the direction of the mode', () =>
      withStore(kind, async ({ frames }) => {
        const a = await frames.insertPending(newFrame(10));
        const b = await frames.insertPending(newFrame(10));
        assert.equal((await frames.claimNext(10, lease))?.entry.id, a.id);
        await frames.insertPending(newFrame(10));
        const c = await frames.insertPending(newFrame(10));
        assert.equal((await frames.claimNext(0, lease))?.entry.id, c.id);
        assert.notEqual(b.id, c.id);
      }));

    it('returns nothing to claim when no frame is pending', () =>
      withStore(kind, async ({ frames }) => {
        assert.equal(await frames.claimNext(5, lease), undefined);
        await frames.insertPending(newFrame(1));
        await processNext(frames);
        assert.equal(await frames.claimNext(5, lease), undefined);
      }));

    it('completes a claimed frame once', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        await frames.claimNext(5, lease);
        assert.equal(await frames.saveResults(id, { text: 'hello world', width: 800 }, lease.workerId), true);
        assert.equal(await frames.complete(id, lease.workerId), true);
        assert.equal(await frames.complete(id, lease.workerId), false);
        const row = await frames.get(id);
        assert.equal(row?.status, 'COMPLETED');
        assert.equal(row?.text, 'hello world');
        assert.equal(row?.width, 800);
        assert.equal(row?.last_error, null);
        assert.ok(row!.processing_finished_at! >= row!.processing_started_at!);
        assert.equal(await frames.completedSince(row!.processing_finished_at!), 1);
        assert.equal(await frames.completedSince(row!.processing_finished_at! + 1), 0);
      }));

    it('retries a failed attempt until attempts run out, then FAILED; retry puts it back with attempts reset', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        await frames.claimNext(5, lease);
        assert.equal(await frames.failAttempt(id, 'ocr crashed', 2, lease.workerId), 'PENDING');
        let row = await frames.get(id);
        assert.equal(row?.status, 'PENDING');
        assert.equal(row?.last_error, 'ocr crashed');
        await frames.claimNext(5, lease);
        assert.equal(await frames.failAttempt(id, 'ocr crashed again', 2, lease.workerId), 'FAILED');
        row = await frames.get(id);
        assert.equal(row?.attempts, 2);
        assert.equal(row?.last_error, 'ocr crashed again');
        assert.equal(await frames.failAttempt(id, 'not held', 2, lease.workerId), undefined);

        assert.equal(await frames.retryOne(id), true);
        assert.equal(await frames.retryOne(id), false, 'only a FAILED frame is retried');
        row = await frames.get(id);
        assert.equal(row?.status, 'PENDING');
        assert.equal(row?.attempts, 0);
      }));

    it('retries every failed frame at once', () =>
      withStore(kind, async ({ frames }) => {
        for (const t of [1, 2, 3]) {
          const { id } = await frames.insertPending(newFrame(t));
          await frames.claimNext(5, lease);
          await frames.failPermanently(id, 'image missing', lease.workerId);
        }
        await frames.insertPending(newFrame(4));
        assert.deepEqual(await frames.counts(), { pending: 1, processing: 0, completed: 0, failed: 3 });
        assert.equal(await frames.retryFailed(), 3);
        assert.deepEqual(await frames.counts(), { pending: 4, processing: 0, completed: 0, failed: 0 });
      }));

    it('fails a frame permanently at once, keeping the reason', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        await frames.claimNext(5, lease);
        await frames.failPermanently(id, 'image file is missing', lease.workerId);
        const row = await frames.get(id);
        assert.equal(row?.status, 'FAILED');
        assert.equal(row?.last_error, 'image file is missing');
        assert.equal(row?.attempts, 1);
      }));

    it('marks a completed frame FAILED when a later stage fails on it, keeping its results', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        await frames.claimNext(5, lease);
        await frames.saveResults(id, { text: 'kept' }, lease.workerId);
        await frames.complete(id, lease.workerId);
        assert.equal(await frames.completedWithoutDescription(), 1);
        assert.deepEqual(await frames.completedWithoutDescriptionIds(10), [id]);
        await frames.failCompleted(id, 'vision model failed');
        const row = await frames.get(id);
        assert.equal(row?.status, 'FAILED');
        assert.equal(row?.text, 'kept');
        assert.equal(row?.last_error, 'vision model failed');
      }));

    it('adds a later stage to a completed frame without a worker (backfill)', () =>
      withStore(kind, async ({ frames }) => {
        const older = await frames.insertPending(newFrame(1));
        const newer = await frames.insertPending(newFrame(2));
        await processNext(frames);
        await processNext(frames);
        assert.deepEqual(await frames.completedWithoutDescriptionIds(10), [newer.id, older.id]);
        assert.equal(await frames.saveResults(newer.id, { description: 'a code editor' }), true);
        assert.equal((await frames.get(newer.id))?.description, 'a code editor');
        assert.equal(await frames.completedWithoutDescription(), 1);
        assert.equal(await frames.saveResults(newer.id + 1000, { description: 'gone' }), false);
      }));

    it('releases a held frame without counting the interrupted attempt', () =>
      withStore(kind, async ({ frames }) => {
        const { id } = await frames.insertPending(newFrame(1));
        await frames.claimNext(5, lease);
        await frames.release(id, lease.workerId);
        const row = await frames.get(id);
        assert.equal(row?.status, 'PENDING');
        assert.equal(row?.attempts, 0);
        assert.equal(row?.processing_started_at, null);
        const again = await frames.claimNext(5, { workerId: 'worker-2', seconds: 60 });
        assert.equal(again?.entry.id, id);
      }));

    it('recovers interrupted frames at start-up, failing one interrupted crashLimit times', () =>
      withStore(kind, async ({ frames }) => {
        const crashing = await frames.insertPending(newFrame(1));
        const other = await frames.insertPending(newFrame(2));
        for (let i = 0; i < 3; i++) {
          await frames.claimNext(5, lease);
          await frames.recoverInterrupted(99);
        }
        // The crashing frame was claimed first each time (oldest), so it has 3 attempts; the other none.
        assert.equal((await frames.get(crashing.id))?.attempts, 3);
        await frames.claimNext(5, lease);
        await frames.claimNext(5, lease);
        assert.deepEqual(await frames.recoverInterrupted(4), { requeued: 1, failed: 1 });
        const failed = await frames.get(crashing.id);
        assert.equal(failed?.status, 'FAILED');
        assert.equal(failed?.last_error, 'processing was interrupted 4 times');
        const requeued = await frames.get(other.id);
        assert.equal(requeued?.status, 'PENDING');
        assert.equal(requeued?.attempts, 1);
        assert.deepEqual(await frames.recoverInterrupted(4), { requeued: 0, failed: 0 });
      }));

    it('refuses to delete a frame being processed and deletes any other', () =>
      withStore(kind, async ({ frames }) => {
        const busy = await frames.insertPending(newFrame(1, { imagePath: 'screenshots/incoming/busy.webp' }));
        const idle = await frames.insertPending(newFrame(2, { imagePath: 'screenshots/incoming/idle.webp' }));
        await frames.claimNext(5, lease);
        assert.deepEqual(await frames.delete(busy.id), { deleted: false, imagePath: null });
        assert.deepEqual(await frames.delete(idle.id), { deleted: true, imagePath: 'screenshots/incoming/idle.webp' });
        assert.deepEqual(await frames.delete(idle.id), { deleted: false, imagePath: null });
        assert.equal((await frames.get(busy.id))?.status, 'PROCESSING');
        assert.equal(await frames.get(idle.id), undefined);
      }));

    it('lists newest first, pages back with before_id and forward with after_id', () =>
      withStore(kind, async ({ frames }) => {
        const ids: number[] = [];
        for (let t = 1; t <= 7; t++) ids.push((await frames.insertPending(newFrame(t, { app: t % 2 ? 'Odd' : 'Even' }))).id);
        const page = (rows: Array<{ id: number }>) => rows.map((r) => r.id);
        assert.deepEqual(page(await frames.list({ limit: 3 })), [ids[6], ids[5], ids[4]]);
        assert.deepEqual(page(await frames.list({ limit: 3, beforeId: ids[4] })), [ids[3], ids[2], ids[1]]);
        assert.deepEqual(page(await frames.list({ limit: 3, afterId: ids[1] })), [ids[4], ids[3], ids[2]]);
        assert.deepEqual(page(await frames.list({ limit: 10, afterId: ids[1], beforeId: ids[4] })), [ids[3], ids[2]]);
        assert.deepEqual(page(await frames.list({ limit: 10, app: 'Even' })), [ids[5], ids[3], ids[1]]);
        await processNext(frames);
        assert.deepEqual(page(await frames.list({ limit: 10, status: 'COMPLETED' })), [ids[0]]);
        const [first] = await frames.list({ limit: 1, status: 'COMPLETED' });
        assert.equal(first?.status, 'COMPLETED');
        assert.equal(first?.app, 'Odd');
      }));

    it('counts by status and knows the oldest pending arrival and the referenced image paths', () =>
      withStore(kind, async ({ frames }) => {
        assert.equal(await frames.oldestPendingReceivedAt(), null);
        await frames.insertPending(newFrame(10, { receivedAt: 500, imagePath: 'screenshots/incoming/a.webp' }));
        await frames.insertPending(newFrame(20, { receivedAt: 400, imagePath: 'screenshots/2026/b.webp' }));
        await frames.insertPending(newFrame(30, { receivedAt: 600, imagePath: 'screenshots/incoming/c.webp' }));
        assert.equal(await frames.oldestPendingReceivedAt(), 400);
        await frames.claimNext(5, lease);
        assert.deepEqual(await frames.counts(), { pending: 2, processing: 1, completed: 0, failed: 0 });
        assert.equal(await frames.oldestPendingReceivedAt(), 400);
        assert.deepEqual(await frames.referencedUploads(), new Set(['screenshots/incoming/a.webp', 'screenshots/incoming/c.webp']));
      }));
  });
}

import assert from 'node:assert/strict';
import { newFrame as frame, insertShuffled } from './helpers/store-frames.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalFrameFiles } from '../src/images/frame-files.js';
import { ImageStore } from '../src/images/image-store.js';
import { type ClaimedFrame, Pipeline, PermanentStageError, type PipelineStage } from '../src/pipeline/stage.js';
import { ProcessingWorker } from '../src/processor/processing-worker.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import type { FramesRepository } from '../src/store/ports.js';
import { SqliteFramesRepository } from '../src/store/sqlite/frames-repository.js';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { solidPng } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { createTestDatabase } from './helpers/postgres.js';
import { repoRoot } from './helpers/server-process.js';
import { openTestStore, STORE_KINDS, type StoreKind, type TestStore } from './helpers/stores.js';
import { tempDir } from './helpers/temp-dir.js';

const opened: TestStore[] = [];
after(async () => {
  // At once: each DROP DATABASE waits for a checkpoint, and concurrent ones share it.
  await Promise.all(opened.map((store) => store.cleanup()));
});

/** A new empty store of the kind; its database goes when the file's tests end. */
async function freshStore(kind: StoreKind) {
  const store = await openTestStore(kind);
  opened.push(store);
  return { repo: store.store.frames, dataDir: store.dataDir };
}

/** A SQLite file the claimer processes open as well. */
function freshSqliteRepo() {
  const dataDir = tempDir();
  const file = path.join(dataDir, 'db', 'recall.db');
  const db = openDatabase(file, { dataDir });
  return { db, repo: new SqliteFramesRepository(db), file, dataDir };
}

const LEASE = { workerId: 'test-worker', seconds: 60 };

// Separate processes open the same SQLite file here; the lease contract suite races 4 stores on both kinds.
describe('atomic claims between processes (sqlite)', () => {
  it('never hands one frame to two processes: 4 processes drain 400 frames, each frame exactly once', async () => {
    const { repo, db, file, dataDir } = freshSqliteRepo();
    const count = 400;
    db.transaction(() => {
      for (let i = 0; i < count; i++) void repo.insertPending(frame(1_700_000_000 + i));
    })();
    const claimers = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/fixtures/claimer.ts'), file, dataDir, '50'], {
        cwd: repoRoot,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const ready = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()).includes('ready') && resolve()));
      const exited = once(child, 'exit').then(([code]) => {
        assert.equal(code, 0, `a claimer failed: ${stderr}`);
        return { stdout };
      });
      // A claimer that dies while starting fails the test instead of leaving it waiting for "ready".
      return { child, exited, ready: Promise.race([ready, exited]) };
    });
    await Promise.all(claimers.map((c) => c.ready));
    for (const { child } of claimers) child.stdin.write('go\n');
    const results = await Promise.all(claimers.map((c) => c.exited));
    const claimed = results.flatMap((o) => JSON.parse(o.stdout) as number[]);
    assert.equal(claimed.length, count, 'every frame claimed');
    assert.equal(new Set(claimed).size, count, 'no frame claimed twice');
    assert.ok(results.filter((o) => JSON.parse(o.stdout).length > 0).length >= 2, 'the work really was shared');
    assert.deepEqual(await repo.counts(), { pending: 0, processing: 0, completed: count, failed: 0 });
  });
});

for (const kind of STORE_KINDS)
  describe(`queue (${kind})`, () => {
    describe('queue order', () => {
      it('claims the oldest frame while pending <= threshold, the newest once pending > threshold', async () => {
        const { repo } = await freshStore(kind);
        const threshold = 3;
        await insertShuffled(repo, [1_700_000_001, 1_700_000_002, 1_700_000_003, 1_700_000_004, 1_700_000_005]);
        const order: Array<[number, string]> = [];
        for (;;) {
          const next = await repo.claimNext(threshold, LEASE);
          if (!next) break;
          order.push([next.entry.timestamp - 1_700_000_000, next.mode]);
        }
        // 5 pending > 3: newest (5); 4 pending > 3: newest (4); 3 pending = threshold: oldest first.
        assert.deepEqual(order, [
          [5, 'LIFO'],
          [4, 'LIFO'],
          [1, 'FIFO'],
          [2, 'FIFO'],
          [3, 'FIFO'],
        ]);
      });

      it('stays FIFO when pending equals the threshold exactly', async () => {
        const { repo } = await freshStore(kind);
        await insertShuffled(repo, [1_700_000_010, 1_700_000_020]);
        const next = (await repo.claimNext(2, LEASE))!;
        assert.equal(next.mode, 'FIFO');
        assert.equal(next.entry.timestamp, 1_700_000_010);
      });

      it('orders by capture time, not arrival: a late-arriving old frame is FIFO-first', async () => {
        const { repo } = await freshStore(kind);
        await repo.insertPending(frame(1_700_000_500));
        await repo.insertPending(frame(1_700_000_100)); // buffered by a client that was offline
        assert.equal((await repo.claimNext(10, LEASE))!.entry.timestamp, 1_700_000_100);
      });
    });

    describe('concurrent workers', () => {
      it('runs each frame through the pipeline once with 16 concurrent workers', async () => {
        const { repo, dataDir } = await freshStore(kind);
        const count = 300;
        for (let i = 0; i < count; i++) await repo.insertPending(frame(1_700_000_000 + i));
        const seen = new Map<number, number>();
        let concurrent = 0;
        let maxConcurrent = 0;
        const stage: PipelineStage = {
          name: 'count',
          async run(claimed) {
            concurrent++;
            maxConcurrent = Math.max(maxConcurrent, concurrent);
            seen.set(claimed.row.id, (seen.get(claimed.row.id) ?? 0) + 1);
            // Long enough that on a loaded machine the next claims arrive while this frame is still running.
            await new Promise((r) => setTimeout(r, 10 + Math.random() * 10));
            concurrent--;
          },
        };
        const worker = new ProcessingWorker(repo, new Pipeline([stage]), new LocalFrameFiles(new ImageStore(dataDir)), {
          concurrency: 16,
          lifoThreshold: 10,
          maxAttempts: 3,
          pollIntervalMs: 20,
          lease: LEASE,
          crashLimit: 9,
          log: () => {},
        });
        worker.start();
        const deadline = Date.now() + 30_000;
        while ((await repo.counts()).completed < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await worker.stop(1000);
        assert.equal((await repo.counts()).completed, count);
        assert.equal(seen.size, count);
        assert.ok(
          [...seen.values()].every((n) => n === 1),
          'each frame processed exactly once',
        );
        assert.ok(maxConcurrent > 1 && maxConcurrent <= 16, `concurrency respected (saw ${maxConcurrent})`);
      });
    });

    describe('failures and retries', () => {
      function workerWith(repo: FramesRepository, dataDir: string, stage: PipelineStage, maxAttempts = 3) {
        return new ProcessingWorker(repo, new Pipeline([stage]), new LocalFrameFiles(new ImageStore(dataDir)), {
          concurrency: 2,
          lifoThreshold: 10,
          maxAttempts,
          pollIntervalMs: 10,
          lease: LEASE,
          crashLimit: 9,
          log: () => {},
        });
      }
      const settle = async (repo: FramesRepository) => {
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          const c = await repo.counts();
          if (c.pending === 0 && c.processing === 0) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error('queue did not settle');
      };

      it('retries a failing frame up to OPENRECALL_MAX_ATTEMPTS, then marks it FAILED with the error kept', async () => {
        const { repo, dataDir } = await freshStore(kind);
        const { id } = await repo.insertPending(frame(1_700_000_000));
        let calls = 0;
        const worker = workerWith(
          repo,
          dataDir,
          {
            name: 'flaky',
            run: async () => {
              calls++;
              throw new Error('model server said no');
            },
          },
          3,
        );
        worker.start();
        await settle(repo);
        await worker.stop(100);
        const entry = (await repo.get(id))!;
        assert.equal(calls, 3);
        assert.equal(entry.status, 'FAILED');
        assert.equal(entry.attempts, 3);
        assert.match(entry.last_error!, /flaky: model server said no/);
      });

      it('succeeds on a later attempt and clears the error', async () => {
        const { repo, dataDir } = await freshStore(kind);
        const { id } = await repo.insertPending(frame(1_700_000_000));
        let calls = 0;
        const worker = workerWith(repo, dataDir, {
          name: 'flaky',
          run: async () => {
            if (++calls < 2) throw new Error('transient');
          },
        });
        worker.start();
        await settle(repo);
        await worker.stop(100);
        assert.equal((await repo.get(id))!.status, 'COMPLETED');
        assert.equal((await repo.get(id))!.last_error, null);
      });

      it('fails a frame whose image file is missing at once with "image not found"', async () => {
        const { repo, dataDir } = await freshStore(kind);
        const { id } = await repo.insertPending(frame(1_700_000_000, { imagePath: 'screenshots/incoming/gone.png' }));
        const reader: PipelineStage = { name: 'image', run: async (claimed: ClaimedFrame) => void (await claimed.imageBytes()) };
        const worker = workerWith(repo, dataDir, reader);
        worker.start();
        await settle(repo);
        await worker.stop(100);
        const entry = (await repo.get(id))!;
        assert.equal(entry.status, 'FAILED');
        assert.equal(entry.attempts, 1, 'a permanent error is not retried');
        assert.match(entry.last_error!, /image not found/);
      });

      it('keeps results of earlier stages when a later stage fails, and skips them on retry', async () => {
        const { repo, dataDir } = await freshStore(kind);
        const { id } = await repo.insertPending(frame(1_700_000_000));
        let ocrRuns = 0;
        let describeRuns = 0;
        const ocr: PipelineStage = {
          name: 'ocr',
          isNeeded: (e) => e.text === null,
          run: async (t) => {
            ocrRuns++;
            await t.save({ text: 'hello world' });
          },
        };
        const describeStage: PipelineStage = {
          name: 'describe',
          run: async () => {
            if (++describeRuns < 2) throw new PermanentStageError('bad reply');
          },
        };
        const worker = new ProcessingWorker(repo, new Pipeline([ocr, describeStage]), new LocalFrameFiles(new ImageStore(dataDir)), {
          concurrency: 1,
          lifoThreshold: 10,
          maxAttempts: 3,
          pollIntervalMs: 10,
          lease: LEASE,
          crashLimit: 9,
          log: () => {},
        });
        worker.start();
        await settle(repo);
        assert.equal((await repo.get(id))!.status, 'FAILED');
        assert.equal((await repo.get(id))!.text, 'hello world', 'OCR text kept');
        assert.equal(await repo.retryOne(id), true);
        worker.notify();
        await settle(repo);
        await worker.stop(100);
        assert.equal((await repo.get(id))!.status, 'COMPLETED');
        assert.equal(ocrRuns, 1, 'OCR not re-run on retry');
      });

      it('retry_failed moves every FAILED frame back to PENDING with a fresh attempt budget', async () => {
        const { repo } = await freshStore(kind);
        for (let i = 0; i < 3; i++) {
          await repo.insertPending(frame(1_700_000_000 + i));
          const claimed = (await repo.claimNext(10, LEASE))!;
          await repo.failPermanently(claimed.entry.id, 'boom', LEASE.workerId);
        }
        assert.equal(await repo.retryFailed(), 3);
        assert.deepEqual(await repo.counts(), { pending: 3, processing: 0, completed: 0, failed: 0 });
        assert.equal((await repo.claimNext(10, LEASE))!.entry.attempts, 1);
      });
    });

    describe('a lost lease', () => {
      it('abandons the frame quietly when another worker took it over: one log line, nothing written', async () => {
        const { repo, dataDir } = await freshStore(kind);
        const { id } = await repo.insertPending(frame(1_700_000_000));
        const logs: string[] = [];
        let ran = false;
        const stage: PipelineStage = {
          name: 'ocr',
          run: async (claimed) => {
            // Meanwhile the lease ran out and another worker claimed the frame.
            await repo.release(claimed.row.id, LEASE.workerId);
            assert.equal((await repo.claimNext(10, { workerId: 'elsewhere', seconds: 60 }))?.entry.id, claimed.row.id);
            ran = true;
            await claimed.save({ text: 'late' });
          },
        };
        const worker = new ProcessingWorker(repo, new Pipeline([stage]), new LocalFrameFiles(new ImageStore(dataDir)), {
          concurrency: 1,
          lifoThreshold: 10,
          maxAttempts: 3,
          pollIntervalMs: 10,
          lease: LEASE,
          crashLimit: 9,
          log: (line) => logs.push(line),
        });
        worker.start();
        const deadline = Date.now() + 10_000;
        while ((!ran || worker.busy > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await worker.stop(100);
        const entry = (await repo.get(id))!;
        assert.equal(entry.status, 'PROCESSING', "still the other worker's");
        assert.equal(entry.text, null, 'the refused write changed nothing');
        assert.equal(entry.last_error, null, 'not counted as a failure');
        assert.deepEqual(
          logs.filter((l) => l.includes(`frame ${id}`)),
          [`frame ${id}: lease lost (another worker took it over); abandoning it`],
        );
      });
    });

    describe('recovery at start', () => {
      it('returns PROCESSING frames to PENDING, and fails a frame that keeps being interrupted', async () => {
        const { repo } = await freshStore(kind);
        // b has been interrupted by crashes over and over (each claim counts an attempt):
        const b = (await repo.insertPending(frame(1_700_000_000))).id;
        for (let crash = 0; crash < 5; crash++) {
          assert.equal((await repo.claimNext(10, LEASE))!.entry.id, b);
          await repo.recoverInterrupted(100);
        }
        for (let i = 1; i < 3; i++) await repo.insertPending(frame(1_700_000_000 + i));
        assert.equal((await repo.claimNext(10, LEASE))!.entry.id, b);
        const a = (await repo.claimNext(10, LEASE))!.entry.id;
        const result = await repo.recoverInterrupted(6);
        assert.deepEqual(result, { requeued: 1, failed: 1 });
        assert.equal((await repo.get(a))!.status, 'PENDING');
        assert.equal((await repo.get(b))!.status, 'FAILED');
        assert.match((await repo.get(b))!.last_error!, /interrupted 6 times/);
      });
    });
  });

for (const kind of STORE_KINDS)
  describe(`queue through the server (${kind})`, () => {
    it('reports LIFO above the threshold, and a restart finishes the frames a dead worker held', async () => {
      const dataDir = tempDir();
      const database = kind === 'postgres' ? await createTestDatabase() : undefined;
      const config = { dataDir, databaseUrl: database?.url, lifoThreshold: 2, leaseSeconds: 1 };
      try {
        const first = await startInProcessServer(config, { store: kind });
        let ids: number[];
        try {
          await first.processor.stop(1000);
          ids = [];
          for (let i = 0; i < 5; i++)
            ids.push((await upload(first.api, { image: await solidPng(40, 30), timestamp: 1_700_000_000 + i })).body.task_id as number);
          const waiting = (await getJson(`${first.api}/queue/status`)).body;
          assert.deepEqual(waiting.queue, { pending: 5, processing: 0, completed: 0, failed: 0 });
          assert.deepEqual([waiting.config.lifo_threshold, waiting.config.current_mode], [2, 'LIFO']);
          // A worker takes the two newest frames (5 and then 4 pending > 2: newest first) and dies holding them.
          const dead = { workerId: 'killed-worker', seconds: 1 };
          const claimed = [await first.store.frames.claimNext(2, dead), await first.store.frames.claimNext(2, dead)];
          assert.deepEqual(
            claimed.map((c) => [c?.entry.id, c?.mode]),
            [
              [ids[4], 'LIFO'],
              [ids[3], 'LIFO'],
            ],
          );
          assert.equal((await queueCounts(first.api)).processing, 2);
        } finally {
          await first.close();
        }
        // SQLite: start-up recovery hands them back; PostgreSQL: their lease runs out.
        const second = await startInProcessServer(config, { store: kind });
        try {
          await waitUntil(async () => (await queueCounts(second.api)).completed === 5, { what: 'every frame processed after the restart', timeoutMs: 30_000 });
          const done = (await getJson(`${second.api}/queue/status`)).body;
          assert.deepEqual(done.queue, { pending: 0, processing: 0, completed: 5, failed: 0 });
          assert.equal(done.config.current_mode, 'FIFO');
          for (const id of ids) assert.equal((await getJson(`${second.api}/entries/${id}`)).body.status, 'COMPLETED');
        } finally {
          await second.close();
        }
      } finally {
        await database?.drop();
      }
    });
  });

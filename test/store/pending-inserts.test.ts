import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { type Inserted, PendingInserts } from '../../src/store/sqlite/pending-inserts.js';
import { sqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { waitUntil } from '../helpers/api.js';
import { newFrame } from '../helpers/store-frames.js';
import { tempDir } from '../helpers/temp-dir.js';

interface Row {
  key: string;
  n: number;
}

/** A WAL sync that finishes only when the test says so; it records the rows committed when each one was asked for. */
class HeldSync {
  readonly asked: number[] = [];
  private readonly releases: (() => void)[] = [];
  constructor(private readonly committed: () => number) {}
  sync(): Promise<void> {
    this.asked.push(this.committed());
    return new Promise((resolve) => this.releases.push(resolve));
  }
  release(index: number): void {
    this.releases[index]!();
  }
}

/** A table with a unique key and a row that can be refused (a negative n); its inserts grouped under a held sync. */
function table(options: { maxBatch?: number } = {}) {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, key TEXT UNIQUE, n INTEGER NOT NULL CHECK (n >= 0))');
  const insert = db.prepare('INSERT INTO t (key, n) VALUES (@key, @n) ON CONFLICT(key) DO NOTHING RETURNING id');
  const idOf = db.prepare('SELECT id FROM t WHERE key = ?').pluck();
  const count = db.prepare('SELECT count(*) FROM t').pluck();
  const inTransaction: boolean[] = [];
  const insertOne = (row: Row): Inserted => {
    inTransaction.push(db.inTransaction);
    const inserted = insert.get(row) as { id: number } | undefined;
    return inserted ? { id: inserted.id, duplicate: false } : { id: idOf.get(row.key) as number, duplicate: true };
  };
  const wal = new HeldSync(() => count.get() as number);
  const pending = new PendingInserts<Row>(db, insertOne, wal, options);
  return { db, pending, wal, inTransaction, count: () => count.get() as number };
}

/** Settles `promises` in the background; `settled` lists the indexes answered so far. */
function track<T>(promises: Promise<T>[]) {
  const settled: number[] = [];
  const results: Array<PromiseSettledResult<T> | undefined> = promises.map(() => undefined);
  for (const [i, p] of promises.entries()) {
    p.then(
      (value) => {
        results[i] = { status: 'fulfilled', value };
        settled.push(i);
      },
      (reason: unknown) => {
        results[i] = { status: 'rejected', reason };
        settled.push(i);
      },
    );
  }
  return { settled, results };
}

const row = (key: string, n = 1): Row => ({ key, n });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('pending inserts (group commit of the PENDING rows)', () => {
  it('inserts that arrive while two batches wait for their sync are committed together, and answered only after their sync', async () => {
    const { pending, wal, count } = table();
    const first = track([pending.insert(row('a'))]);
    await waitUntil(() => wal.asked.length === 1, { what: 'batch 1 committed', intervalMs: 2 });
    const second = track([pending.insert(row('b')), pending.insert(row('c'))]);
    await waitUntil(() => wal.asked.length === 2, { what: 'batch 2 committed beside batch 1', intervalMs: 2 });
    const rest = track(Array.from({ length: 5 }, (_, i) => pending.insert(row(`r${i}`))));
    await tick();
    await tick();
    assert.equal(wal.asked.length, 2, 'two batches in flight at most: the others wait');
    assert.equal(count(), 3, 'the waiting rows are not committed yet');
    assert.deepEqual([first.settled, second.settled, rest.settled], [[], [], []], 'nothing answered before its sync');

    wal.release(0);
    await waitUntil(() => wal.asked.length === 3, { what: 'batch 3', intervalMs: 2 });
    assert.deepEqual(first.settled, [0]);
    assert.deepEqual(second.settled, [], 'batch 2 still waits for its own sync');
    assert.deepEqual(wal.asked, [1, 3, 8], 'the five waiting rows were committed in one batch');
    wal.release(1);
    wal.release(2);
    await waitUntil(() => rest.settled.length === 5, { what: 'batch 3 answered', intervalMs: 2 });
    assert.deepEqual(second.settled.sort(), [0, 1]);
  });

  it('commits a batch in one transaction, at most maxBatch rows each, ids in the order asked', async () => {
    const { pending, wal, db, inTransaction } = table({ maxBatch: 4 });
    const inserts = Array.from({ length: 10 }, (_, i) => pending.insert(row(`k${i}`)));
    await waitUntil(() => wal.asked.length === 2, { what: 'two batches', intervalMs: 2 });
    assert.deepEqual(wal.asked, [4, 8]);
    wal.release(0);
    await waitUntil(() => wal.asked.length === 3, { what: 'the third batch', intervalMs: 2 });
    assert.deepEqual(wal.asked, [4, 8, 10]);
    wal.release(1);
    wal.release(2);
    const ids = (await Promise.all(inserts)).map((r) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'ids follow the order of the calls',
    );
    assert.deepEqual(inTransaction, Array(10).fill(true), 'each row inserted inside its batch’s transaction, not committed alone');
    assert.deepEqual(
      db.prepare('SELECT key FROM t ORDER BY id').pluck().all(),
      Array.from({ length: 10 }, (_, i) => `k${i}`),
    );
  });

  it('a duplicate inside a batch and across batches is answered as a duplicate of the first, to its own request', async () => {
    const { pending, wal } = table();
    const batch = [pending.insert(row('same')), pending.insert(row('other')), pending.insert(row('same'))];
    await waitUntil(() => wal.asked.length === 1, { what: 'the batch', intervalMs: 2 });
    assert.deepEqual(wal.asked, [2], 'one batch, two rows');
    wal.release(0);
    const [first, other, again] = await Promise.all(batch);
    assert.deepEqual(first, { id: first!.id, duplicate: false });
    assert.deepEqual(other, { id: first!.id + 1, duplicate: false });
    assert.deepEqual(again, { id: first!.id, duplicate: true });

    const later = pending.insert(row('same'));
    await waitUntil(() => wal.asked.length === 2, { what: 'the later batch', intervalMs: 2 });
    const answered = track([later]);
    await tick();
    assert.deepEqual(answered.settled, [], 'a duplicate waits for the sync too (the row it names may not be durable yet)');
    wal.release(1);
    assert.deepEqual(await later, { id: first!.id, duplicate: true });
  });

  it('a row that breaks the batch fails alone: the others are inserted row by row', async () => {
    const { pending, wal, db } = table();
    const inserts = track([pending.insert(row('good-1')), pending.insert(row('bad', -1)), pending.insert(row('good-2')), pending.insert(row('good-1'))]);
    await waitUntil(() => wal.asked.length === 1, { what: 'the batch', intervalMs: 2 });
    wal.release(0);
    await waitUntil(() => inserts.settled.length === 4, { what: 'all answered', intervalMs: 2 });
    const [good1, bad, good2, dup] = inserts.results;
    assert.equal(bad?.status, 'rejected');
    assert.match(String((bad as PromiseRejectedResult).reason), /CHECK constraint failed/);
    assert.equal(good1?.status, 'fulfilled');
    assert.equal(good2?.status, 'fulfilled');
    const id1 = (good1 as PromiseFulfilledResult<Inserted>).value.id;
    assert.deepEqual((dup as PromiseFulfilledResult<Inserted>).value, { id: id1, duplicate: true });
    assert.deepEqual(db.prepare('SELECT key FROM t ORDER BY id').pluck().all(), ['good-1', 'good-2']);
  });

  it('a failed sync fails the requests of its batch, not the next batch', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, key TEXT UNIQUE, n INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO t (key, n) VALUES (@key, @n) RETURNING id').pluck();
    let syncs = 0;
    const failing = {
      sync: async () => {
        if (syncs++ === 0) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      },
    };
    const pending = new PendingInserts<Row>(db, (r) => ({ id: insert.get(r) as number, duplicate: false }), failing);
    await assert.rejects(pending.insert(row('a')), /EIO/);
    assert.equal((await pending.insert(row('b'))).duplicate, false);
  });

  it('drain() waits for the queued inserts and their syncs', async () => {
    const { pending, wal, count } = table();
    const inserts = track([pending.insert(row('a')), pending.insert(row('b'))]);
    let drained = false;
    const draining = pending.drain().then(() => (drained = true));
    await waitUntil(() => wal.asked.length === 1, { what: 'the batch', intervalMs: 2 });
    await tick();
    assert.equal(drained, false, 'the batch still waits for its sync');
    wal.release(0);
    await draining;
    assert.deepEqual(inserts.settled.sort(), [0, 1]);
    assert.equal(count(), 2);
  });
});

describe('the SQLite store groups the PENDING rows of concurrent uploads', () => {
  it('concurrent insertPending calls: committed after the call, ids in order, a duplicate answered; closing right after commits them', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'db', 'recall.db');
    const store = sqliteStore(openDatabase(file, { dataDir }));
    const frames = Array.from({ length: 6 }, (_, i) => newFrame(1_700_000_000 + i));
    // No answer yet: the rows are queued, and written on the next turn, together.
    const inserts = [...frames, { ...frames[0]!, imagePath: 'screenshots/incoming/retry.webp' }].map((f) => store.frames.insertPending(f));
    assert.equal(await store.frames.pendingCount(), 0, 'not written on the call: queued for the batch');
    const closing = store.close(); // drains the queue before the connection closes
    const results = await Promise.all(inserts);
    await closing;
    const ids = results.slice(0, 6).map((r) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(new Set(ids).size, 6);
    assert.deepEqual(results[6], { id: ids[0], duplicate: true }, 'the retry of the first frame is its duplicate');

    const again = new Database(file, { readonly: true });
    try {
      assert.deepEqual(
        again.prepare('SELECT capture_id FROM entries ORDER BY id').pluck().all(),
        frames.map((f) => f.captureId),
      );
    } finally {
      again.close();
    }
  });
});

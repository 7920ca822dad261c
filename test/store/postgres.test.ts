import assert from 'node:assert/strict';
import { freePort } from '../helpers/free-port.js';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgresStore, redactDatabaseUrl } from '../../src/store/postgres/pg-store.js';
import { type Store, StoreUnavailableError } from '../../src/store/ports.js';
import { waitUntil } from '../helpers/api.js';
import { createTestDatabase, queryDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/postgres.js';
import { newFrame } from '../helpers/store-frames.js';
import { passwordRefusingServer, TcpProxy } from '../helpers/tcp-proxy.js';

const PASSWORD = 'hunter2-secret';

async function withDatabase(test: (database: TestDatabase, open: () => Promise<Store>) => Promise<void>): Promise<void> {
  const database = await createTestDatabase();
  const opened: Store[] = [];
  const open = async () => {
    const store = await openPostgresStore(database.url, {});
    opened.push(store);
    return store;
  };
  try {
    await test(database, open);
  } finally {
    for (const store of opened) await store.close().catch(() => {});
    await database.drop();
  }
}

async function openError(url: string): Promise<string> {
  const error = await openPostgresStore(url, {}).then(
    () => assert.fail(`opened ${url}`),
    (e: Error) => e,
  );
  return error.message;
}

function assertOneLineAboutTheVariable(message: string, reason: RegExp): void {
  assert.doesNotMatch(message, /\n/);
  assert.match(message, /^OPENRECALL_DATABASE_URL \(/);
  assert.ok(!message.includes(PASSWORD), message);
  assert.match(message, reason);
}

describe('PostgreSQL store', () => {
  it('refuses a database migrated by a newer OpenRecall and touches nothing', () =>
    withDatabase(async (database, open) => {
      const store = await open();
      await store.frames.insertPending(newFrame(1));
      await store.close();
      await queryDatabase(database.url, `INSERT INTO openrecall_schema (version, name) VALUES (99, 'from the future')`);
      const before = await queryDatabase(database.url, 'SELECT version, name, applied_at FROM openrecall_schema ORDER BY version');

      const message = await openError(database.url);
      assert.match(message, /^database schema version 99 is newer than this OpenRecall \(knows up to \d+\); upgrade OpenRecall$/);
      assert.deepEqual(await queryDatabase(database.url, 'SELECT version, name, applied_at FROM openrecall_schema ORDER BY version'), before);
      assert.deepEqual(await queryDatabase(database.url, 'SELECT count(*)::int AS n FROM entries'), [{ n: 1 }]);
    }));

  it('lets two servers migrate the same fresh database at once', () =>
    withDatabase(async (database, open) => {
      const [a, b] = await Promise.all([open(), open()]);
      const versions = await queryDatabase<{ version: number }>(database.url, 'SELECT version FROM openrecall_schema ORDER BY version');
      assert.deepEqual(
        versions.map((v) => v.version),
        [1, 2, 3],
      );
      const { id } = await a.frames.insertPending(newFrame(1));
      assert.equal((await b.frames.get(id))?.status, 'PENDING');
    }));

  it('reads counts and ids as numbers on its own connections without changing the driver for others', () =>
    withDatabase(async (database) => {
      const store = await openPostgresStore(database.url, { applicationName: 'openrecall-names-itself', poolSize: 2 });
      try {
        const { id } = await store.frames.insertPending(newFrame(1));
        assert.equal(typeof id, 'number');
        assert.deepEqual(await store.frames.counts(), { pending: 1, processing: 0, completed: 0, failed: 0 });
        const [row] = await queryDatabase<{ n: unknown }>(database.url, 'SELECT count(*) AS n FROM entries');
        assert.equal(row?.n, '1', 'another pg client of the process still reads int8 as text');
        const named = await queryDatabase<{ n: number }>(database.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [
          'openrecall-names-itself',
        ]);
        assert.ok(named[0]!.n >= 1);
      } finally {
        await store.close();
      }
    }));

  it('reports a bad request as an ordinary error, not as the database being away', () =>
    withDatabase(async (_database, open) => {
      const store = await open();
      const error = await store.frames.get(Number.NaN).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof Error);
      assert.ok(!(error instanceof StoreUnavailableError), String(error));
      assert.deepEqual(await store.frames.counts(), { pending: 0, processing: 0, completed: 0, failed: 0 });
    }));

  describe('connection errors name OPENRECALL_DATABASE_URL in one line, never the password', () => {
    it('a malformed URL', async () => {
      const message = await openError(`postgres://alice:${PASSWORD}@db:notaport/recall`);
      assertOneLineAboutTheVariable(message, /not a valid URL/);
      assertOneLineAboutTheVariable(await openError('recall-db'), /not a valid URL/);
      assertOneLineAboutTheVariable(await openError(`mysql://alice:${PASSWORD}@db/recall`), /unsupported scheme mysql:/);
    });

    it('a port where nothing listens', async () => {
      const url = `postgres://alice:${PASSWORD}@127.0.0.1:${await freePort()}/recall`;
      const message = await openError(url);
      assertOneLineAboutTheVariable(message, /connection refused/);
      assert.ok(message.includes('alice:***@127.0.0.1'), message);
    });

    it('a Unix socket directory without a server', async () => {
      const message = await openError(`postgres://alice:${PASSWORD}@/recall?host=/nonexistent-openrecall-socket-dir`);
      assertOneLineAboutTheVariable(message, /no PostgreSQL socket there/);
    });

    it('a database that does not exist', async () => {
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = '/no_such_openrecall_database';
      url.password = PASSWORD;
      assertOneLineAboutTheVariable(await openError(url.toString()), /database "no_such_openrecall_database" does not exist/);
    });

    it('a wrong password', async () => {
      const server = await passwordRefusingServer();
      try {
        const message = await openError(`postgres://alice:${PASSWORD}@127.0.0.1:${server.port}/recall`);
        assertOneLineAboutTheVariable(message, /password authentication failed for user "alice"/);
      } finally {
        await server.close();
      }
    });

    it('redacts the password of a URL for logs', () => {
      assert.equal(redactDatabaseUrl(`postgres://alice:${PASSWORD}@db:5432/recall`), 'postgres://alice:***@db:5432/recall');
      assert.equal(redactDatabaseUrl(`postgres://db/recall?user=alice&password=${PASSWORD}`), 'postgres://db/recall?user=alice&password=***');
      assert.equal(redactDatabaseUrl('postgres://alice@db/recall'), 'postgres://alice@db/recall');
    });
  });

  it('wakes a listener on another connection when a frame becomes pending', () =>
    withDatabase(async (_database, open) => {
      const worker = await open();
      const server = await open();
      let wakes = 0;
      const unsubscribe = await worker.onPendingFrames(() => wakes++);
      const { id } = await server.frames.insertPending(newFrame(1));
      await waitUntil(() => wakes >= 1, { timeoutMs: 10_000, intervalMs: 50 });

      const claimed = await worker.frames.claimNext(5, { workerId: 'w', seconds: 60 });
      await worker.frames.release(claimed!.entry.id, 'w');
      await waitUntil(() => wakes >= 2, { timeoutMs: 10_000, intervalMs: 50 });
      assert.equal(claimed?.entry.id, id);

      await unsubscribe();
      const seen = wakes;
      await server.frames.insertPending(newFrame(2));
      await sleep(300);
      assert.equal(wakes, seen, 'no wake after unsubscribing');
    }));

  it("sets and judges leases by the database clock, whatever the worker machine's clock says", () =>
    withDatabase(async (database, open) => {
      const store = await open();
      const { id } = await store.frames.insertPending(newFrame(1));
      const leaseLeft = async () => {
        const [row] = await queryDatabase<{ left: number }>(
          database.url,
          'SELECT lease_expires_at - extract(epoch from clock_timestamp())::float8 AS left FROM entries WHERE id = $1',
          [id],
        );
        return row!.left;
      };
      const realNow = Date.now;
      const withClockOff = async <T>(ms: number, work: () => Promise<T>): Promise<T> => {
        Date.now = () => realNow() + ms;
        try {
          return await work();
        } finally {
          Date.now = realNow;
        }
      };

      const claimed = await withClockOff(-3_600_000, () => store.frames.claimNext(5, { workerId: 'behind', seconds: 60 }));
      assert.equal(claimed?.entry.id, id);
      const left = await leaseLeft();
      assert.ok(left > 50 && left <= 60, `a 60 s lease from a clock an hour behind has ${left} s left`);
      assert.deepEqual(await store.frames.requeueExpired(3), { requeued: 0, failed: 0 }, 'the fresh lease is not taken back');

      assert.equal(await withClockOff(3_600_000, () => store.frames.renewLease(id, { workerId: 'behind', seconds: 60 })), true);
      const renewed = await leaseLeft();
      assert.ok(renewed > 50 && renewed <= 60, `a 60 s renewal from a clock an hour ahead has ${renewed} s left`);
      assert.deepEqual(await withClockOff(3_600_000, () => store.frames.requeueExpired(3)), { requeued: 0, failed: 0 });
    }));

  it('runs a task under an exclusive lock that a second store cannot take until it is released', () =>
    withDatabase(async (_database, open) => {
      const first = await open();
      const second = await open();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inside!: () => void;
      const entered = new Promise<void>((resolve) => (inside = resolve));
      const running = first.withExclusiveLock('retention', async () => {
        inside();
        await held;
      });
      await entered;
      let ran = false;
      assert.equal(
        await second.withExclusiveLock('retention', async () => {
          ran = true;
        }),
        false,
      );
      assert.equal(ran, false);
      assert.equal(await second.withExclusiveLock('compaction', async () => {}), true, 'another name is another lock');
      release();
      assert.equal(await running, true);
      assert.equal(
        await second.withExclusiveLock('retention', async () => {
          ran = true;
        }),
        true,
      );
      assert.equal(ran, true);
    }));

  describe('when the server goes away', () => {
    let database: TestDatabase;
    let proxy: TcpProxy;
    let store: Store;

    before(async () => {
      database = await createTestDatabase();
      const target = new URL(database.url);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      const through = new URL(database.url);
      through.host = `127.0.0.1:${proxy.port}`;
      store = await openPostgresStore(through.toString(), {});
    });

    after(async () => {
      await store.close().catch(() => {});
      await proxy.cut();
      await database.drop();
    });

    it('answers StoreUnavailableError, then works again once the server is back, without a restart', async () => {
      let wakes = 0;
      await store.onPendingFrames(() => wakes++);
      await store.frames.insertPending(newFrame(1));
      await waitUntil(() => wakes >= 1, { timeoutMs: 10_000, intervalMs: 50 });

      await proxy.cut();
      await assert.rejects(store.frames.counts(), StoreUnavailableError);
      await assert.rejects(
        store.withExclusiveLock('retention', async () => {}),
        StoreUnavailableError,
      );
      await assert.rejects(store.settings.set({ paused: true }), StoreUnavailableError);

      await proxy.start();
      assert.deepEqual(await store.frames.counts(), { pending: 1, processing: 0, completed: 0, failed: 0 });
      const seen = wakes;
      // The listening connection comes back too, and wakes its listeners for what it may have missed.
      await waitUntil(() => wakes > seen, { timeoutMs: 10_000, intervalMs: 50 });
      await waitUntil(
        async () => {
          const before = wakes;
          await store.frames.insertPending(newFrame(Math.random()));
          await sleep(200);
          return wakes > before;
        },
        { timeoutMs: 10_000, intervalMs: 50 },
      );
    });
  });
});

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openEncryption } from '../src/encryption/open-encryption.js';
import { openPostgresStore } from '../src/store/postgres/pg-store.js';
import { createTestDatabase, TEST_DATABASE_URL } from './helpers/postgres.js';
import { runCli } from './helpers/server-process.js';
import { buildLargeSqliteDataDir, buildSqliteDataDir } from './helpers/sqlite-data-dir.js';
import { tempDir } from './helpers/temp-dir.js';

// These run bin/openrecall.js, i.e. the built dist/: `npm run build` first.
const PASSWORD = 'hunter2-secret';

async function migrate(dataDir: string, url: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const cli = runCli(['migrate-db', '--to', url], { OPENRECALL_DATA_DIR: dataDir, ...env });
  const { code } = await cli.exited;
  return { code, output: cli.output() };
}

function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = PASSWORD;
  return parsed.toString();
}

function assertOneLineNamingTo(output: string, reason: RegExp): void {
  const lines = output.trim().split('\n');
  assert.equal(lines.length, 1, output);
  assert.match(lines[0]!, /^openrecall: --to /);
  assert.match(lines[0]!, reason);
  assert.ok(!output.includes(PASSWORD), output);
}

describe('openrecall migrate-db', () => {
  it('survives kill -9 in the middle of the frames and finishes on the next run with exact counts', async () => {
    const dataDir = await buildLargeSqliteDataDir(3000);
    const database = await createTestDatabase();
    const blocker = new pg.Client({ connectionString: database.url });
    try {
      await (await openPostgresStore(database.url, {})).close();
      // An uncommitted row with the id of frame 1600 makes the copy's batch holding it wait: the kill lands mid-table.
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO entries (id, timestamp, capture_id) VALUES (1600, 0, 'blocker')`);
      const first = runCli(['migrate-db', '--to', database.url], { OPENRECALL_DATA_DIR: dataDir });
      for (let waited = 0; ; waited += 100) {
        // Inside the blocker's transaction the statistics view would stay as first read: clear it each time.
        await blocker.query('SELECT pg_stat_clear_snapshot()');
        const waiting = await blocker.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'openrecall-migrate-db' AND wait_event_type = 'Lock'`);
        if (waiting.rowCount) break;
        if (waited > 30_000) assert.fail(`the copy never reached frame 1600:\n${first.output()}`);
        await sleep(100);
      }
      first.child.kill('SIGKILL');
      await first.exited;
      await blocker.query('ROLLBACK');
      const [partial] = (await blocker.query('SELECT count(*)::int AS n FROM entries')).rows;
      assert.ok(partial.n > 0 && partial.n < 3000, `${partial.n} frames copied before the kill`);
      assert.equal(fs.existsSync(path.join(dataDir, 'server.lock')), true, 'kill -9 leaves the lock of a dead process behind');

      const second = await migrate(dataDir, database.url);
      assert.equal(second.code, 0, second.output);
      assert.match(second.output, /entries\s+3000 in SQLite\s+3000 in PostgreSQL/);
      assert.match(second.output, /done: 3000 frame\(s\)/);
      const [after] = (await blocker.query('SELECT count(*)::int AS n, count(DISTINCT capture_id)::int AS d, max(id)::int AS m FROM entries')).rows;
      assert.deepEqual(after, { n: 3000, d: 3000, m: 3000 });
    } finally {
      await blocker.end().catch(() => {});
      await database.drop();
    }
  });

  it('refuses a URL of the wrong shape, naming --to and the expected form', async () => {
    const { code, output } = await migrate((await buildSqliteDataDir()).dataDir, `mysql://alice:${PASSWORD}@db/recall`);
    assert.equal(code, 2);
    assert.match(output, /--to must be a postgres:\/\/ URL; usage: openrecall migrate-db --to postgres:\/\/user@host:5432\/database/);
    assert.ok(!output.includes(PASSWORD));
  });

  it('refuses a database that does not exist and a server that does not answer, in one line without the password', async () => {
    const { dataDir } = await buildSqliteDataDir();
    const missing = new URL(withPassword(TEST_DATABASE_URL));
    missing.pathname = '/openrecall_no_such_database';
    const wrongName = await migrate(dataDir, missing.toString());
    assert.equal(wrongName.code, 1);
    assertOneLineNamingTo(wrongName.output, /database "openrecall_no_such_database" does not exist/);

    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const unreachable = await migrate(dataDir, `postgres://alice:${PASSWORD}@127.0.0.1:${port}/recall`);
    assert.equal(unreachable.code, 1);
    assertOneLineNamingTo(unreachable.output, /connection refused/);
  });

  it('refuses a PostgreSQL database holding another data dir’s frames', async () => {
    const database = await createTestDatabase();
    try {
      assert.equal((await migrate((await buildSqliteDataDir()).dataDir, database.url)).code, 0);
      const { code, output } = await migrate((await buildSqliteDataDir()).dataDir, database.url);
      assert.equal(code, 1);
      assertOneLineNamingTo(output, /already holds other frames/);
    } finally {
      await database.drop();
    }
  });

  it('refuses while a server holds the data dir, and when there is no SQLite database', async () => {
    const { dataDir } = await buildSqliteDataDir();
    // This test process is alive: its pid in server.lock is a running server as far as the command can tell.
    fs.writeFileSync(path.join(dataDir, 'server.lock'), String(process.pid));
    const locked = await migrate(dataDir, TEST_DATABASE_URL);
    assert.equal(locked.code, 1);
    assert.match(locked.output, /^openrecall: another OpenRecall server \(pid \d+\) is using .*\(migrate-db needs the data dir to itself\)\n$/);

    const empty = await migrate(tempDir('openrecall-migrate-empty-'), TEST_DATABASE_URL);
    assert.equal(empty.code, 1);
    assert.match(empty.output, /^openrecall: no SQLite database at .*recall\.db: nothing to migrate/);
  });

  it('copies an encrypted data dir with its key file, and refuses it in one line without the key or with another', async () => {
    const dataDir = path.join(tempDir('openrecall-migrate-encrypted-'), 'data');
    const keyFile = path.join(tempDir(), 'openrecall.key');
    const encrypted = { OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile };
    const opened = await openEncryption({ mode: 'on', keyFile }, dataDir);
    assert.ok(opened.encrypted && !opened.locked);
    const { ids } = await buildSqliteDataDir({ dataDir, databaseKey: opened.keys.databaseKey });
    opened.keys.wipe();
    const dbFile = path.join(dataDir, 'db', 'recall.db');
    assert.ok(!fs.readFileSync(dbFile).includes(Buffer.from('Invoice 4411')), 'the database file is encrypted');
    const before = fs.readFileSync(dbFile);

    const database = await createTestDatabase();
    const target = new pg.Client({ connectionString: database.url });
    try {
      await target.connect();
      const tables = async () => (await target.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'entries'`)).rows[0].n as number;

      const plain = await migrate(dataDir, database.url);
      assert.equal(plain.code, 2, plain.output);
      assert.match(plain.output, /^openrecall: .* is encrypted: start with OPENRECALL_ENCRYPTION=on/);
      assert.equal(plain.output.trim().split('\n').length, 1, plain.output);

      const otherKey = path.join(tempDir(), 'other.key');
      fs.writeFileSync(otherKey, crypto.randomBytes(32), { mode: 0o600 });
      const wrong = await migrate(dataDir, database.url, { ...encrypted, OPENRECALL_ENCRYPTION_KEY_FILE: otherKey });
      assert.equal(wrong.code, 2, wrong.output);
      assert.match(wrong.output, /^openrecall: the key in .*other\.key does not open the data dir/);
      assert.equal(wrong.output.trim().split('\n').length, 1, wrong.output);
      assert.equal(await tables(), 0, 'nothing was written to PostgreSQL');
      assert.ok(fs.readFileSync(dbFile).equals(before), 'the database file is untouched');

      const copied = await migrate(dataDir, database.url, encrypted);
      assert.equal(copied.code, 0, copied.output);
      assert.match(copied.output, /entries\s+7 in SQLite\s+7 in PostgreSQL/);
      assert.match(copied.output, /embeddings\s+3 in SQLite\s+3 in PostgreSQL/);
      const { rows } = await target.query('SELECT text, description FROM entries WHERE id = $1', [ids.invoice]);
      assert.deepEqual(rows[0], { text: 'Invoice 4411 due Friday', description: 'an invoice in a mail client' });
      const found = await target.query(`SELECT id::int AS id FROM entries WHERE text LIKE '%系统设计%'`);
      assert.deepEqual(found.rows, [{ id: ids.cjk }]);
    } finally {
      await target.end().catch(() => {});
      await database.drop();
    }
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from '../helpers/postgres.js';
import { runCli } from '../helpers/server-process.js';
import { dataDirFor } from './helpers.js';

const PASSWORD = 'hunter2-never-printed';

async function run(args: string[], env: Record<string, string>) {
  const cli = runCli(args, { OPENRECALL_DATA_DIR: dataDirFor(), OPENRECALL_PORT: '0', ...env });
  const { code } = await cli.exited;
  return { code, output: cli.output() };
}

test('an unreachable or wrong OPENRECALL_DATABASE_URL stops the start with one line naming it, never the password', async () => {
  for (const url of [`postgres://alice:${PASSWORD}@127.0.0.1:1/recall`, `mysql://alice:${PASSWORD}@127.0.0.1/recall`]) {
    const { code, output } = await run(['server'], { OPENRECALL_DATABASE_URL: url });
    assert.equal(code, 2, output);
    assert.match(output, /^openrecall: OPENRECALL_DATABASE_URL/m);
    assert.equal(output.trim().split('\n').length, 1, output);
    assert.doesNotMatch(output, new RegExp(PASSWORD));
  }
  const doctor = await run(['doctor', '--json'], { OPENRECALL_DATABASE_URL: `postgres://alice:${PASSWORD}@127.0.0.1:1/recall` });
  const check = JSON.parse(doctor.output).checks.find((c: { check: string }) => c.check === 'database');
  assert.equal(check.status, 'fail');
  assert.match(check.message, /alice:\*\*\*@127\.0\.0\.1:1\/recall/);
  assert.doesNotMatch(doctor.output, new RegExp(PASSWORD));
});

test('a database whose schema is newer than the program is refused and left untouched', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE openrecall_schema (version int PRIMARY KEY, name text, applied_at timestamptz DEFAULT now())`);
    await client.query(`INSERT INTO openrecall_schema (version, name) VALUES (99, 'from the future')`);
    const { code, output } = await run(['server'], { OPENRECALL_DATABASE_URL: db.url });
    assert.equal(code, 2, output);
    assert.match(output, /schema version 99 is newer than this OpenRecall/);
    const tables = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    assert.deepEqual(
      tables.rows.map((r) => r.tablename),
      ['openrecall_schema'],
      'nothing was created',
    );
    const doctor = await run(['doctor', '--json'], { OPENRECALL_DATABASE_URL: db.url });
    const check = JSON.parse(doctor.output).checks.find((c: { check: string }) => c.check === 'database');
    assert.equal(check.status, 'fail');
    assert.match(check.message, /newer than this OpenRecall/);
  } finally {
    await client.end();
  }
});

test('a worker, and a server without processing, need a shared PostgreSQL database', async () => {
  const worker = await run(['worker'], {});
  assert.equal(worker.code, 2);
  assert.match(worker.output, /openrecall worker needs OPENRECALL_DATABASE_URL/);
  const server = await run(['server', '--no-processing'], {});
  assert.equal(server.code, 2);
  assert.match(server.output, /--no-processing needs OPENRECALL_DATABASE_URL/);
});

test('prune and compact work on the shared PostgreSQL database and data dir, with no server lock to ask', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const dataDir = dataDirFor();
  const env = { OPENRECALL_DATABASE_URL: db.url, OPENRECALL_DATA_DIR: dataDir, OPENRECALL_RETENTION_DAYS: '30' };
  const prune = await run(['prune', '--dry-run', '--json'], env);
  assert.equal(prune.code, 0, prune.output);
  const report = JSON.parse(prune.output);
  assert.match(report.where, /PostgreSQL database/);
  assert.equal(report.frames, 0);
  const compact = await run(['compact'], env);
  assert.equal(compact.code, 0, compact.output);
  assert.match(compact.output, /nothing compacted yet/);
});

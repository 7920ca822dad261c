import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deriveSubkeys } from '../../src/encryption/data-key.js';
import { readKeyRecord } from '../../src/encryption/key-record.js';
import { keyFileSource, readKeyFile } from '../../src/encryption/key-sources.js';
import { openEncryption, unwrapWith } from '../../src/encryption/open-encryption.js';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { canReadMemory, countHits, describeHits, findInMemory, occurrencesInMemory } from '../helpers/process-memory.js';
import { runCli, type CliProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { deploymentEnv, entryRows, sleep, startServer, startWorker, textFrame } from '../scale/helpers.js';

const json = { 'content-type': 'application/json' };
const zeroes = (needles: Record<string, Buffer>) => Object.fromEntries(Object.keys(needles).map((name) => [name, 0]));
const count = (output: string, pattern: RegExp) => (output.match(new RegExp(pattern.source, 'g')) ?? []).length;

/**
 * Two servers and a separate `openrecall worker` on one PostgreSQL database and one encrypted data dir (a key
 * file), the servers with --no-processing: every frame is the worker's. Server A is locked; server B still takes
 * uploads (a lock reaches the workers, not the other servers), so a frame can wait while the worker is locked.
 */
describe('openrecall lock reaches a separate openrecall worker (real processes, PostgreSQL, key file)', { timeout: 900_000 }, () => {
  let db: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let worker: CliProcess;
  let late: CliProcess | undefined;
  let needles: Record<string, Buffer> = {};
  let lateEnv: Record<string, string> = {};

  before(async () => {
    db = await createTestDatabase();
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'data.key');
    const opened = await openEncryption({ mode: 'on', keyFile }, dataDir);
    assert.ok(opened.encrypted && !opened.locked);
    opened.keys.wipe();
    // The keys the worker will hold: the test opens the record itself to know which bytes to look for.
    const dataKey = await unwrapWith(keyFileSource(await readKeyFile(keyFile, { create: false })), readKeyRecord(dataDir)!);
    assert.ok(dataKey);
    const subkeys = deriveSubkeys(Buffer.from(dataKey));
    needles = {
      'data key': dataKey,
      'files key': subkeys.files,
      'database key': subkeys.database,
      'database key (hex text)': Buffer.from(subkeys.database.toString('hex')),
    };

    const env = deploymentEnv(db.url, dataDir, {
      OPENRECALL_ENCRYPTION: 'on',
      OPENRECALL_ENCRYPTION_KEY_FILE: keyFile,
      OPENRECALL_EMBEDDING_PROVIDER: 'none',
      OPENRECALL_LEASE_SECONDS: '30',
    });
    a = await startServer(env, ['--no-processing']);
    b = await startServer(env, ['--no-processing']);
    worker = await startWorker(env);
    const first = await textFrame(1);
    assert.equal((await upload(a.api, { image: first.image, title: first.word })).status, 202);
    await waitUntil(async () => (await queueCounts(a.api)).completed === 1, { what: 'the first frame COMPLETED by the worker', timeoutMs: 300_000 });
    lateEnv = env;
  });

  after(async () => {
    for (const process of [late, worker, a, b]) process?.child.kill('SIGKILL');
    await Promise.all([late, worker, a, b].map((process) => process?.exited));
    await db?.drop();
  });

  it('before the lock, the worker holds the files key (the check can fail)', { skip: !canReadMemory && 'no readable /proc/<pid>/mem' }, () => {
    const found = occurrencesInMemory(worker.child.pid!, needles);
    assert.ok(found['files key']! > 0, `the worker holds its keys: ${JSON.stringify(found)}`);
  });

  it('the lock of one server: the worker stops, hands back, and wipes its keys; a frame uploaded meanwhile waits', async () => {
    const locked = await getJson(`${a.api}/lock`, { method: 'POST', headers: json, body: '{}' });
    assert.equal(locked.status, 200, JSON.stringify(locked.body));
    await worker.waitFor(/locked: the keys are wiped from memory/, 120_000);
    await a.waitFor(/locked: the keys are wiped from memory/, 120_000);

    if (canReadMemory) {
      const hits = findInMemory(worker.child.pid!, needles);
      assert.deepEqual(countHits(needles, hits), zeroes(needles), `no copy of the keys in the worker:\n${describeHits(hits)}`);
    }

    // A worker started while the memory is locked reads no key (its key file is read at the unlock): it waits.
    late = runCli(['worker'], lateEnv);
    await late.waitFor(/waits: the memory is locked/, 90_000);
    assert.doesNotMatch(late.output(), /ready \(/, 'it never started processing');
    if (canReadMemory) {
      const hits = findInMemory(late.child.pid!, needles);
      assert.deepEqual(countHits(needles, hits), zeroes(needles), `no key in the worker started locked:\n${describeHits(hits)}`);
    }

    const second = await textFrame(2);
    const sent = await upload(b.api, { image: second.image, title: second.word });
    assert.equal(sent.status, 202, 'server B is not locked');
    await sleep(4000); // the worker would claim it within a moment (a NOTIFY wakes it): it must not
    const rows = await entryRows(db.url);
    const waiting = rows.find((row) => row.text === null && row.status !== 'COMPLETED');
    assert.ok(waiting, JSON.stringify(rows));
    assert.equal(waiting.status, 'PENDING');
    assert.equal(waiting.attempts, 0, 'not even claimed');
  });

  it('the unlock: the worker reads its key file again and processes the frame that waited; it is found by search', async () => {
    const unlocked = await getJson(`${a.api}/unlock`, { method: 'POST', headers: json, body: '{}' });
    assert.equal(unlocked.status, 200, JSON.stringify(unlocked.body));
    await waitUntil(() => count(worker.output(), /worker \S+ ready/) === 2, { what: 'the worker resumed', timeoutMs: 120_000 });
    await waitUntil(async () => (await queueCounts(b.api)).completed === 2, { what: 'the waiting frame COMPLETED', timeoutMs: 300_000 });
    const search = await getJson(`${b.api}/search?q=marker002x&mode=keyword`);
    assert.equal(search.body.results.length, 1, JSON.stringify(search.body));
    await waitUntil(async () => (await getJson(`${a.api}/entries`).catch(() => undefined))?.status === 200, { what: 'server A unlocked' });
    const image = await fetch(`${a.api}/entries/${search.body.results[0].id}/image`);
    assert.equal(image.status, 200, 'the frame the worker wrote after the unlock opens with the data dir key');
    await late!.waitFor(/worker \S+ ready/, 120_000);
  });
});

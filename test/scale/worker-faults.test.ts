import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { dataDirFor, deploymentEnv, entryRows, sleep, startServer, startWorker, textFrame } from './helpers.js';

// One database, one shared data dir, a server that only ingests and serves (--no-processing), and
// `openrecall worker` processes doing the OCR, as on a separate GPU box.

test('a worker killed (kill -9) mid-frame: the frame returns to the queue when its lease runs out, another worker completes it, no restart', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const env = deploymentEnv(db.url, dataDirFor());
  const server = await startServer(env, ['--no-processing']);
  t.after(() => server.child.kill('SIGKILL'));

  const frames = await Promise.all([0, 1, 2, 3, 4, 5].map(textFrame));
  for (const frame of frames) assert.equal((await upload(server.api, { image: frame.image, title: frame.word })).status, 202);
  await sleep(1500);
  assert.equal((await queueCounts(server.api)).pending, 6, 'a server started with --no-processing processes nothing');

  const first = await startWorker(env);
  t.after(() => first.child.kill('SIGKILL'));
  await waitUntil(async () => (await queueCounts(server.api)).processing > 0, { intervalMs: 10, what: 'a claimed frame' });
  first.child.kill('SIGKILL');
  await first.exited;
  const held = (await entryRows(db.url)).filter((r) => r.status === 'PROCESSING').map((r) => r.id);
  assert.ok(held.length >= 1, 'the killed worker held a frame');

  const second = await startWorker(env);
  t.after(() => second.child.kill('SIGKILL'));
  await waitUntil(
    async () => {
      const q = await queueCounts(server.api);
      return q.completed === 6 && q.pending === 0 && q.processing === 0;
    },
    { timeoutMs: 240_000, intervalMs: 250, what: 'every frame COMPLETED' },
  );
  const rows = await entryRows(db.url);
  assert.equal(rows.length, 6);
  for (const row of rows) {
    assert.equal(row.status, 'COMPLETED');
    assert.match(row.text ?? '', /marker\d{3}x/, `frame ${row.id} was read`);
  }
  for (const id of held) assert.equal(rows.find((r) => r.id === id)!.attempts, 2, `frame ${id}: the interrupted attempt and the one that finished`);
  for (const frame of frames) {
    const { body } = await getJson(`${server.api}/search?q=${frame.word}&mode=keyword`);
    assert.equal(body.results.length, 1, `${frame.word} is found once`);
  }
  assert.equal(server.child.exitCode, null, 'the server kept running throughout');
});

test('a worker that stalls past its lease cannot overwrite the frame the next worker completed', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const env = deploymentEnv(db.url, dataDirFor());
  const server = await startServer(env, ['--no-processing']);
  t.after(() => server.child.kill('SIGKILL'));
  const frame = await textFrame(42);
  assert.equal((await upload(server.api, { image: frame.image, title: frame.word })).status, 202);

  const stalled = await startWorker(env);
  t.after(() => stalled.child.kill('SIGKILL'));
  await waitUntil(async () => (await queueCounts(server.api)).processing === 1, { intervalMs: 5, what: 'the frame claimed' });
  stalled.child.kill('SIGSTOP'); // frozen mid-frame: no lease renewal, no result
  await sleep(4000); // the 3-second lease runs out

  const next = await startWorker(env);
  t.after(() => next.child.kill('SIGKILL'));
  await waitUntil(async () => (await queueCounts(server.api)).completed === 1, { timeoutMs: 120_000, what: 'the frame completed by the next worker' });
  const [completed] = await entryRows(db.url);

  stalled.child.kill('SIGCONT');
  await stalled.waitFor(/lease/i, 60_000);
  await sleep(500);
  const [after] = await entryRows(db.url);
  assert.deepEqual(after, completed, 'the late result changed nothing');
  assert.equal(after!.status, 'COMPLETED');
  assert.equal(after!.attempts, 2);
});

import assert from 'node:assert/strict';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { uploadFrame } from '../../src/api-client/upload.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { listFilesRecursive } from '../helpers/temp-dir.js';
import { dataDirFor, deploymentEnv, startServer, startWorker, textFrame } from './helpers.js';
import { incomingUploads } from '../helpers/upload-reserve.js';

const TOKEN = 'remote-worker-test-token-0123456789';
const WORKER_TOKEN = 'remote-worker-test-worker-token-0123';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A server that only ingests and serves, behind a token, on a fresh database and data dir of its own. */
async function tokenServer(t: TestContext, extra: Record<string, string> = {}) {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const dataDir = dataDirFor();
  const server = await startServer(deploymentEnv(db.url, dataDir, { OPENRECALL_API_TOKEN: TOKEN, ...extra }), ['--no-processing']);
  t.after(() => server.child.kill('SIGKILL'));
  return { db, dataDir, server };
}

test('a worker without the data dir processes frames through the server API (with the worker token alone)', async (t) => {
  const { db, dataDir, server } = await tokenServer(t, { OPENRECALL_WORKER_TOKEN: WORKER_TOKEN });

  const frames = await Promise.all([0, 1, 2].map(textFrame));
  let ms = Date.now() - 600_000;
  for (const frame of frames) {
    ms += 1000;
    const answer = await uploadFrame(
      server.api,
      { image: frame.image, contentType: 'image/png', timestamp: ms / 1000, app: 'Notes', title: frame.word },
      { token: TOKEN },
    );
    assert.equal(answer.status, 202);
  }

  // Its own empty data dir: nothing shared but the database and the server's URL.
  const remoteEnv = deploymentEnv(db.url, dataDirFor(), { OPENRECALL_API_URL: server.api });
  const refused = startWorker({ ...remoteEnv, OPENRECALL_WORKER_TOKEN: 'a-wrong-token-of-enough-length' });
  await assert.rejects(refused, /token missing or wrong; set OPENRECALL_WORKER_TOKEN/);
  // The server has a worker token: the API token does not open the file API.
  await assert.rejects(startWorker({ ...remoteEnv, OPENRECALL_API_TOKEN: TOKEN }), /token missing or wrong/);

  const worker = await startWorker({ ...remoteEnv, OPENRECALL_WORKER_TOKEN: WORKER_TOKEN });
  t.after(() => worker.child.kill('SIGKILL'));
  assert.match(worker.output(), /frames through http/);
  await waitUntil(async () => (await getJson(`${server.api}/queue/status`, { headers: auth })).body.queue.completed === 3, {
    timeoutMs: 180_000,
    intervalMs: 250,
    what: 'three frames COMPLETED by the remote worker',
  });

  for (const frame of frames) {
    const { body } = await getJson(`${server.api}/search?q=${frame.word}&mode=keyword`, { headers: auth });
    assert.equal(body.results.length, 1, `${frame.word} was read by OCR`);
    const image = await fetch(`${server.api}/entries/${body.results[0].id}/image`, { headers: auth });
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/webp', 'the processed frame is stored in the server data dir');
    await image.arrayBuffer();
  }
  assert.deepEqual(incomingUploads(dataDir), [], 'the uploads were removed once processed');
  assert.equal(listFilesRecursive(path.join(dataDir, 'thumbnails')).length, 3);
});

test('the worker file API refuses paths a worker has no business with, writes without the lease, and requires the token', async (t) => {
  const { dataDir, server } = await tokenServer(t);
  const url = (p: string) => `${server.api}/worker/files?path=${encodeURIComponent(p)}`;

  assert.equal((await fetch(url('screenshots/incoming/x.png'))).status, 401);
  for (const bad of ['../etc/passwd', 'db/recall.db', 'screenshots/../server.lock', '/etc/passwd', 'thumbnails/x.webp']) {
    const read = await fetch(url(bad), { headers: auth });
    assert.equal(read.status, 400, bad);
    assert.match((await read.json()).message, /path/);
  }
  const body = new Uint8Array([1, 2, 3]);
  const octet = { ...auth, 'content-type': 'application/octet-stream' };
  for (const bad of ['screenshots/incoming/a.png', 'screenshots/2026/01/01/x.webp', 'db/recall.db', 'thumbnails/../db/recall.db']) {
    const write = await fetch(url(bad), { method: 'PUT', headers: octet, body });
    assert.equal(write.status, 400, bad);
    await write.arrayBuffer();
  }
  const removeOther = await fetch(url('thumbnails/1.webp'), { method: 'DELETE', headers: auth });
  assert.equal(removeOther.status, 400);
  await removeOther.arrayBuffer();
  const missing = await fetch(url('screenshots/2026/01/01/1.webp'), { headers: auth });
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();
  // A well-formed write still needs the frame's lease (test/security/worker-files.test.ts has the rest).
  const unheld = await fetch(`${url('thumbnails/7.webp')}&frame=7`, { method: 'PUT', headers: { ...octet, 'x-openrecall-worker': 'w' }, body });
  assert.equal(unheld.status, 409);
  assert.equal((await unheld.json()).error, 'NOT_LEASE_HOLDER');
  assert.deepEqual(listFilesRecursive(path.join(dataDir, 'thumbnails')), [], 'nothing was written');
  assert.deepEqual(listFilesRecursive(path.join(dataDir, 'db')), [], 'nothing else was written');
});

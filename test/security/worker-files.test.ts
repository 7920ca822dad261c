import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { uploadFrame } from '../../src/api-client/upload.js';
import { encodeStoredWebp, thumbnail } from '../../src/images/codec.js';
import { storedFramePath, thumbnailFramePath } from '../../src/images/frame-paths.js';
import { openPostgresStore } from '../../src/store/postgres/pg-store.js';
import { solidPng, solidWebp } from '../helpers/images.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const API_TOKEN = 'security-api-token-0123456789abcdef';
const WORKER_TOKEN = 'security-worker-token-0123456789abc';
const DAY = 86_400;

/**
 * A server behind both tokens that only ingests and serves (--no-processing), and the test in the role of
 * workers: it claims frames with the real store, as `openrecall worker` does, and speaks the worker file API.
 */
test('the worker file API lets a worker touch only the frame it holds, at that frame’s own paths', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const dataDir = tempDir('openrecall-security-');
  const server = await startServerProcess(
    dataDir,
    {
      OPENRECALL_DATABASE_URL: db.url,
      OPENRECALL_API_TOKEN: API_TOKEN,
      OPENRECALL_WORKER_TOKEN: WORKER_TOKEN,
      OPENRECALL_COMPACT_AFTER_MINUTES: '100000',
    },
    ['--no-processing'],
  );
  t.after(() => server.child.kill('SIGKILL'));
  const store = await openPostgresStore(db.url, {});
  t.after(() => store.close());

  const api = (p: string) => `${server.api}${p}`;
  const fileUrl = (p: string, frame?: number) => api(`/worker/files?${frame === undefined ? '' : `frame=${frame}&`}path=${encodeURIComponent(p)}`);
  const asWorker = (worker: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${WORKER_TOKEN}`,
    'x-openrecall-worker': worker,
    ...extra,
  });
  const put = async (worker: string, frame: number, p: string, bytes: Buffer) => {
    const response = await fetch(fileUrl(p, frame), {
      method: 'PUT',
      headers: asWorker(worker, { 'content-type': 'application/octet-stream' }),
      body: new Uint8Array(bytes),
    });
    return { status: response.status, body: (await response.json()) as { error: string; message: string } };
  };
  const remove = async (worker: string, frame: number, p: string) => {
    const response = await fetch(fileUrl(p, frame), { method: 'DELETE', headers: asWorker(worker) });
    return { status: response.status, body: (await response.json()) as { error: string; message: string; removed?: boolean } };
  };
  const read = async (p: string) => {
    const response = await fetch(fileUrl(p), { headers: { authorization: `Bearer ${WORKER_TOKEN}` } });
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  };

  // --- The worker token opens /api/worker/* and nothing else; the API token no longer opens /api/worker/*.
  assert.equal((await fetch(api('/worker/ping'), { headers: { authorization: `Bearer ${WORKER_TOKEN}` } })).status, 200);
  const apiTokenOnWorker = await fetch(api('/worker/ping'), { headers: { authorization: `Bearer ${API_TOKEN}` } });
  assert.equal(apiTokenOnWorker.status, 401);
  assert.match((await apiTokenOnWorker.json()).message, /worker token/);
  const workerTokenElsewhere = await fetch(api('/queue/status'), { headers: { authorization: `Bearer ${WORKER_TOKEN}` } });
  assert.equal(workerTokenElsewhere.status, 401);
  await workerTokenElsewhere.arrayBuffer();

  // Two uploads, A (older: claimed first) and B, 800x300, a day apart.
  const now = Math.floor(Date.now() / 1000) - 3 * DAY;
  const pngA = await solidPng(800, 300, '#225588');
  const pngB = await solidPng(800, 300, '#885522');
  for (const [image, timestamp] of [
    [pngA, now - DAY],
    [pngB, now],
  ] as const) {
    const answer = await uploadFrame(server.api, { image, contentType: 'image/png', timestamp, app: 'Notes', title: 'x' }, { token: API_TOKEN });
    assert.equal(answer.status, 202);
  }
  const claimed = await store.frames.claimNext(1000, { workerId: 'holder', seconds: 600 });
  const a = claimed!.entry;
  const b = (await store.frames.list({ limit: 10, status: 'PENDING' }))[0]!;
  assert.equal(a.timestamp, now - DAY, 'the test holds the older frame');
  const uploadA = a.image_path!;
  const uploadB = b.image_path!;
  const storedA = storedFramePath(a.id, a.timestamp);
  const webpA = await encodeStoredWebp(pngA);
  const thumbA = await thumbnail(pngA);

  // --- Writes refused: not the holder, not the frame's paths, not an image of the frame's size.
  const notHolder = await put('intruder', a.id, storedA, webpA);
  assert.equal(notHolder.status, 409);
  assert.equal(notHolder.body.error, 'NOT_LEASE_HOLDER');
  for (const elsewhere of ['thumbnails/9999.webp', 'screenshots/9999/01/01/1.webp', storedFramePath(b.id, b.timestamp), thumbnailFramePath(b.id)]) {
    const answer = await put('holder', a.id, elsewhere, webpA);
    assert.equal(answer.status, 400, elsewhere);
    assert.match(answer.body.message, new RegExp(`frame ${a.id}'s files are`));
  }
  for (const shape of ['db/recall.db', 'screenshots/incoming/a.png', 'thumbnails/../db/recall.db']) {
    assert.equal((await put('holder', a.id, shape, webpA)).status, 400, shape);
  }
  const otherFrame = await put('holder', b.id, storedFramePath(b.id, b.timestamp), webpA);
  assert.equal(otherFrame.status, 409, 'B is pending: nobody holds it');
  const wrongSize = await put('holder', a.id, storedA, await solidWebp(640, 300, true));
  assert.equal(wrongSize.status, 400);
  assert.equal(wrongSize.body.error, 'WRONG_IMAGE_SIZE');
  assert.match(wrongSize.body.message, /640x300.*800x300/);
  assert.equal((await put('holder', a.id, thumbnailFramePath(a.id), webpA)).body.error, 'WRONG_IMAGE_SIZE', 'a thumbnail is 384 wide');
  assert.equal((await put('holder', a.id, storedA, Buffer.from('hello\n'))).status, 415, 'not an image');
  assert.equal((await put('holder', a.id, storedA, pngA)).status, 415, 'frames are stored as WebP');
  const noWorkerId = await fetch(fileUrl(storedA, a.id), {
    method: 'PUT',
    headers: { authorization: `Bearer ${WORKER_TOKEN}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(webpA),
  });
  assert.equal(noWorkerId.status, 400);
  assert.match((await noWorkerId.json()).message, /x-openrecall-worker/);

  // --- DELETE of a pending frame's upload: refused to a non-holder, and to the holder of another frame.
  const pendingUpload = await remove('intruder', b.id, uploadB);
  assert.equal(pendingUpload.status, 409);
  assert.equal(pendingUpload.body.error, 'NOT_LEASE_HOLDER');
  const beforeStored = await remove('holder', a.id, uploadA);
  assert.equal(beforeStored.status, 409, 'the upload stays while the frame still points at it');
  assert.equal(beforeStored.body.error, 'NOT_STORED');

  // --- The holder's own flow is accepted: image, thumbnail, the row switch, then its upload removed.
  const written = await put('holder', a.id, storedA, webpA);
  assert.equal(written.status, 200, JSON.stringify(written.body));
  assert.equal((await put('holder', a.id, thumbnailFramePath(a.id), thumbA)).status, 200);
  assert.ok(await store.frames.saveResults(a.id, { image_path: storedA, bytes: webpA.length }, 'holder'));
  const overStored = await put('holder', a.id, storedA, webpA);
  assert.equal(overStored.status, 409, 'a stored frame is never written over, even by its holder');
  assert.equal(overStored.body.error, 'ALREADY_STORED');
  const othersUpload = await remove('holder', a.id, uploadB);
  assert.equal(othersUpload.status, 409, "the holder of A cannot remove B's upload");
  assert.equal(othersUpload.body.error, 'IN_USE');
  const removed = await remove('holder', a.id, uploadA);
  assert.equal(removed.status, 200);
  assert.equal(removed.body.removed, true);
  assert.ok(await store.frames.complete(a.id, 'holder'));

  // --- PUT over a processed frame's image: refused; the image still serves as stored.
  const overProcessed = await put('holder', a.id, storedA, Buffer.from('hello\n'));
  assert.equal(overProcessed.status, 409);
  const image = await fetch(api(`/entries/${a.id}/image`), { headers: { authorization: `Bearer ${API_TOKEN}` } });
  assert.equal(image.status, 200);
  assert.deepEqual(Buffer.from(await image.arrayBuffer()), webpA);

  // B's upload survived every attempt: whoever claims it next processes it from the original bytes.
  const b2 = (await store.frames.claimNext(1000, { workerId: 'next', seconds: 600 }))!.entry;
  assert.equal(b2.id, b.id);
  assert.deepEqual((await read(uploadB)).bytes, pngB);
  assert.equal((await put('next', b.id, storedFramePath(b.id, b.timestamp), await encodeStoredWebp(pngB))).status, 200);

  // --- Reads: a directory or a missing file is 404, damage is 422, a symbolic link is never followed.
  assert.equal((await read('screenshots/incoming')).status, 404);
  assert.equal((await read('screenshots/2001/01/01/1.webp')).status, 404);
  assert.equal((await read('screenshots/../db/recall.db')).status, 400);
  const damaged = 'compact/frames/2026/01/01/5.json.gz';
  fs.mkdirSync(path.dirname(path.join(dataDir, damaged)), { recursive: true });
  fs.writeFileSync(path.join(dataDir, damaged), 'not a manifest');
  assert.equal((await read(damaged)).status, 422);

  const outside = tempDir('openrecall-outside-');
  fs.writeFileSync(path.join(outside, 'secret.webp'), 'the contents of a file outside the data dir');
  fs.symlinkSync(path.join(outside, 'secret.webp'), path.join(dataDir, 'screenshots', 'link.webp'));
  fs.symlinkSync(outside, path.join(dataDir, 'screenshots', 'linked-dir'));
  for (const link of ['screenshots/link.webp', 'screenshots/linked-dir/secret.webp']) {
    const answer = await read(link);
    assert.equal(answer.status, 404, link);
    assert.doesNotMatch(answer.bytes.toString(), /outside the data dir/);
  }
  // A write through a planted directory link lands nowhere: frame C's day directory points outside.
  await uploadFrame(server.api, { image: pngA, contentType: 'image/png', timestamp: now - 2 * DAY, app: 'Notes', title: 'c' }, { token: API_TOKEN });
  const c = (await store.frames.claimNext(1000, { workerId: 'holder', seconds: 600 }))!.entry;
  const storedC = storedFramePath(c.id, c.timestamp);
  const dayDir = path.join(dataDir, path.dirname(storedC));
  fs.mkdirSync(path.dirname(dayDir), { recursive: true });
  fs.symlinkSync(outside, dayDir);
  const throughLink = await put('holder', c.id, storedC, webpA);
  assert.equal(throughLink.status, 409);
  assert.match(throughLink.body.message, /symbolic link/);
  assert.deepEqual(fs.readdirSync(outside), ['secret.webp'], 'nothing was written outside the data dir');
  assert.equal(server.child.exitCode, null, 'the server kept serving');
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, test } from 'node:test';
import { FrameBuffer, type FrameMeta } from '../../src/client/buffer.js';
import { newCaptureId } from '../../src/client/client.js';
import { backoffDelay, classify, Uploader } from '../../src/client/uploader.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';

let ms = Date.now() - 60_000;
const meta = (title: string): FrameMeta => {
  ms += 10;
  return { captureId: newCaptureId(ms, 0), timestamp: ms / 1000, app: 'Editor', title, monitor: 0, contentType: 'image/png' };
};

function setup(apiUrl: string, overrides: { backoffInitialMs?: number; backoffMaxMs?: number } = {}) {
  const lines: string[] = [];
  const log = (m: string) => lines.push(m);
  const buffer = new FrameBuffer(path.join(tempDir(), 'buffer'), 50 * 1024 * 1024, log);
  buffer.open();
  const uploader = new Uploader(buffer, {
    apiUrl,
    timeoutMs: 5000,
    backoffInitialMs: overrides.backoffInitialMs ?? 50,
    backoffMaxMs: overrides.backoffMaxMs ?? 200,
    log,
  });
  return { buffer, uploader, lines };
}

test('answers: 2xx delivered, 408/429/5xx and setup errors retried, other 4xx rejected', () => {
  assert.deepEqual(classify({ status: 202, body: { status: 'accepted' } }), { kind: 'delivered', duplicate: false });
  assert.deepEqual(classify({ status: 200, body: { status: 'duplicate' } }), { kind: 'delivered', duplicate: true });
  for (const status of [408, 429, 500, 502, 503, 507, 401, 404]) assert.equal(classify({ status, body: {} }).kind, 'retry', String(status));
  for (const status of [400, 413, 415, 422]) assert.equal(classify({ status, body: { message: 'bad' } }).kind, 'reject', String(status));
  assert.equal(classify({ status: 415, body: { message: 'not an image' } }).kind === 'reject' && 'ok', 'ok');
});

test('backoff doubles with jitter and is capped', () => {
  assert.equal(
    backoffDelay(0, 1000, 60_000, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(0, 1000, 60_000, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(3, 1000, 60_000, () => 1),
    8000,
  );
  assert.equal(
    backoffDelay(20, 1000, 60_000, () => 1),
    60_000,
  );
  assert.equal(
    backoffDelay(20, 1000, 60_000, () => 0),
    30_000,
  );
});

test('frames reach the real server oldest first; a repeat is a duplicate and also leaves the buffer; a rejected one is quarantined and the next still goes', async () => {
  const server = await startInProcessServer();
  after(() => server.close());
  const { buffer, uploader, lines } = setup(server.api);
  const png = await solidPng(64, 48);
  const first = meta('first');
  const bad = meta('bad');
  const last = meta('last');
  buffer.write(first, png);
  buffer.write(bad, Buffer.from('this is not an image at all'));
  buffer.write(last, await solidPng(64, 48, '#cc3333'));
  uploader.start();
  after(() => uploader.stop());
  await waitUntil(() => buffer.stats().items === 0, { timeoutMs: 10_000, what: 'the buffer to empty' });
  const { body } = await getJson(`${server.api}/entries`);
  const ids = body.entries.map((e: { capture_id: string }) => e.capture_id).sort();
  assert.deepEqual(ids, [first.captureId, last.captureId].sort());
  assert.equal(uploader.status().delivered, 2);
  assert.equal(uploader.status().quarantined, 1);
  const reason = fs.readFileSync(path.join(buffer.quarantineDir, `${bad.captureId}.orf.reason.txt`), 'utf8');
  assert.match(reason, /rejected by the server: HTTP 4\d\d/);
  assert.ok(lines.some((l) => l.includes(`quarantined ${bad.captureId}.orf`)));

  // Delivered again (e.g. the answer was lost): the server says duplicate, the item leaves the buffer.
  buffer.write(first, png);
  await waitUntil(() => uploader.status().duplicates === 1, { timeoutMs: 10_000, what: 'a duplicate answer' });
  assert.equal(buffer.stats().items, 0);
  assert.equal((await getJson(`${server.api}/entries`)).body.entries.length, 2);
});

test('transient failures are retried with backoff, honouring Retry-After, until the server accepts', async () => {
  const answers = [
    { status: 503, headers: { 'retry-after': '1' } },
    { status: 500, headers: {} },
    { status: 429, headers: {} },
  ];
  const seen: number[] = [];
  const stub = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(Date.now());
      const answer = answers.shift() ?? { status: 202, headers: {} };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.status === 202 ? { status: 'accepted', task_id: 1 } : { statusCode: answer.status, error: 'x', message: 'busy' }));
    });
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  after(() => {
    stub.closeAllConnections();
    stub.close();
  });
  const { port } = stub.address() as { port: number };
  const { buffer, uploader, lines } = setup(`http://127.0.0.1:${port}/api`);
  buffer.write(meta('retried'), await solidPng());
  uploader.start();
  after(() => uploader.stop());
  await waitUntil(() => buffer.stats().items === 0, { timeoutMs: 10_000, what: 'delivery after retries' });
  assert.equal(seen.length, 4);
  assert.ok(seen[1]! - seen[0]! >= 950, `Retry-After: 1 was not honoured (${seen[1]! - seen[0]!} ms)`);
  assert.ok(lines.some((l) => /upload failed: HTTP 503/.test(l)));
  assert.ok(lines.some((l) => /upload works again after 3 failed attempt/.test(l)));
});

test('stop interrupts a backoff wait at once and leaves the frame buffered', async () => {
  const { buffer, uploader } = setup('http://127.0.0.1:9/api', { backoffInitialMs: 60_000, backoffMaxMs: 60_000 });
  buffer.write(meta('kept'), await solidPng());
  uploader.start();
  await waitUntil(() => uploader.status().state === 'retrying', { timeoutMs: 5000, what: 'a failed attempt' });
  const started = Date.now();
  await uploader.stop();
  assert.ok(Date.now() - started < 500);
  assert.equal(buffer.stats().items, 1);
  assert.match(uploader.status().lastError ?? '', /server unreachable/);
});

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FrameBuffer } from '../../src/client/buffer.js';
import { newCaptureId } from '../../src/client/client.js';
import type { Clock } from '../../src/client/clock.js';
import { Uploader } from '../../src/client/uploader.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { listFilesRecursive, tempDir } from '../helpers/temp-dir.js';
import { readRows, uploadWithToken } from './helpers.js';

/** A multipart upload body built by hand, so it can be sent in pieces. */
function uploadBody(image: Buffer, captureId: string) {
  const boundary = 'slowBoundary7';
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = Buffer.concat([
    Buffer.from(
      field('timestamp', String(Date.now() / 1000 - 30)) + field('active_app', 'Slow') + field('active_window', 'slow') + field('capture_id', captureId),
    ),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
    image,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** An upload over a raw socket: headers and the first bytes now, the rest when told. */
function heldUpload(url: string, image: Buffer, captureId: string) {
  const { port } = new URL(url);
  const { body, contentType } = uploadBody(image, captureId);
  const socket = net.connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  socket.write(body.subarray(0, 40));
  return {
    socket,
    closed,
    response: () => received,
    finish: async () => {
      socket.write(body.subarray(40));
      await closed;
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
    },
  };
}

async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^openrecall_uploads_in_flight (\d+)$/m.exec(text)?.[1]);
}

const servers: ServerProcess[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe('request timeout (slowloris)', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess(tempDir(), {
      OPENRECALL_OCR_ENGINE: 'none',
      OPENRECALL_REQUEST_TIMEOUT_SECONDS: '2',
      OPENRECALL_MAX_CONCURRENT_UPLOADS: '1',
    });
    servers.push(server);
  });

  it('drops an upload whose body trickles in, frees its slot, and stores nothing', async () => {
    const png = await solidPng(120, 80);
    const slow = heldUpload(server.url, png, 'slowloris-1');
    await waitUntil(async () => (await inFlight(server.url)) === 1, { what: 'the slow upload holding the only slot', timeoutMs: 30_000 });
    // One byte at a time, well within any idle timeout, never finishing.
    let sent = 0;
    const trickle = setInterval(() => {
      if (!slow.socket.destroyed) slow.socket.write('x');
      sent++;
    }, 300);
    try {
      await slow.closed; // the server ends it (Node answers 408 when it can), however long that takes here
    } finally {
      clearInterval(trickle);
    }
    assert.ok(sent >= 1, 'bytes kept arriving before the server gave up');
    assert.match(slow.response(), /^(HTTP\/1\.1 408|$)/, `answer: ${slow.response().slice(0, 100)}`);
    await waitUntil(async () => (await inFlight(server.url)) === 0, { what: 'the slot released', timeoutMs: 30_000 });
    const ok = await uploadWithToken(server.api, png, { token: null, captureId: 'after-slowloris' });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const rows = (await getJson(`${server.api}/entries`)).body.entries as Array<{ capture_id: string }>;
    assert.deepEqual(
      rows.map((r) => r.capture_id),
      ['after-slowloris'],
    );
  });
});

describe('bounded concurrent uploads', () => {
  let server: ServerProcess;
  let dataDir: string;
  before(async () => {
    dataDir = tempDir();
    server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_MAX_CONCURRENT_UPLOADS: '2' });
    servers.push(server);
  });

  it('answers 503 with Retry-After at once past the bound, stores nothing for it, and accepts again when a slot frees', async () => {
    const png = await solidPng(120, 80, '#884400');
    const held = [heldUpload(server.url, png, 'held-1'), heldUpload(server.url, png, 'held-2')];
    await waitUntil(async () => (await inFlight(server.url)) === 2, { what: 'two uploads holding both slots', timeoutMs: 30_000 });
    const rejected = await fetch(`${server.api}/upload`, {
      method: 'POST',
      ...(() => {
        const b = uploadBody(png, 'third');
        return { body: new Uint8Array(b.body), headers: { 'content-type': b.contentType } };
      })(),
    });
    assert.equal(rejected.status, 503);
    assert.equal(rejected.headers.get('retry-after'), '2');
    const body = (await rejected.json()) as Record<string, unknown>;
    assert.equal(body.error, 'BUSY');
    assert.match(String(body.message), /2 uploads already; retry in 2 s/);
    assert.equal(readRows(dataDir).filter((r) => r.capture_id === 'third').length, 0);

    // The held uploads complete normally.
    assert.deepEqual(await Promise.all(held.map((h) => h.finish())), [202, 202]);
    await waitUntil(async () => (await inFlight(server.url)) === 0, { what: 'slots released', timeoutMs: 30_000 });
    const retried = await uploadWithToken(server.api, png, { token: null, captureId: 'third' });
    assert.equal(retried.status, 202);
    assert.deepEqual(
      readRows(dataDir)
        .map((r) => r.capture_id)
        .sort(),
      ['held-1', 'held-2', 'third'],
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^openrecall_uploads_total\{outcome="busy"\} 1$/m);
    assert.match(metrics, /^openrecall_uploads_total\{outcome="accepted"\} 3$/m);
  });

  it('the capture client waits at least Retry-After before trying again, then delivers', async () => {
    const png = await solidPng(100, 60, '#118844');
    const held = [heldUpload(server.url, png, 'held-3'), heldUpload(server.url, png, 'held-4')];
    await waitUntil(async () => (await inFlight(server.url)) === 2, { what: 'both slots held', timeoutMs: 30_000 });

    // The real uploader and buffer; its clock records each wait it asks for (and waits 50 ms of it).
    const waits: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: async (ms) => {
        waits.push(ms);
        await new Promise((r) => setTimeout(r, 50));
      },
    };
    const lines: string[] = [];
    const buffer = new FrameBuffer(path.join(tempDir(), 'buffer'), 10 * 1024 * 1024, (m) => lines.push(m));
    buffer.open();
    const uploader = new Uploader(buffer, { apiUrl: server.api, timeoutMs: 10_000, backoffInitialMs: 10, backoffMaxMs: 20, log: (m) => lines.push(m), clock });
    const ms = Date.now() - 10_000;
    const captureId = newCaptureId(ms, 0);
    buffer.write({ captureId, timestamp: ms / 1000, app: 'Client', title: 'retry-after', monitor: 0, contentType: 'image/png' }, png);
    uploader.start();
    try {
      await waitUntil(() => waits.length >= 2, { what: 'two refused attempts', timeoutMs: 30_000 });
      await Promise.all(held.map((h) => h.finish()));
      await waitUntil(() => buffer.stats().items === 0, { what: 'delivery once a slot is free', timeoutMs: 30_000 });
    } finally {
      await uploader.stop();
    }
    assert.ok(
      lines.some((l) => /upload failed: HTTP 503: the server is receiving 2 uploads already/.test(l)),
      lines.join('\n'),
    );
    // Backoff alone would ask for 10-20 ms: every wait after a 503 is the server's 2 s.
    for (const wait of waits) assert.ok(wait >= 2000, `waited ${wait} ms after a 503 with Retry-After: 2`);
    assert.equal(uploader.status().delivered, 1);
    assert.equal(readRows(dataDir).filter((r) => r.capture_id === captureId).length, 1);
    assert.deepEqual(
      listFilesRecursive(path.join(buffer.dir)).filter((f) => !f.startsWith('quarantine')),
      [],
    );
  });
});

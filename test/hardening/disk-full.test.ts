import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { getJson, upload, waitUntil } from '../helpers/api.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { incomingUploads } from '../helpers/upload-reserve.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

/** A PNG that does not compress away (random pixels), so a few of them take real space. */
function noisyPng(width: number, height: number, seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pixels[i] = x >>> 24;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Writes a file until the file system says ENOSPC; returns its path. */
function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler.bin');
  const fd = fs.openSync(filler, 'w');
  try {
    for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0xab);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

const incoming = (dataDir: string) => incomingUploads(dataDir);
const rowCount = (server: Server) => server.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;

describe('disk full on the server (tmpfs of 8 MB as the data dir)', () => {
  let mountPoint: string;
  let mounted = false;
  let server: Server;

  before(async () => {
    mountPoint = tempDir('openrecall-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]);
    mounted = true;
    server = await startInProcessServer({ dataDir: mountPoint, ocrEngine: 'none', workers: 1 });
  });
  after(async () => {
    await server?.close();
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
  });

  it('answers 507 while the disk is full, damages nothing, and accepts again once space returns', async () => {
    // Three frames stored and processed before the disk fills.
    const earlier: Array<{ id: number; image: Buffer; thumbnail: Buffer }> = [];
    for (let i = 0; i < 3; i++) {
      const response = await upload(server.api, { image: await noisyPng(160, 100, i + 1), captureId: `before-${i}` });
      assert.equal(response.status, 202);
      earlier.push({ id: response.body.task_id!, image: Buffer.alloc(0), thumbnail: Buffer.alloc(0) });
    }
    await waitUntil(async () => (await getJson(`${server.api}/queue/status`)).body.queue.completed === 3, {
      what: 'earlier frames processed',
      timeoutMs: 60_000,
    });
    for (const frame of earlier) {
      frame.image = Buffer.from(await (await fetch(`${server.api}/entries/${frame.id}/image`)).arrayBuffer());
      frame.thumbnail = Buffer.from(await (await fetch(`${server.api}/entries/${frame.id}/thumbnail`)).arrayBuffer());
      assert.ok(frame.image.length > 1000 && frame.thumbnail.length > 100);
    }

    const filler = fillDisk(mountPoint);
    assert.ok(fs.statSync(filler).size > 4 * 1024 * 1024, 'most of the 8 MB went to the filler');
    const rows = rowCount(server);
    const big = await noisyPng(200, 150, 99);
    for (let i = 0; i < 3; i++) {
      const response = await upload(server.api, { image: big, captureId: `while-full-${i}` });
      assert.equal(response.status, 507, JSON.stringify(response.body));
      assert.equal(response.body.error, 'INSUFFICIENT_STORAGE');
      assert.match(String(response.body.message), /out of disk space: nothing was stored/);
    }
    assert.deepEqual(incoming(mountPoint), [], 'no orphan or temporary file left behind');
    assert.equal(rowCount(server), rows, 'no row for a refused upload');
    assert.equal(server.db.prepare(`SELECT count(*) FROM entries WHERE capture_id LIKE 'while-full-%'`).pluck().get(), 0);

    // Everything stored before is intact and served.
    for (const frame of earlier) {
      const entry = await getJson(`${server.api}/entries/${frame.id}`);
      assert.equal(entry.body.status, 'COMPLETED');
      assert.deepEqual(Buffer.from(await (await fetch(`${server.api}/entries/${frame.id}/image`)).arrayBuffer()), frame.image);
      assert.deepEqual(Buffer.from(await (await fetch(`${server.api}/entries/${frame.id}/thumbnail`)).arrayBuffer()), frame.thumbnail);
    }
    assert.equal((await getJson(`${server.api}/entries`)).body.entries.length, 3);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^openrecall_uploads_total\{outcome="storage_full"\} 3$/m);

    // Space returns: the same upload (as a client would retry it) is accepted and processed, nothing restarted.
    fs.rmSync(filler);
    const retried = await upload(server.api, { image: big, captureId: 'while-full-0' });
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    await waitUntil(async () => (await getJson(`${server.api}/entries/${retried.body.task_id}`)).body.status === 'COMPLETED', {
      what: 'the retried frame processed',
      timeoutMs: 60_000,
    });
  });

  it('a frame accepted before the disk filled waits (PENDING, attempt not counted) and completes once space returns', async () => {
    await server.processor.stop(0);
    const response = await upload(server.api, { image: await noisyPng(400, 300, 7), captureId: 'accepted-then-full' });
    assert.equal(response.status, 202);
    const id = response.body.task_id!;
    const filler = fillDisk(mountPoint);
    try {
      await server.processor.start();
      // The processor cannot claim (its database write fails) or cannot store the WebP (ENOSPC): either way it
      // pauses and the frame waits, neither failed nor charged an attempt. Watch it for a while of processor polls.
      for (let i = 0; i < 20; i++) {
        const entry = (await getJson(`${server.api}/entries/${id}`)).body;
        assert.ok(entry.status === 'PENDING' || entry.status === 'PROCESSING', entry.status);
        assert.equal(entry.last_error, null);
        await new Promise((r) => setTimeout(r, 250));
      }
      const entry = (await getJson(`${server.api}/entries/${id}`)).body;
      assert.equal(entry.attempts <= 1, true, 'no attempt burnt on the full disk');
      assert.equal(server.processor.alive, true, 'the processor did not crash');
    } finally {
      fs.rmSync(filler);
    }
    await waitUntil(async () => (await getJson(`${server.api}/entries/${id}`)).body.status === 'COMPLETED', {
      what: 'processed once space returned',
      timeoutMs: 60_000,
    });
  });
});

// SQLITE_FULL on insert (507, the file removed) is checked through inject in test/api-validation.test.ts.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHUNK_BYTES, HEADER_BYTES } from '../../src/encryption/aead-file-cipher.js';
import { openEncryption } from '../../src/encryption/open-encryption.js';
import type { DataDir } from '../../src/files/data-dir.js';
import { openDataDir } from '../../src/files/open-data-dir.js';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const SEALED_CHUNK = CHUNK_BYTES + 16;

/** A GET read to its end: the status, the Content-Length, the body, or the error that cut it short. */
function get(url: string, onBody?: () => void): Promise<{ status: number; length: number; body: Buffer; error?: Error }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => {
          if (onBody) onBody();
          else parts.push(part);
        });
        const done = (error?: Error) =>
          resolve({
            status: response.statusCode!,
            length: Number(response.headers['content-length']),
            body: onBody ? Buffer.alloc(0) : Buffer.concat(parts),
            ...(error ? { error } : {}),
          });
        response.on('end', () => done(response.complete ? undefined : new Error('incomplete body')));
        response.on('error', (error) => done(error));
        response.on('aborted', () => done(new Error('aborted')));
      })
      .on('error', reject);
  });
}

/** The server process's resident memory, in bytes. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return Number(kb) * 1024;
}

describe('encrypted images are streamed (first chunk authenticated before the reply starts)', { timeout: 300_000 }, () => {
  const dataDir = path.join(tempDir(), 'data');
  const keyFile = path.join(tempDir(), 'openrecall.key');
  const env = {
    OPENRECALL_ENCRYPTION: 'on',
    OPENRECALL_ENCRYPTION_KEY_FILE: keyFile,
    OPENRECALL_OCR_ENGINE: 'none',
    OPENRECALL_COMPACT_AFTER_MINUTES: '50000000',
  };
  let server: ServerProcess;
  let files: DataDir;
  const ids: number[] = [];
  const imagePaths: string[] = [];

  before(async () => {
    server = await startServerProcess(dataDir, env);
    for (let i = 0; i < 3; i++) {
      const accepted = await upload(server.api, { image: await solidPng(64 + i, 48), captureId: `stream-${i}` });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      ids.push((accepted.body as { task_id: number }).task_id);
    }
    await waitUntil(async () => (await queueCounts(server.api)).completed === 3, { what: '3 frames COMPLETED', timeoutMs: 120_000 });
    for (const id of ids) imagePaths.push((await getJson(`${server.api}/entries/${id}`)).body.image_path);
    // The test's own DataDir over the same data dir, with the same key: it writes the files the server then serves.
    const opened = await openEncryption({ mode: 'on', keyFile }, dataDir);
    assert.ok(opened.encrypted && !opened.locked);
    files = openDataDir(dataDir, opened.keys.fileCipher);
  });

  after(async () => {
    await server?.stop();
  });

  /** Replaces a stored file with `plain`, sealed; `flip` changes one sealed byte at that offset. */
  async function store(relative: string, plain: Buffer, flip?: number): Promise<void> {
    await files.writeFileAtomic(relative, plain);
    if (flip === undefined) return;
    const sealed = fs.readFileSync(path.join(dataDir, relative));
    sealed[flip]! ^= 0x01;
    fs.writeFileSync(path.join(dataDir, relative), sealed);
  }

  it('a 5 MB image of many chunks arrives whole, with its plain length as Content-Length', async () => {
    const plain = crypto.randomBytes(5 * 1024 * 1024 + 123);
    await store(imagePaths[0]!, plain);
    const response = await get(`${server.api}/entries/${ids[0]}/image`);
    assert.equal(response.status, 200);
    assert.equal(response.error, undefined);
    assert.equal(response.length, plain.length);
    assert.ok(response.body.equals(plain), 'the same bytes');

    await store(`thumbnails/${ids[0]}.webp`, plain.subarray(0, 3 * CHUNK_BYTES));
    const thumbnail = await get(`${server.api}/entries/${ids[0]}/thumbnail`);
    assert.equal(thumbnail.status, 200);
    assert.ok(thumbnail.body.equals(plain.subarray(0, 3 * CHUNK_BYTES)));
    const v1 = await get(`${server.url}/v1/frames/${ids[0]}`);
    assert.equal(v1.status, 200);
    assert.ok(v1.body.equals(plain), 'the v1 route too');
  });

  it('a byte changed in the first chunk answers 422 DAMAGED_FILE naming the frame, on every image route', async () => {
    const plain = crypto.randomBytes(3 * CHUNK_BYTES);
    await store(imagePaths[1]!, plain, HEADER_BYTES + 100);
    for (const url of [`${server.api}/entries/${ids[1]}/image`, `${server.url}/v1/frames/${ids[1]}`]) {
      const response = await getJson(url);
      assert.equal(response.status, 422, url);
      // /api: { error: 'DAMAGED_FILE', message }; /v1 (MyRecall's wire format): { error: message }
      if (url.includes('/api/')) assert.equal(response.body.error, 'DAMAGED_FILE');
      assert.match(JSON.stringify(response.body), new RegExp(`entry ${ids[1]}: its stored file .* is damaged`));
    }
    await store(`thumbnails/${ids[1]}.webp`, plain.subarray(0, 1000), HEADER_BYTES + 10);
    const thumbnail = await getJson(`${server.api}/entries/${ids[1]}/thumbnail`);
    assert.equal(thumbnail.status, 422);
    assert.equal(thumbnail.body.error, 'DAMAGED_FILE');
  });

  it('a byte changed in a later chunk cuts the reply short (never wrong bytes), is logged naming the file, and the server keeps serving', async () => {
    const plain = crypto.randomBytes(6 * CHUNK_BYTES);
    await store(imagePaths[2]!, plain, HEADER_BYTES + 3 * SEALED_CHUNK + 50);
    for (const url of [`${server.api}/entries/${ids[2]}/image`, `${server.url}/v1/frames/${ids[2]}`]) {
      const response = await get(url);
      assert.equal(response.status, 200, 'the first chunk authenticated: the reply had started');
      assert.equal(response.length, plain.length);
      assert.ok(response.error, `${url}: the client sees the body cut short`);
      assert.ok(response.body.length <= 3 * CHUNK_BYTES, 'nothing of the damaged chunk or after it');
      assert.ok(response.body.equals(plain.subarray(0, response.body.length)), 'what arrived is the true start');
    }
    await server.waitFor(new RegExp(`entry ${ids[2]}: its stored file ${imagePaths[2]!.replace(/[.]/g, '\\.')} is damaged`), 10_000);

    await store(`thumbnails/${ids[2]}.webp`, plain, HEADER_BYTES + 2 * SEALED_CHUNK + 7);
    const thumbnail = await get(`${server.api}/entries/${ids[2]}/thumbnail`);
    assert.equal(thumbnail.status, 200);
    assert.ok(thumbnail.error, 'the thumbnail is cut short too');

    const healthy = await get(`${server.api}/entries/${ids[0]}/image`);
    assert.equal(healthy.status, 200);
    assert.equal(healthy.error, undefined, 'the server still serves whole images');
    assert.equal(healthy.body.length, healthy.length);
  });

  it('serving a 50 MB encrypted image does not hold it in memory', async (t) => {
    const size = 50 * 1024 * 1024;
    // Sealed piece by piece (the test process holds 1 MB at a time, not 50).
    const writer = files.createFile(`${imagePaths[0]!}.big`);
    const piece = crypto.randomBytes(1024 * 1024);
    for (let i = 0; i < 50; i++) writer.write([piece]);
    await writer.finish({ durable: false });
    fs.renameSync(path.join(dataDir, `${imagePaths[0]!}.big`), path.join(dataDir, imagePaths[0]!));

    const pid = server.child.pid!;
    await get(`${server.api}/entries/${ids[0]}/thumbnail`); // warm: every code path of a reply has run
    const baseline = rss(pid);
    let peak = baseline;
    const response = await get(`${server.api}/entries/${ids[0]}/image`, () => {
      peak = Math.max(peak, rss(pid));
    });
    peak = Math.max(peak, rss(pid));
    assert.equal(response.status, 200);
    assert.equal(response.error, undefined);
    assert.equal(response.length, size);
    const growthMb = (peak - baseline) / (1 << 20);
    t.diagnostic(`server RSS ${(baseline / (1 << 20)).toFixed(1)} MB before, peak +${growthMb.toFixed(1)} MB while sending 50 MB`);
    // Read whole (before streaming), the sealed and the plain file were both held: over 100 MB.
    assert.ok(growthMb < 16, `the server's RSS grew by ${growthMb.toFixed(1)} MB serving 50 MB`);
  });
});

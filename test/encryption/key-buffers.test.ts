import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { KeySourceError, readKeyFile } from '../../src/encryption/key-sources.js';
import { base64Secret, fromBase64Secret, secretBytes, sqliteRawKeyForm, wipe } from '../../src/encryption/secret-bytes.js';
import { canReadMemory, describeHits, findInMemory } from '../helpers/process-memory.js';
import { repoRoot } from '../helpers/server-process.js';
import { seededSecret } from '../helpers/seeded-secret.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Whether `buffer` is the whole of an ArrayBuffer of its own (not a slice of Node's shared pool). */
const ownsItsMemory = (buffer: Buffer) => buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.length;

describe('secretBytes: key buffers that wipe() really zeroes', () => {
  it('each has an ArrayBuffer of its own, zero-filled; wipe() zeroes it in place', () => {
    const a = secretBytes(32);
    const b = secretBytes(32);
    assert.ok(ownsItsMemory(a) && ownsItsMemory(b));
    assert.notEqual(a.buffer, b.buffer);
    assert.deepEqual(a, Buffer.alloc(32));
    a.fill(0xa5);
    const view = new Uint8Array(a.buffer);
    wipe(a, undefined, null);
    assert.deepEqual(Buffer.from(view), Buffer.alloc(32), 'the memory under the buffer is zero, not a copy of it');
  });

  it('base64 and the SQLite raw-key form are built as bytes, equal to what the string functions give', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
    for (const length of [0, 1, 2, 3, 31, 32]) {
      const bytes = key.subarray(0, length);
      const text = base64Secret(bytes);
      assert.ok(ownsItsMemory(text) || text.length === 0);
      assert.equal(text.toString('latin1'), bytes.toString('base64'));
      assert.deepEqual(fromBase64Secret(text), bytes);
      assert.deepEqual(fromBase64Secret([...text]), bytes, 'char codes (what the keyring answers) too');
    }
    assert.equal(fromBase64Secret(Buffer.from('a?==')), null);
    assert.equal(fromBase64Secret(Buffer.from('abc')), null);
    assert.equal(sqliteRawKeyForm(key).toString('latin1'), `x'${key.toString('hex')}'`);
  });

  it('a secret used as the keys are (HMAC, a cipher key, a native write) is in the process memory until wipe(), then nowhere', {
    skip: !canReadMemory && 'this system has no readable /proc/<pid>/mem',
  }, async () => {
    const seed = (Date.now() ^ process.pid) >>> 0;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'helpers', 'secret-bytes-child.ts'), String(seed)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    const next = async () => {
      while (lines.length === 0) {
        const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
        lines.push(...chunk.toString().split('\n').filter(Boolean));
      }
      return lines.shift();
    };
    try {
      const needles = { secret: seededSecret(seed) };
      assert.equal(await next(), 'holding');
      assert.ok(findInMemory(child.pid!, needles).length >= 1, 'the live buffer is found (the check can fail)');
      child.stdin!.write('\n');
      assert.equal(await next(), 'wiped');
      const hits = findInMemory(child.pid!, needles);
      assert.equal(hits.length, 0, `copies left after wipe():\n${describeHits(hits)}`);
    } finally {
      child.kill();
    }
  });
});

describe('readKeyFile: into a secret buffer, from a file or a pipe', () => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => 255 - i));

  it('a regular file of 32 bytes; a longer or shorter one is refused with its size', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'k.key');
    fs.writeFileSync(file, key, { mode: 0o600 });
    const read = await readKeyFile(file, { create: false });
    assert.deepEqual(read, key);
    assert.ok(ownsItsMemory(read), 'a secretBytes buffer');
    fs.writeFileSync(file, Buffer.alloc(5000, 1));
    await assert.rejects(readKeyFile(file, { create: false }), (error: Error) => error instanceof KeySourceError && /holds 5000 bytes/.test(error.message));
    fs.writeFileSync(file, key.subarray(0, 31));
    await assert.rejects(readKeyFile(file, { create: false }), /holds 31 bytes/);
  });

  it('a FIFO a secrets manager writes the key into: read to its end, into a buffer of its own', { skip: process.platform === 'win32' }, async () => {
    const fifo = path.join(tempDir(), 'key.fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const [read] = await Promise.all([readKeyFile(fifo, { create: false }), fs.promises.writeFile(fifo, key)]);
    assert.deepEqual(read, key);
    assert.ok(ownsItsMemory(read), 'not a pooled copy of the pipe pieces');
    // A key written in pieces, and one too long.
    const pieces = (async () => {
      const handle = await fs.promises.open(fifo, 'w');
      await handle.write(key.subarray(0, 10));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await handle.write(key.subarray(10));
      await handle.close();
    })();
    const [inPieces] = await Promise.all([readKeyFile(fifo, { create: false }), pieces]);
    assert.deepEqual(inPieces, key);
    await assert.rejects(Promise.all([readKeyFile(fifo, { create: false }), fs.promises.writeFile(fifo, Buffer.concat([key, key]))]), /holds 64 bytes/);
  });
});

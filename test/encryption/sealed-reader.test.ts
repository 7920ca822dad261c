import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { CHUNK_BYTES, createAeadFileCipher, openSealedReader } from '../../src/encryption/aead-file-cipher.js';
import { DamagedFileError } from '../../src/files/file-cipher.js';

async function sealed(plain: Buffer, key: Buffer): Promise<Buffer> {
  return buffer(Readable.from([plain.subarray(0, 1000), plain.subarray(1000)]).pipe(createAeadFileCipher(key).sealStream()));
}

const reader = (bytes: Buffer, key: Buffer) => openSealedReader(key, bytes.length, async (at, length) => bytes.subarray(at, at + length), 'export.zip');

test('random access to a sealed file gives the plaintext of any range, across chunk boundaries', async () => {
  const key = crypto.randomBytes(32);
  const plain = crypto.randomBytes(CHUNK_BYTES * 4 + 1234);
  const open = await reader(await sealed(plain, key), key);
  assert.equal(open.plainBytes, plain.length);
  for (const [at, length] of [
    [0, 10],
    [CHUNK_BYTES - 5, 10],
    [CHUNK_BYTES * 2 + 7, CHUNK_BYTES * 2],
    [plain.length - 100, 1000],
    [0, plain.length],
  ] as const) {
    assert.deepEqual(await open.readPlain(at, length), plain.subarray(at, at + length), `${at}+${length}`);
  }
});

test('a changed chunk fails only where it is read; a wrong key fails at the first chunk; a cut file fails', async () => {
  const key = crypto.randomBytes(32);
  const plain = crypto.randomBytes(CHUNK_BYTES * 3 + 10);
  const bytes = await sealed(plain, key);
  const changed = Buffer.from(bytes);
  changed[24 + (CHUNK_BYTES + 16) * 2 + 100]! ^= 1;
  const open = await reader(changed, key);
  assert.deepEqual(await open.readPlain(0, 100), plain.subarray(0, 100));
  await assert.rejects(open.readPlain(CHUNK_BYTES * 2, 10), DamagedFileError);
  const wrong = await reader(bytes, crypto.randomBytes(32));
  await assert.rejects(wrong.readPlain(0, 1), /chunk 0 does not authenticate/);
  const cut = bytes.subarray(0, 24 + (CHUNK_BYTES + 16) * 2);
  await assert.rejects(async () => (await reader(cut, key)).readPlain(CHUNK_BYTES, 10), DamagedFileError);
});

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { CHUNK_BYTES, HEADER_BYTES, createAeadFileCipher } from '../../src/encryption/aead-file-cipher.js';
import { DamagedFileError } from '../../src/files/file-cipher.js';
import { tempDir } from '../helpers/temp-dir.js';

const cipher = createAeadFileCipher(crypto.randomBytes(32));
const SEALED_CHUNK = CHUNK_BYTES + 16;

async function streamThrough(transform: NodeJS.ReadWriteStream, input: Buffer, pieceBytes = 10_000): Promise<Buffer> {
  const out: Buffer[] = [];
  const pieces = function* () {
    for (let at = 0; at < input.length; at += pieceBytes) yield input.subarray(at, at + pieceBytes);
  };
  await pipeline(Readable.from(pieces()), transform, async (source: AsyncIterable<Buffer | string>) => {
    for await (const piece of source) out.push(Buffer.from(piece));
  });
  return Buffer.concat(out);
}

function assertDamaged(action: () => unknown, name: string): void {
  assert.throws(action, (error: unknown) => error instanceof DamagedFileError && error.file === name && error.message.startsWith(`${name}: `));
}

async function assertStreamDamaged(sealed: Buffer, name: string): Promise<void> {
  await assert.rejects(streamThrough(cipher.openStream(name), sealed), (error: unknown) => error instanceof DamagedFileError && error.file === name);
}

describe('the AEAD file cipher', () => {
  const sizes = [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * 1024 * 1024 + 17];

  for (const size of sizes) {
    it(`round-trips ${size} bytes, whole and streamed, and sealedSize/plainSize match the bytes on the disk`, async () => {
      const plain = crypto.randomBytes(size);
      const sealed = cipher.seal(plain);
      assert.equal(sealed.length, cipher.sealedSize(size));
      assert.equal(cipher.plainSize(sealed.length), size);
      assert.deepEqual(cipher.open(sealed, 'a.webp'), plain);

      const streamed = await streamThrough(cipher.sealStream(), plain, 7_777);
      assert.equal(streamed.length, cipher.sealedSize(size));
      assert.ok(!streamed.equals(sealed), 'every file has its own nonce');
      assert.deepEqual(await streamThrough(cipher.openStream('a.webp'), streamed, 5_000), plain);
      assert.deepEqual(cipher.open(streamed, 'a.webp'), plain, 'the whole-buffer and streamed formats are one');

      // The sealer (an upload's writer): pieces of uneven sizes in, the same format out.
      const sealer = cipher.sealer();
      const parts: Buffer[] = [];
      for (let at = 0, step = 1; at < size; at += step, step = (step * 7 + 3) % 90_001) parts.push(...sealer.push(plain.subarray(at, at + step)));
      parts.push(...sealer.end());
      const pieced = Buffer.concat(parts);
      assert.equal(pieced.length, cipher.sealedSize(size));
      assert.deepEqual(cipher.open(pieced, 'a.webp'), plain);
    });
  }

  it("the sealer zeroes its file's key at the end and when given up, and a sealed file's chunk boundaries do not depend on the pieces", () => {
    const plain = crypto.randomBytes(2 * CHUNK_BYTES + 5);
    const whole = cipher.sealer();
    const one = Buffer.concat([...whole.push(plain), ...whole.end()]);
    const bytewise = cipher.sealer();
    const parts: Buffer[] = [];
    for (let i = 0; i < plain.length; i += 4096) parts.push(...bytewise.push(plain.subarray(i, i + 4096)));
    const many = Buffer.concat([...parts, ...bytewise.end()]);
    assert.equal(one.length, many.length);
    assert.deepEqual(cipher.open(one, 'x'), plain);
    assert.deepEqual(cipher.open(many, 'x'), plain);
    const givenUp = cipher.sealer();
    const header = givenUp.push(plain.subarray(0, 10));
    givenUp.destroy();
    // Its key is zeroed: the rest it would seal no longer opens with the files key (it would without destroy()).
    assert.throws(() => cipher.open(Buffer.concat([...header, ...givenUp.end()]), 'x'), DamagedFileError);
    const kept = cipher.sealer();
    assert.deepEqual(cipher.open(Buffer.concat([...kept.push(plain.subarray(0, 10)), ...kept.end()]), 'x'), plain.subarray(0, 10));
  });

  it('hides the plaintext: no image header and no word of it in the sealed bytes', () => {
    const plain = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n'), Buffer.from(' quarterly-report password hunter2 '.repeat(100))]);
    const sealed = cipher.seal(plain);
    assert.equal(sealed.indexOf('PNG'), -1);
    assert.equal(sealed.indexOf('quarterly'), -1);
  });

  it('detects one flipped byte anywhere: the header, a middle chunk, the last tag', async () => {
    const sealed = cipher.seal(crypto.randomBytes(3 * CHUNK_BYTES + 100));
    const places = {
      'the magic': 0,
      'the version': 4,
      'the file nonce': 20,
      'a middle chunk': HEADER_BYTES + SEALED_CHUNK + 500,
      'the last tag': sealed.length - 1,
    };
    for (const [where, at] of Object.entries(places)) {
      const changed = Buffer.from(sealed);
      changed[at]! ^= 0x01;
      assertDamaged(() => cipher.open(changed, `flip-${where}`), `flip-${where}`);
      await assertStreamDamaged(changed, `flip-${where}`);
    }
  });

  it('detects a file cut at a chunk boundary, cut to its header, a dropped chunk and an appended one', async () => {
    const sealed = cipher.seal(crypto.randomBytes(3 * CHUNK_BYTES + 100));
    const cases: Record<string, Buffer> = {
      'cut after two chunks': sealed.subarray(0, HEADER_BYTES + 2 * SEALED_CHUNK),
      'cut to the header': sealed.subarray(0, HEADER_BYTES),
      'cut inside the header': sealed.subarray(0, 10),
      empty: Buffer.alloc(0),
      'second chunk dropped': Buffer.concat([sealed.subarray(0, HEADER_BYTES + SEALED_CHUNK), sealed.subarray(HEADER_BYTES + 2 * SEALED_CHUNK)]),
      'a chunk appended': Buffer.concat([sealed, sealed.subarray(HEADER_BYTES, HEADER_BYTES + SEALED_CHUNK)]),
      'two chunks swapped': Buffer.concat([
        sealed.subarray(0, HEADER_BYTES),
        sealed.subarray(HEADER_BYTES + SEALED_CHUNK, HEADER_BYTES + 2 * SEALED_CHUNK),
        sealed.subarray(HEADER_BYTES, HEADER_BYTES + SEALED_CHUNK),
        sealed.subarray(HEADER_BYTES + 2 * SEALED_CHUNK),
      ]),
    };
    for (const [what, bytes] of Object.entries(cases)) {
      assertDamaged(() => cipher.open(bytes, what), what);
      await assertStreamDamaged(bytes, what);
    }
  });

  it('detects a chunk taken from another file sealed with the same key', async () => {
    const a = cipher.seal(crypto.randomBytes(2 * CHUNK_BYTES + 1));
    const b = cipher.seal(crypto.randomBytes(2 * CHUNK_BYTES + 1));
    const mixed = Buffer.concat([a.subarray(0, HEADER_BYTES + SEALED_CHUNK), b.subarray(HEADER_BYTES + SEALED_CHUNK)]);
    assertDamaged(() => cipher.open(mixed, 'mixed.webp'), 'mixed.webp');
    await assertStreamDamaged(mixed, 'mixed.webp');
    const headerSwapped = Buffer.concat([b.subarray(0, HEADER_BYTES), a.subarray(HEADER_BYTES)]);
    assertDamaged(() => cipher.open(headerSwapped, 'swapped.webp'), 'swapped.webp');
  });

  it('refuses a file sealed with another key, and a plain file', async () => {
    const sealed = cipher.seal(Buffer.from('hello'));
    const other = createAeadFileCipher(crypto.randomBytes(32));
    assertDamaged(() => other.open(sealed, 'other-key.json'), 'other-key.json');
    await assert.rejects(streamThrough(other.openStream('other-key.json'), sealed), DamagedFileError);
    assertDamaged(() => cipher.open(Buffer.from('{"plain": "json file, never sealed"}'), 'plain.json'), 'plain.json');
  });

  it('releases no plaintext of a chunk whose tag fails', async () => {
    const plain = Buffer.alloc(2 * CHUNK_BYTES, 'a');
    const sealed = cipher.seal(plain);
    sealed[HEADER_BYTES + 10]! ^= 0xff;
    let released = 0;
    await assert.rejects(
      pipeline(
        Readable.from([sealed]),
        cipher.openStream('x'),
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            released += chunk.length;
            done();
          },
        }),
      ),
      DamagedFileError,
    );
    assert.equal(released, 0);
  });

  it('streams a large file through sealing and opening with bounded memory, to and from a real file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.sealed');
    const totalBytes = 256 * 1024 * 1024;
    const piece = crypto.randomBytes(1024 * 1024);
    const pieces = function* () {
      for (let sent = 0; sent < totalBytes; sent += piece.length) yield piece;
    };
    const baseline = process.memoryUsage();
    let peak = 0;
    const sample = setInterval(() => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.rss - baseline.rss, now.arrayBuffers - baseline.arrayBuffers);
    }, 5);
    try {
      await pipeline(Readable.from(pieces()), cipher.sealStream(), fs.createWriteStream(file));
      assert.equal(fs.statSync(file).size, cipher.sealedSize(totalBytes));
      let read = 0;
      const hash = crypto.createHash('sha256');
      await pipeline(fs.createReadStream(file), cipher.openStream('big.sealed'), async (source: AsyncIterable<Buffer | string>) => {
        for await (const bytes of source) {
          read += bytes.length;
          hash.update(bytes);
        }
      });
      assert.equal(read, totalBytes);
      const expected = crypto.createHash('sha256');
      for (const p of pieces()) expected.update(p);
      assert.equal(hash.digest('hex'), expected.digest('hex'));
    } finally {
      clearInterval(sample);
    }
    assert.ok(peak < 96 * 1024 * 1024, `memory grew by ${Math.round(peak / 1024 / 1024)} MB while streaming a 256 MB file`);
  });
});

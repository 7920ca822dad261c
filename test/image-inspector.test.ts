import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImageInspector, inspectImage } from '../src/images/image-inspector.js';
import { solidJpeg, solidPng, solidWebp } from './helpers/images.js';

/** The outcome of inspecting `bytes` fed in pieces of `size` bytes: the info, or "status message". */
function inPieces(bytes: Buffer, size: number): string {
  const inspector = new ImageInspector();
  for (let at = 0; at < bytes.length; at += size) inspector.push(bytes.subarray(at, at + size));
  return outcome(() => inspector.finish());
}

function outcome(inspect: () => unknown): string {
  try {
    return JSON.stringify(inspect());
  } catch (error) {
    return `${(error as { statusCode?: number }).statusCode} ${(error as Error).message}`;
  }
}

describe('image inspector (upload bytes checked as they arrive)', () => {
  it('gives the same answer whatever the pieces, for whole, cut and corrupted PNG, JPEG and WebP files', async () => {
    const files = { png: await solidPng(40, 30), jpeg: await solidJpeg(40, 30), webp: await solidWebp(40, 30), lossless: await solidWebp(40, 30, true) };
    let compared = 0;
    for (const [name, file] of Object.entries(files)) {
      const variants = [file, Buffer.concat([file, Buffer.alloc(3)])];
      for (let n = 0; n < file.length; n += 5) variants.push(file.subarray(0, n));
      for (let i = 0; i < file.length; i += 7) {
        const copy = Buffer.from(file);
        copy[i] = copy[i]! ^ 0x5a;
        variants.push(copy);
      }
      for (const bytes of variants) {
        const whole = outcome(() => inspectImage(bytes));
        for (const size of [1, 3, 16]) assert.equal(inPieces(bytes, size), whole, `${name}, ${bytes.length} bytes in pieces of ${size}`);
        compared++;
      }
      assert.equal(
        outcome(() => inspectImage(file)),
        JSON.stringify({ format: name === 'lossless' ? 'webp' : name, width: 40, height: 30 }),
      );
    }
    assert.ok(compared > 100);
  });

  it('names the problem: not an image (415), empty, truncated or corrupt (400)', async () => {
    const png = await solidPng(40, 30);
    assert.equal(
      outcome(() => inspectImage(Buffer.from('hello, I am text'))),
      '415 image is not a PNG, JPEG or WebP file',
    );
    assert.equal(
      outcome(() => inspectImage(Buffer.alloc(0))),
      '400 image is empty',
    );
    assert.match(
      outcome(() => inspectImage(png.subarray(0, png.length - 20))),
      /^400 .*truncated/,
    );
    const corrupt = Buffer.from(png);
    corrupt[40] = corrupt[40]! ^ 0xff;
    assert.match(inPieces(corrupt, 8), /^400 .*CRC mismatch/);
  });

  it('knows a refused file from its first bytes, so the rest need not be written', () => {
    const inspector = new ImageInspector();
    inspector.push(Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00'));
    assert.equal(inspector.error?.statusCode, 415);
  });
});

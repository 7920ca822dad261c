import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { greyThumbnail, isSimilar, ssim } from '../../src/client/similarity.js';
import { renderTextImage } from '../helpers/images.js';

async function rgba(png: Buffer) {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return greyThumbnail(data, info.width, info.height);
}

const lines = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word} line ${i}: meeting notes, budget figures and a to-do list`);

test('greyThumbnail box-filters RGBA to luma at about 480 px wide', () => {
  const width = 1920;
  const height = 1080;
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([255, 255, 255, 255], i * 4); // white
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data.set([0, 0, 0, 255], (y * width + x) * 4); // one black 4x4 block
  const grey = greyThumbnail(data, width, height);
  assert.deepEqual([grey.width, grey.height], [480, 270]);
  assert.equal(grey.data[0], 0);
  assert.equal(grey.data[1], 255);
  // Pure red: BT.601 luma ~ 0.3
  const red = greyThumbnail(Buffer.from([255, 0, 0, 255]), 1, 1);
  assert.equal(red.data[0], 76);
});

test('an identical frame scores 1 and is skipped; a frame of a different size scores 0', async () => {
  const a = await rgba(await renderTextImage(lines(20, 'Alpha'), { width: 1920, height: 1080 }));
  assert.equal(ssim(a, a), 1);
  assert.ok(isSimilar(a, a, 0.9));
  const small = await rgba(await renderTextImage(lines(20, 'Alpha'), { width: 1280, height: 720 }));
  assert.equal(ssim(a, small), 0);
  assert.equal(isSimilar(undefined, a, 0.9), false, 'the first frame of a monitor is always kept');
});

test('a few changed pixels stay above 0.9; a new page of text falls below it', async () => {
  const base = await renderTextImage(lines(20, 'Alpha'), { width: 1920, height: 1080 });
  const cursor = await renderTextImage(lines(20, 'Alpha'), { width: 1920, height: 1080, seed: 7 }); // an 8x8 blip in a corner
  const page = await renderTextImage(lines(28, 'Omega differs'), { width: 1920, height: 1080, background: '#f4f4f4' });
  const [g0, g1, g2] = await Promise.all([rgba(base), rgba(cursor), rgba(page)]);
  const tiny = ssim(g0, g1);
  const big = ssim(g0, g2);
  assert.ok(tiny > 0.99, `tiny change scored ${tiny}`);
  assert.ok(big < 0.9, `new page scored ${big}`);
  assert.ok(isSimilar(g0, g1, 0.9));
  assert.ok(!isSimilar(g0, g2, 0.9));
});

test('ssim is symmetric and stays within [-1, 1]', () => {
  const noise = (seed: number) => {
    const data = new Uint8Array(64 * 64);
    let s = seed;
    for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    return { width: 64, height: 64, data };
  };
  const a = noise(1);
  const b = noise(2);
  const inverted = { ...a, data: a.data.map((v) => 255 - v) };
  assert.equal(ssim(a, b), ssim(b, a));
  assert.ok(ssim(a, b) < 0.2);
  assert.ok(ssim(a, inverted) < 0 && ssim(a, inverted) >= -1);
});

/**
 * Change detection: structural similarity (SSIM, Wang et al. 2004) between two downscaled greyscale copies of
 * a screen. The Python original compared whole frames with one global SSIM at threshold 0.9; here SSIM is
 * averaged over 8x8 blocks, so that a change confined to part of the screen (a new paragraph, a different
 * tab) lowers the score as much as it changes what is on screen, while an unchanged screen scores 1.
 */

export interface GreyImage {
  width: number;
  height: number;
  /** width * height luma values, 0-255. */
  data: Uint8Array;
}

/** Downscaled copies are about this wide (an integer box factor of the source). */
export const THUMBNAIL_WIDTH = 480;

/**
 * Box-filters RGBA pixels by an integer factor into 8-bit luma (BT.601 weights). A plain loop: on a 1080p
 * frame it costs about a third of what sharp's resize + greyscale costs (no colour-space conversion).
 */
export function greyThumbnail(rgba: Uint8Array, width: number, height: number, targetWidth = THUMBNAIL_WIDTH): GreyImage {
  if (rgba.length < width * height * 4) throw new RangeError(`expected ${width * height * 4} RGBA bytes, got ${rgba.length}`);
  const factor = Math.max(1, Math.floor(width / targetWidth));
  const outWidth = Math.max(1, Math.floor(width / factor));
  const outHeight = Math.max(1, Math.floor(height / factor));
  const out = new Uint8Array(outWidth * outHeight);
  const sums = new Uint32Array(outWidth);
  const divisor = factor * factor * 256;
  for (let oy = 0; oy < outHeight; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      let p = (oy * factor + dy) * width * 4;
      for (let ox = 0; ox < outWidth; ox++) {
        let s = 0;
        for (let dx = 0; dx < factor; dx++, p += 4) s += rgba[p]! * 77 + rgba[p + 1]! * 150 + rgba[p + 2]! * 29;
        sums[ox]! += s;
      }
    }
    const row = oy * outWidth;
    for (let ox = 0; ox < outWidth; ox++) out[row + ox] = Math.floor(sums[ox]! / divisor);
  }
  return { width: outWidth, height: outHeight, data: out };
}

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/**
 * Mean SSIM over non-overlapping `block` x `block` windows, in [-1, 1]; 1 means identical. Images of
 * different sizes (a resolution change) score 0.
 */
export function ssim(a: GreyImage, b: GreyImage, block = 8): number {
  if (a.width !== b.width || a.height !== b.height) return 0;
  const { width, height } = a;
  const bw = Math.min(block, width);
  const bh = Math.min(block, height);
  const n = bw * bh;
  let total = 0;
  let count = 0;
  for (let by = 0; by + bh <= height; by += bh) {
    for (let bx = 0; bx + bw <= width; bx += bw) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = by; y < by + bh; y++) {
        const row = y * width;
        for (let x = bx; x < bx + bw; x++) {
          const va = a.data[row + x]!;
          const vb = b.data[row + x]!;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      count++;
    }
  }
  return count === 0 ? 1 : total / count;
}

/** True when `next` is similar enough to `previous` to be skipped. */
export function isSimilar(previous: GreyImage | undefined, next: GreyImage, threshold: number): boolean {
  return previous !== undefined && ssim(previous, next) >= threshold;
}

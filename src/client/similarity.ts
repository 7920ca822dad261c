/**
 * Change detection: how much of the screen shows something new since the last kept frame.
 *
 * Averaging a similarity over the whole screen (the former mean SSIM of a 480-px copy) hides text: a page of
 * new text in the same layout scored 0.947, one new chat line far more. So regions are counted instead of
 * averaged. A grey copy at about 960 px wide (text still registers there) is cut into 16x16 tiles; a tile
 * has changed when one of its pixels moved by more than a noise floor. Changed tiles are grouped into
 * connected regions, and a region whose changed pixels fit in a cursor-sized square (a blinking text cursor,
 * the mouse pointer) is ignored: compared with the last *kept* frame, a cursor that blinks never grows, while
 * new text does.
 *
 * similarity = 1 - (changed tiles outside cursor-sized regions) / (all tiles); 1 means nothing new.
 */

export interface GreyImage {
  width: number;
  height: number;
  /** width * height luma values, 0-255. */
  data: Uint8Array;
}

/**
 * Grey copies are at most this wide (the smallest integer box factor that fits: 1920 -> 960, 1280 -> 640,
 * 2560 -> 853, 3840 -> 960), so a tile is 32-64 screen pixels and a screen has at most about 2 100 tiles.
 */
export const COMPARE_WIDTH = 960;
/** Tile edge in grey-copy pixels (32 screen pixels on a 1080p screen). */
export const TILE = 16;
/** A tile changed when a pixel's luma moved by more than this (anti-aliased text moves far more). */
export const NOISE_FLOOR = 24;
/**
 * A changed region that fits in a square this many grey-copy pixels wide (32 screen pixels on a 1080p screen)
 * is a text cursor, a caret with the letter just typed, or the mouse pointer: not new content.
 */
export const CURSOR_PIXELS = 16;

/**
 * Box-filters RGBA pixels by an integer factor into 8-bit luma (BT.601 weights). A plain loop: on a 1080p
 * frame it costs about a third of what sharp's resize + greyscale costs (no colour-space conversion).
 */
export function greyThumbnail(rgba: Uint8Array, width: number, height: number, maxWidth = COMPARE_WIDTH): GreyImage {
  if (rgba.length < width * height * 4) throw new RangeError(`expected ${width * height * 4} RGBA bytes, got ${rgba.length}`);
  const factor = Math.max(1, Math.min(Math.ceil(width / maxWidth), height)); // a strip 1 px high stays 1 px high
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

export interface Comparison {
  /** 1 - (changed tiles outside cursor-sized regions) / tiles; 0 when the sizes differ (a new screen). */
  similarity: number;
  /** Tiles that changed and count as new content. */
  changedTiles: number;
  /** Tiles that changed but belong to cursor-sized regions. */
  ignoredTiles: number;
  tiles: number;
}

/**
 * Per tile: whether a pixel differs by more than the noise floor, and the box of those pixels (so a region
 * can be sized in pixels, whichever tile borders it straddles).
 */
function changedTiles(a: GreyImage, b: GreyImage, cols: number, rows: number) {
  const { width, height } = a;
  const tiles = cols * rows;
  const changed = new Uint8Array(tiles);
  const box = new Int32Array(tiles * 4); // minX, minY, maxX, maxY
  const da = a.data;
  const db = b.data;
  for (let ty = 0; ty < rows; ty++) {
    const y0 = ty * TILE;
    const y1 = Math.min(height, y0 + TILE);
    for (let tx = 0; tx < cols; tx++) {
      const x0 = tx * TILE;
      const x1 = Math.min(width, x0 + TILE);
      let minX = x1;
      let minY = y1;
      let maxX = -1;
      let maxY = -1;
      for (let y = y0; y < y1; y++) {
        const row = y * width;
        for (let x = x0; x < x1; x++) {
          const d = da[row + x]! - db[row + x]!;
          if (d > NOISE_FLOOR || d < -NOISE_FLOOR) {
            if (x < minX) minX = x;
            if (x > maxX) maxX = x;
            if (y < minY) minY = y;
            maxY = y;
          }
        }
      }
      if (maxX < 0) continue;
      const t = ty * cols + tx;
      changed[t] = 1;
      box.set([minX, minY, maxX, maxY], t * 4);
    }
  }
  return { changed, box };
}

/** Compares a new grey frame with the last kept one of the same monitor. */
export function compareFrames(kept: GreyImage, next: GreyImage): Comparison {
  const cols = Math.ceil(kept.width / TILE);
  const rows = Math.ceil(kept.height / TILE);
  const tiles = cols * rows;
  if (kept.width !== next.width || kept.height !== next.height || kept.data.length !== next.data.length) {
    return { similarity: 0, changedTiles: tiles, ignoredTiles: 0, tiles };
  }
  const { changed, box } = changedTiles(kept, next, cols, rows);
  let changedCount = 0;
  let ignoredCount = 0;
  // Connected regions of changed tiles (8-neighbours) by flood fill; `changed` is set to 2 once visited.
  const stack: number[] = [];
  for (let start = 0; start < tiles; start++) {
    if (changed[start] !== 1) continue;
    changed[start] = 2;
    stack.push(start);
    let size = 0;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -1;
    let maxY = -1;
    while (stack.length) {
      const t = stack.pop()!;
      size++;
      minX = Math.min(minX, box[t * 4]!);
      minY = Math.min(minY, box[t * 4 + 1]!);
      maxX = Math.max(maxX, box[t * 4 + 2]!);
      maxY = Math.max(maxY, box[t * 4 + 3]!);
      const x = t % cols;
      const y = (t - x) / cols;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(rows - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(cols - 1, x + 1); nx++) {
          const n = ny * cols + nx;
          if (changed[n] === 1) {
            changed[n] = 2;
            stack.push(n);
          }
        }
      }
    }
    if (maxX - minX < CURSOR_PIXELS && maxY - minY < CURSOR_PIXELS) ignoredCount += size;
    else changedCount += size;
  }
  return { similarity: 1 - changedCount / tiles, changedTiles: changedCount, ignoredTiles: ignoredCount, tiles };
}

/** True when `next` shows nothing new enough, next to `previous`, to be kept (`similarity >= threshold`). */
export function isSimilar(previous: GreyImage | undefined, next: GreyImage, threshold: number): boolean {
  return previous !== undefined && compareFrames(previous, next).similarity >= threshold;
}

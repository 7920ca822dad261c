import { decodeRgb, encodeLayer, type PixelBox, RGB_CHANNELS } from '../codec.js';
import { joinChunks, splitChunks } from './layer-file.js';
import { CHUNK_TILES, gridOf, LAYER_COLUMNS, TILE } from './tiles.js';

/** The tiles (row-major positions in a width x height frame) that any of `boxes` touches. */
export function tilesUnder(width: number, height: number, boxes: PixelBox[]): number[] {
  const { columns, rows } = gridOf(width, height);
  const tiles = new Set<number>();
  for (const box of boxes) {
    // The covering paints a margin of a few pixels around each box (codec.ts): one more tile's worth is safe.
    const x0 = Math.max(0, Math.floor((box.x - 4) / TILE));
    const y0 = Math.max(0, Math.floor((box.y - 4) / TILE));
    const x1 = Math.min(columns - 1, Math.floor((box.x + box.width + 4) / TILE));
    const y1 = Math.min(rows - 1, Math.floor((box.y + box.height + 4) / TILE));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) tiles.add(y * columns + x);
  }
  return [...tiles].sort((a, b) => a - b);
}

/**
 * A layer file with the tiles in `slots` painted black; only the chunks holding them are decoded and
 * re-encoded, the others are kept byte for byte.
 */
export async function blankSlots(file: Buffer, slots: number[]): Promise<Buffer> {
  const chunks = splitChunks(file);
  const byChunk = new Map<number, number[]>();
  for (const slot of slots) {
    const chunk = Math.floor(slot / CHUNK_TILES);
    if (chunk >= chunks.length) continue;
    byChunk.set(chunk, [...(byChunk.get(chunk) ?? []), slot % CHUNK_TILES]);
  }
  const out = [...chunks];
  for (const [index, inChunk] of byChunk) {
    const image = await decodeRgb(chunks[index]!);
    for (const slot of inChunk) {
      const x0 = (slot % LAYER_COLUMNS) * TILE;
      const y0 = Math.floor(slot / LAYER_COLUMNS) * TILE;
      if (x0 + TILE > image.width || y0 + TILE > image.height) continue;
      for (let y = y0; y < y0 + TILE; y++) image.data.fill(0, (y * image.width + x0) * RGB_CHANNELS, (y * image.width + x0 + TILE) * RGB_CHANNELS);
    }
    out[index] = await encodeLayer(image);
  }
  return joinChunks(out);
}

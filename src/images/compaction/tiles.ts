import crypto from 'node:crypto';
import { RGB_CHANNELS as CHANNELS, type RawImage } from '../codec.js';

/** Tile edge in pixels: small enough that a changed line of text touches few tiles, large enough to pack well. */
export const TILE = 64;
/** Tiles per row of a layer chunk image. */
export const LAYER_COLUMNS = 16;
/** Tiles per chunk (16 x 2 tiles: 1024 x 128 px): a rebuild decodes only the chunks holding its tiles. */
export const CHUNK_TILES = 32;

export interface TileGrid {
  columns: number;
  rows: number;
}

export function gridOf(width: number, height: number): TileGrid {
  return { columns: Math.ceil(width / TILE), rows: Math.ceil(height / TILE) };
}

/** The pixels of every tile, row-major, each TILE x TILE (edge tiles padded with black). */
export function splitTiles(image: RawImage): Buffer[] {
  const { columns, rows } = gridOf(image.width, image.height);
  const rowBytes = TILE * CHANNELS;
  const tiles: Buffer[] = [];
  for (let ty = 0; ty < rows; ty++) {
    for (let tx = 0; tx < columns; tx++) {
      const tile = Buffer.alloc(TILE * rowBytes);
      const x0 = tx * TILE;
      const width = Math.min(TILE, image.width - x0) * CHANNELS;
      const height = Math.min(TILE, image.height - ty * TILE);
      for (let y = 0; y < height; y++) {
        const from = ((ty * TILE + y) * image.width + x0) * CHANNELS;
        image.data.copy(tile, y * rowBytes, from, from + width);
      }
      tiles.push(tile);
    }
  }
  return tiles;
}

/** Content address of a tile: equal hashes mean equal pixels (SHA-1 collisions are not a risk on screen pixels). */
export function tileHash(tile: Buffer): string {
  return crypto.createHash('sha1').update(tile).digest('base64');
}

/** Packs a layer's tiles into chunk images; tile i lands in slot i (chunk i / CHUNK_TILES). */
export function packChunks(tiles: Buffer[]): RawImage[] {
  const chunks: RawImage[] = [];
  for (let start = 0; start < tiles.length; start += CHUNK_TILES) chunks.push(packLayer(tiles.slice(start, start + CHUNK_TILES)));
  return chunks;
}

/** Packs tiles into one image, LAYER_COLUMNS wide; tile i lands in slot i. */
export function packLayer(tiles: Buffer[]): RawImage {
  const columns = Math.min(tiles.length, LAYER_COLUMNS);
  const rows = Math.ceil(tiles.length / LAYER_COLUMNS);
  const width = columns * TILE;
  const data = Buffer.alloc(width * rows * TILE * CHANNELS);
  const rowBytes = TILE * CHANNELS;
  tiles.forEach((tile, slot) => {
    const x0 = (slot % LAYER_COLUMNS) * TILE;
    const y0 = Math.floor(slot / LAYER_COLUMNS) * TILE;
    for (let y = 0; y < TILE; y++) tile.copy(data, ((y0 + y) * width + x0) * CHANNELS, y * rowBytes, (y + 1) * rowBytes);
  });
  return { data, width, height: rows * TILE };
}

/** Where each tile of a frame comes from: an index into the frame's layer list, and a slot in that layer. */
export type TileRef = [layer: number, slot: number];

/** The chunks (layer index, chunk index) a frame's tiles come from. */
export function chunksNeeded(refs: TileRef[]): Array<[layer: number, chunk: number]> {
  const seen = new Set<string>();
  const needed: Array<[number, number]> = [];
  for (const [layer, slot] of refs) {
    const chunk = Math.floor(slot / CHUNK_TILES);
    const key = `${layer}:${chunk}`;
    if (!seen.has(key)) seen.add(key), needed.push([layer, chunk]);
  }
  return needed;
}

/** Rebuilds a frame by copying each tile from its decoded chunk: one pass, no chain of deltas. */
export function compositeFrame(width: number, height: number, refs: TileRef[], chunk: (layer: number, chunk: number) => RawImage | undefined): RawImage {
  const { columns, rows } = gridOf(width, height);
  if (refs.length !== columns * rows) throw new Error(`manifest has ${refs.length} tiles, a ${width}x${height} frame needs ${columns * rows}`);
  const data = Buffer.alloc(width * height * CHANNELS);
  refs.forEach(([layerIndex, layerSlot], position) => {
    const layer = chunk(layerIndex, Math.floor(layerSlot / CHUNK_TILES));
    if (!layer) throw new Error(`tile ${position} refers to a missing chunk of layer ${layerIndex}`);
    const slot = layerSlot % CHUNK_TILES;
    const sx = (slot % LAYER_COLUMNS) * TILE;
    const sy = Math.floor(slot / LAYER_COLUMNS) * TILE;
    if (sx + TILE > layer.width || sy + TILE > layer.height) throw new Error(`tile ${position} refers to slot ${slot} outside its layer`);
    const tx = position % columns;
    const ty = Math.floor(position / columns);
    const x0 = tx * TILE;
    const rowBytes = Math.min(TILE, width - x0) * CHANNELS;
    const tileRows = Math.min(TILE, height - ty * TILE);
    for (let y = 0; y < tileRows; y++) {
      const from = ((sy + y) * layer.width + sx) * CHANNELS;
      layer.data.copy(data, ((ty * TILE + y) * width + x0) * CHANNELS, from, from + rowBytes);
    }
  });
  return { data, width, height };
}

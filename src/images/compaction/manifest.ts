import zlib from 'node:zlib';
import type { TileRef } from './tiles.js';

/**
 * A compacted frame on disk: its size and, per tile, which layer file and slot hold its pixels. Layer paths are
 * relative to the data dir, so a frame is rebuilt from files alone. Stored gzipped JSON (a few hundred bytes).
 */
export interface Manifest {
  version: 1;
  width: number;
  height: number;
  /** Ids of the layers (compact_layers.id), in the same order as `layers`. */
  layerIds: number[];
  layers: string[];
  tiles: TileRef[];
}

export class DamagedManifestError extends Error {}

export function encodeManifest(manifest: Manifest): Buffer {
  return zlib.gzipSync(JSON.stringify(manifest), { level: 9 });
}

export function decodeManifest(bytes: Buffer): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(zlib.gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    throw new DamagedManifestError(`manifest unreadable: ${(error as Error).message}`);
  }
  const m = parsed as Partial<Manifest>;
  const valid =
    m.version === 1 &&
    Number.isInteger(m.width) &&
    Number.isInteger(m.height) &&
    m.width! > 0 &&
    m.height! > 0 &&
    Array.isArray(m.layers) &&
    m.layers.every((l) => typeof l === 'string') &&
    Array.isArray(m.layerIds) &&
    m.layerIds.length === m.layers.length &&
    Array.isArray(m.tiles) &&
    m.tiles.every((t) => Array.isArray(t) && t.length === 2 && Number.isInteger(t[0]) && Number.isInteger(t[1]));
  if (!valid) throw new DamagedManifestError('manifest has an unexpected structure');
  return m as Manifest;
}

/** Rows point at compacted frames with this prefix; anything else is an ordinary image file. */
export const COMPACT_PREFIX = 'compact/';

export function isCompactedPath(relative: string | null | undefined): boolean {
  return relative?.startsWith(COMPACT_PREFIX) ?? false;
}

import type { ImageStore } from '../image-store.js';
import { DamagedLayerError, splitChunks } from './layer-file.js';
import { decodeManifest, DamagedManifestError, type Manifest } from './manifest.js';
import { decodeRgb, encodeServed, type RawImage } from '../codec.js';
import { chunksNeeded, compositeFrame } from './tiles.js';

/** The compacted frame's files are there but cannot be rebuilt (API: 422). */
export class DamagedFrameError extends Error {}
/** The compacted frame's manifest is gone (API: 404). */
export class MissingFrameError extends Error {}

/** Decoded chunks kept for the next request: scrubbing through a minute re-uses the same few. */
const DECODED_CACHE_BYTES = 48 * 1024 * 1024;
/** Layer files (compressed, tens of KB each) kept in memory. */
const FILE_CACHE_ENTRIES = 256;

/** A small least-recently-used map of promises; failed loads are dropped so the next request tries again. */
class PromiseCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; cost: number }>();
  private total = 0;

  constructor(
    private readonly budget: number,
    private readonly costOf: (value: T) => number,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = load();
    const entry = { value, cost: 0 };
    this.entries.set(key, entry);
    value.then(
      (loaded) => {
        if (this.entries.get(key) !== entry) return;
        entry.cost = this.costOf(loaded);
        this.total += entry.cost;
        for (const [k, e] of this.entries) {
          if (this.total <= this.budget) break;
          if (e.cost === 0) continue; // still loading
          this.entries.delete(k);
          this.total -= e.cost;
        }
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }
}

/**
 * Rebuilds compacted frames from their manifest and layer files: only the layer chunks holding the frame's
 * tiles are decoded (in parallel, on libuv's threads), then the tiles are copied into place. Nothing is written.
 * Cache keys include each layer file's size and mtime, so a file changed on disk is read again.
 */
export class CompactedFrameReader {
  private readonly files = new PromiseCache<Buffer[]>(FILE_CACHE_ENTRIES, () => 1);
  private readonly decoded = new PromiseCache<RawImage>(DECODED_CACHE_BYTES, (image) => image.data.length);

  constructor(private readonly images: ImageStore) {}

  async manifest(relative: string): Promise<Manifest> {
    let bytes: Buffer;
    try {
      bytes = await this.images.read(relative);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFrameError(`compacted frame ${relative} is missing`);
      throw error;
    }
    try {
      return decodeManifest(bytes);
    } catch (error) {
      if (error instanceof DamagedManifestError) throw new DamagedFrameError(`compacted frame ${relative}: ${error.message}`);
      throw error;
    }
  }

  /** The frame's pixels (RGB). */
  async pixels(relative: string): Promise<RawImage> {
    const manifest = await this.manifest(relative);
    const stamps = await Promise.all(manifest.layers.map((layer) => this.stamp(layer)));
    const needed = chunksNeeded(manifest.tiles);
    const chunks = new Map<string, RawImage>();
    await Promise.all(
      needed.map(async ([layer, chunk]) => {
        const path = manifest.layers[layer];
        if (path === undefined) throw new DamagedFrameError(`compacted frame ${relative}: a tile refers to layer ${layer}, which it does not list`);
        chunks.set(`${layer}:${chunk}`, await this.chunk(path, stamps[layer]!, chunk));
      }),
    );
    try {
      return compositeFrame(manifest.width, manifest.height, manifest.tiles, (layer, chunk) => chunks.get(`${layer}:${chunk}`));
    } catch (error) {
      throw new DamagedFrameError(`compacted frame ${relative}: ${(error as Error).message}`);
    }
  }

  /** The frame as a PNG file's bytes. */
  async png(relative: string): Promise<Buffer> {
    return encodeServed(await this.pixels(relative));
  }

  private async stamp(relative: string): Promise<string> {
    try {
      const stat = await this.images.files.statOrThrow(relative);
      return `${stat.diskBytes}:${stat.modifiedMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DamagedFrameError(`layer ${relative} is missing`);
      throw new DamagedFrameError(`layer ${relative} cannot be read: ${(error as Error).message}`);
    }
  }

  private chunk(relative: string, stamp: string, index: number): Promise<RawImage> {
    return this.decoded.get(`${relative}#${stamp}#${index}`, async () => {
      const chunks = await this.files.get(`${relative}#${stamp}`, () => this.readLayer(relative));
      const bytes = chunks[index];
      if (!bytes) throw new DamagedFrameError(`layer ${relative} has no chunk ${index}`);
      try {
        return await decodeRgb(bytes);
      } catch (error) {
        throw new DamagedFrameError(`layer ${relative} is damaged: ${(error as Error).message}`);
      }
    });
  }

  private async readLayer(relative: string): Promise<Buffer[]> {
    let bytes: Buffer;
    try {
      bytes = await this.images.read(relative);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DamagedFrameError(`layer ${relative} is missing`);
      throw new DamagedFrameError(`layer ${relative} cannot be read: ${(error as Error).message}`);
    }
    try {
      return splitChunks(bytes);
    } catch (error) {
      if (error instanceof DamagedLayerError) throw new DamagedFrameError(`layer ${relative} is damaged: ${error.message}`);
      throw error;
    }
  }
}

const readers = new WeakMap<ImageStore, CompactedFrameReader>();

/** One reader (and cache) per data dir's ImageStore. */
export function compactedReader(images: ImageStore): CompactedFrameReader {
  let reader = readers.get(images);
  if (!reader) {
    reader = new CompactedFrameReader(images);
    readers.set(images, reader);
  }
  return reader;
}

import fs from 'node:fs';
import type { ImageStore } from '../image-store.js';
import { decodeManifest, DamagedManifestError, type Manifest } from './manifest.js';
import { decodeRgb, encodeServed, type RawImage } from './tile-codec.js';
import { compositeFrame } from './tiles.js';

/** The compacted frame's files are there but cannot be rebuilt (API: 422). */
export class DamagedFrameError extends Error {}
/** The compacted frame's manifest is gone (API: 404). */
export class MissingFrameError extends Error {}

/** Decoded layers kept for the next request: scrubbing through a minute re-reads the same few layers. */
const CACHE_BYTES = 48 * 1024 * 1024;

/**
 * Rebuilds compacted frames from their manifest and layer files: every layer the frame uses is decoded once
 * (in parallel, on libuv's threads) and the tiles are copied into place. Nothing is written.
 */
export class CompactedFrameReader {
  private readonly cache = new Map<string, Promise<RawImage>>();
  private readonly sizes = new Map<string, number>();
  /** Size and mtime of each cached layer's file when it was read: a file changed on disk is read again. */
  private readonly stamps = new Map<string, string>();
  private cachedBytes = 0;

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
    const layers = await Promise.all(manifest.layers.map((layer) => this.layer(layer)));
    try {
      return compositeFrame(manifest.width, manifest.height, manifest.tiles, layers);
    } catch (error) {
      throw new DamagedFrameError(`compacted frame ${relative}: ${(error as Error).message}`);
    }
  }

  /** The frame as a PNG file's bytes. */
  async png(relative: string): Promise<Buffer> {
    return encodeServed(await this.pixels(relative));
  }

  forget(layer: string): void {
    this.cache.delete(layer);
    this.stamps.delete(layer);
    this.cachedBytes -= this.sizes.get(layer) ?? 0;
    this.sizes.delete(layer);
  }

  private async layer(relative: string): Promise<RawImage> {
    const cached = this.cache.get(relative);
    if (cached && this.stamps.has(relative) && this.stamps.get(relative) !== (await this.stamp(relative))) this.forget(relative);
    else if (cached) {
      // Most recently used last.
      this.cache.delete(relative);
      this.cache.set(relative, cached);
      return cached;
    }
    const loading = this.stamp(relative).then(async (stamp) => {
      const image = await this.load(relative);
      this.stamps.set(relative, stamp);
      return image;
    });
    this.cache.set(relative, loading);
    loading.then(
      (image) => {
        if (this.cache.get(relative) !== loading) return;
        this.sizes.set(relative, image.data.length);
        this.cachedBytes += image.data.length;
        this.evict();
      },
      () => this.forget(relative),
    );
    return loading;
  }

  private async stamp(relative: string): Promise<string> {
    try {
      const stat = await fs.promises.stat(this.images.resolve(relative));
      return `${stat.size}:${stat.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private async load(relative: string): Promise<RawImage> {
    let bytes: Buffer;
    try {
      bytes = await this.images.read(relative);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DamagedFrameError(`layer ${relative} is missing`);
      throw new DamagedFrameError(`layer ${relative} cannot be read: ${(error as Error).message}`);
    }
    try {
      return await decodeRgb(bytes);
    } catch (error) {
      throw new DamagedFrameError(`layer ${relative} is damaged: ${(error as Error).message}`);
    }
  }

  private evict(): void {
    for (const key of this.cache.keys()) {
      if (this.cachedBytes <= CACHE_BYTES) return;
      if (!this.sizes.has(key)) continue; // still loading
      this.forget(key);
    }
  }
}

const readers = new WeakMap<ImageStore, CompactedFrameReader>();

/** One reader (and layer cache) per data dir's ImageStore. */
export function compactedReader(images: ImageStore): CompactedFrameReader {
  let reader = readers.get(images);
  if (!reader) {
    reader = new CompactedFrameReader(images);
    readers.set(images, reader);
  }
  return reader;
}

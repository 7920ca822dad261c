import type { default as Sharp } from 'sharp';

/**
 * The image codec: every decode and encode goes through here, and this is the only module that uses sharp
 * (libvips). Decoding runs on libvips' threads, off the event loop.
 */

let loading: Promise<typeof Sharp> | undefined;

/**
 * sharp loads at the first decode or encode (about 0.2 s of CPU): the server, the CLI and the capture client import
 * this module through their services, and most of their runs never touch an image.
 */
function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}

/** 8-bit greyscale pixels, one byte each, row by row. */
export interface GreyPixels {
  data: Buffer;
  width: number;
  height: number;
}

/** 8-bit RGBA pixels as a screen capture delivers them. */
export interface RgbaPixels {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Stored frames are lossless WebP: a third of the size of PNG on UI screenshots, and pixel-identical, so OCR
 * quality is untouched. Effort 1 keeps encoding near 0.1 s per 1080p frame (measured in bench/ocr).
 */
export const STORED_WEBP = { lossless: true, effort: 1 } as const;

export const THUMBNAIL_WIDTH = 384;

/**
 * For a process that decodes each image once (the processor): no operation cache, one libvips thread. It loads
 * sharp now: a processor without a working sharp stops at its start, not at its first frame.
 */
export async function decodeEachImageOnce(): Promise<void> {
  const sharp = await loadSharp();
  sharp.cache(false);
  sharp.concurrency(1);
}

export async function decodeGreyscale(input: Buffer): Promise<GreyPixels> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(input).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The stored form of a frame (see STORED_WEBP). */
export async function encodeStoredWebp(input: Buffer): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(input).webp(STORED_WEBP).toBuffer();
}

/** A small lossy WebP for grids and timelines. */
export async function thumbnail(input: Buffer): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(input).resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true }).webp({ quality: 70 }).toBuffer();
}

/** A JPEG at most `maxWidth` wide, for sending to a vision model. */
export async function boundedJpeg(input: Buffer, maxWidth: number, quality = 85): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(input).resize({ width: maxWidth, withoutEnlargement: true }).jpeg({ quality }).toBuffer();
}

/** A captured frame as an upload: PNG, or lossless WebP (effort 1), alpha dropped. */
export async function encodeCapture(frame: RgbaPixels, format: 'webp' | 'png'): Promise<Buffer> {
  const sharp = await loadSharp();
  const image = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 4 } }).removeAlpha();
  return format === 'png' ? image.png({ compressionLevel: 6 }).toBuffer() : image.webp({ lossless: true, effort: 1 }).toBuffer();
}

/** Compaction's raw frames: 3-channel RGB (screenshots carry no meaningful alpha). */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

export const RGB_CHANNELS = 3;

export async function decodeRgb(input: Buffer): Promise<RawImage> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== RGB_CHANNELS) throw new Error(`expected ${RGB_CHANNELS} channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

/**
 * A layer of new tiles, lossless. Effort 4 is a background cost (compaction is niced) that buys ~15 % over
 * the effort 1 used at ingest; higher efforts cost seconds for a percent or two.
 */
export async function encodeLayer(image: RawImage): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: RGB_CHANNELS } })
    .webp({ lossless: true, effort: 4 })
    .toBuffer();
}

/** A rebuilt frame as served: PNG at the fastest compression, since time to first byte matters more here. */
export async function encodeServed(image: RawImage): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: RGB_CHANNELS } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

/** Any image as 8-bit RGBA pixels (a capture that arrived encoded, e.g. from GStreamer). */
export async function decodeRgba(input: Buffer): Promise<RgbaPixels> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(input).ensureAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** A rectangle of pixels to cover. */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Margin around each covered box: OCR's boxes hug the ink and anti-aliased edges spill a pixel or two; less
 * sideways, where the next word may start a few pixels away.
 */
const COVER_MARGIN = { x: 2, y: 3 };

/**
 * The stored form of a frame with `boxes` covered by solid black (not blurred: a blur of text can be read
 * back), and its thumbnail made from the covered pixels. The input is decoded once; nothing uncovered is
 * encoded.
 */
export async function coveredStoredImage(input: Buffer, boxes: PixelBox[]): Promise<{ webp: Buffer; thumb: Buffer; width: number; height: number }> {
  const sharp = await loadSharp();
  const image = await decodeRgb(input);
  for (const box of boxes) cover(image, box);
  const raw = { raw: { width: image.width, height: image.height, channels: RGB_CHANNELS } } as const;
  const [webp, thumb] = await Promise.all([
    sharp(image.data, raw).webp(STORED_WEBP).toBuffer(),
    sharp(image.data, raw).resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true }).webp({ quality: 70 }).toBuffer(),
  ]);
  return { webp, thumb, width: image.width, height: image.height };
}

function cover(image: RawImage, box: PixelBox): void {
  const x0 = Math.max(0, Math.floor(box.x) - COVER_MARGIN.x);
  const y0 = Math.max(0, Math.floor(box.y) - COVER_MARGIN.y);
  const x1 = Math.min(image.width, Math.ceil(box.x + box.width) + COVER_MARGIN.x);
  const y1 = Math.min(image.height, Math.ceil(box.y + box.height) + COVER_MARGIN.y);
  for (let y = y0; y < y1; y++) image.data.fill(0, (y * image.width + x0) * RGB_CHANNELS, (y * image.width + x1) * RGB_CHANNELS);
}

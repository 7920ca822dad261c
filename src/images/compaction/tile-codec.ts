import sharp from 'sharp';

/**
 * Every libvips call of compaction, in one place: decoding a frame or a layer to raw RGB, and encoding a layer
 * or a rebuilt frame. Frames are kept as 3-channel RGB: screenshots carry no meaningful alpha.
 */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

export const CHANNELS = 3;

export async function decodeRgb(input: Buffer | string): Promise<RawImage> {
  const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== CHANNELS) throw new Error(`expected ${CHANNELS} channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

/**
 * A layer of new tiles, lossless. Effort 4 is a background cost (compaction is niced) that buys ~15 % over
 * the effort 1 used at ingest; higher efforts cost seconds for a percent or two.
 */
export function encodeLayer(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: CHANNELS } })
    .webp({ lossless: true, effort: 4 })
    .toBuffer();
}

/** A rebuilt frame as served: PNG at the fastest compression, since time to first byte matters more here. */
export function encodeServed(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: CHANNELS } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

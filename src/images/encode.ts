import sharp, { type WebpOptions } from 'sharp';

/**
 * Stored frames are lossless WebP: a third of the size of PNG on UI screenshots, and pixel-identical, so OCR
 * quality is untouched. Effort 1 keeps encoding near 0.1 s per 1080p frame (measured in bench/ocr).
 */
export const STORED_WEBP: WebpOptions = { lossless: true, effort: 1 };

export const THUMBNAIL_WIDTH = 384;

/** A small lossy WebP for grids and timelines. */
export function thumbnail(input: Buffer | string): Promise<Buffer> {
  return sharp(input).resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true }).webp({ quality: 70 }).toBuffer();
}

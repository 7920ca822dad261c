import zlib from 'node:zlib';

/**
 * Recognises an uploaded image from its bytes and checks its container structure without decoding pixels:
 * microseconds per megabyte, so it can run on the request path. Full decoding happens in the worker.
 */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

export class ImageFormatError extends Error {
  constructor(
    message: string,
    /** 415 when the bytes are not a supported image at all, 400 when a supported image is damaged. */
    readonly statusCode: 400 | 415,
  ) {
    super(message);
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function inspectImage(bytes: Buffer): ImageInfo {
  if (bytes.length === 0) throw new ImageFormatError('image is empty', 400);
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return inspectPng(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return inspectJpeg(bytes);
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return inspectWebp(bytes);
  throw new ImageFormatError('image is not a PNG, JPEG or WebP file', 415);
}

const damaged = (format: string, why: string) => new ImageFormatError(`image is not a valid ${format}: ${why}`, 400);

function inspectPng(bytes: Buffer): ImageInfo {
  let offset = 8;
  let width = 0;
  let height = 0;
  let sawData = false;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) throw damaged('PNG', `chunk ${type} is truncated`);
    const crc = bytes.readUInt32BE(end - 4);
    if (zlib.crc32(bytes.subarray(offset + 4, end - 4)) !== crc) throw damaged('PNG', `chunk ${type} is corrupt (CRC mismatch)`);
    if (offset === 8) {
      if (type !== 'IHDR' || length !== 13) throw damaged('PNG', 'missing IHDR header');
      width = bytes.readUInt32BE(offset + 8);
      height = bytes.readUInt32BE(offset + 12);
    }
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') {
      if (!sawData) throw damaged('PNG', 'no image data');
      return checkedSize('png', width, height);
    }
    offset = end;
  }
  throw damaged('PNG', 'file is truncated (no IEND chunk)');
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function inspectJpeg(bytes: Buffer): ImageInfo {
  let offset = 2;
  let width = 0;
  let height = 0;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw damaged('JPEG', `bad marker at byte ${offset}`);
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    if (length < 2 || offset + 2 + length > bytes.length) throw damaged('JPEG', 'segment is truncated');
    if (SOF_MARKERS.has(marker)) {
      height = bytes.readUInt16BE(offset + 5);
      width = bytes.readUInt16BE(offset + 7);
    }
    if (marker === 0xda) {
      // Entropy-coded data follows the first scan header; a complete file ends with the EOI marker.
      let end = bytes.length;
      while (end > offset && bytes[end - 1] === 0x00) end--;
      if (bytes[end - 2] !== 0xff || bytes[end - 1] !== 0xd9) throw damaged('JPEG', 'file is truncated (no end marker)');
      if (!width || !height) throw damaged('JPEG', 'no frame header before the scan');
      return checkedSize('jpeg', width, height);
    }
    offset += 2 + length;
  }
  throw damaged('JPEG', 'file is truncated');
}

function inspectWebp(bytes: Buffer): ImageInfo {
  const riffSize = bytes.readUInt32LE(4);
  if (riffSize + 8 > bytes.length) throw damaged('WebP', 'file is truncated');
  const chunk = bytes.toString('latin1', 12, 16);
  if (bytes.length < 30) throw damaged('WebP', 'file is truncated');
  const chunkSize = bytes.readUInt32LE(16);
  if (20 + chunkSize > bytes.length) throw damaged('WebP', `chunk ${chunk.trim()} is truncated`);
  if (chunk === 'VP8X') {
    return checkedSize('webp', bytes.readUIntLE(24, 3) + 1, bytes.readUIntLE(27, 3) + 1);
  }
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) throw damaged('WebP', 'bad lossless signature');
    const bits = bytes.readUInt32LE(21);
    return checkedSize('webp', (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8 ') {
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) throw damaged('WebP', 'bad frame start code');
    return checkedSize('webp', bytes.readUInt16LE(26) & 0x3fff, bytes.readUInt16LE(28) & 0x3fff);
  }
  throw damaged('WebP', `unknown chunk ${JSON.stringify(chunk)}`);
}

function checkedSize(format: ImageFormat, width: number, height: number): ImageInfo {
  if (!(width > 0 && height > 0)) throw damaged(format.toUpperCase(), `invalid dimensions ${width}x${height}`);
  return { format, width, height };
}

export const FILE_EXTENSIONS: Record<ImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

import zlib from 'node:zlib';
import { ImageFormatError, type ImageFormat, type ImageInfo } from './image-format.js';

/**
 * The structural check of image-format.ts fed chunk by chunk, as an upload arrives: it keeps a few bytes of
 * state (the current PNG chunk's CRC, a JPEG segment header, the WebP header), never the whole file. The
 * first failure is kept and the rest of the stream ignored, so the caller can stop writing.
 */
export class ImageInspector {
  private total = 0;
  private head: Buffer = Buffer.alloc(0);
  private walker: Walker | undefined;
  private failure: ImageFormatError | undefined;

  get error(): ImageFormatError | undefined {
    return this.failure;
  }

  /** The format, once the first bytes told it (undefined before, and after a failure). */
  get format(): ImageFormat | undefined {
    if (this.failure || !this.walker) return undefined;
    return this.walker instanceof PngWalker ? 'png' : this.walker instanceof JpegWalker ? 'jpeg' : 'webp';
  }

  push(chunk: Buffer): void {
    if (this.failure || chunk.length === 0) return;
    this.total += chunk.length;
    try {
      if (!this.walker) {
        // The first piece is usually 64 KB and holds the whole header: no copy of it then. A shorter one is
        // copied, as the parser may reuse the memory of a piece it has handed over.
        const head = this.head.length === 0 && chunk.length >= 12 ? chunk : Buffer.concat([this.head, chunk]);
        if (head.length < 12) {
          this.head = head;
          return;
        }
        this.walker = walkerFor(head);
        this.walker.push(head);
        this.head = Buffer.alloc(0);
        return;
      }
      this.walker.push(chunk);
    } catch (error) {
      if (!(error instanceof ImageFormatError)) throw error;
      this.failure = error;
    }
  }

  /** The format and size, or the first problem found. */
  finish(): ImageInfo {
    if (this.failure) throw this.failure;
    if (this.total === 0) throw new ImageFormatError('image is empty', 400);
    const walker = this.walker ?? walkerFor(this.head);
    if (!this.walker) walker.push(this.head);
    return walker.finish(this.total);
  }
}

/** The whole-buffer form, for bytes already in memory. */
export function inspectImage(bytes: Buffer): ImageInfo {
  const inspector = new ImageInspector();
  inspector.push(bytes);
  return inspector.finish();
}

interface Walker {
  push(chunk: Buffer): void;
  finish(total: number): ImageInfo;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function walkerFor(head: Buffer): Walker {
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) return new PngWalker();
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return new JpegWalker();
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return new WebpWalker();
  throw new ImageFormatError('image is not a PNG, JPEG or WebP file', 415);
}

const damaged = (format: string, why: string) => new ImageFormatError(`image is not a valid ${format}: ${why}`, 400);

function checkedSize(format: ImageFormat, width: number, height: number): ImageInfo {
  if (!(width > 0 && height > 0)) throw damaged(format.toUpperCase(), `invalid dimensions ${width}x${height}`);
  return { format, width, height };
}

/** The most bytes a walker collects at once (the WebP headers). */
const PENDING_CAPACITY = 32;

/**
 * Collects a few bytes that may arrive split over several chunks, copied into one small buffer of its own. Nothing
 * is allocated per header: a PNG upload has a hundred of them, and every object made per upload brings the next
 * collection closer.
 */
class Pending {
  private readonly bytes = Buffer.alloc(PENDING_CAPACITY);
  /** Views of `bytes` by length, made once each. */
  private readonly views: Buffer[] = [];
  length = 0;

  add(bytes: Buffer): void {
    this.fill(bytes, 0, this.length + bytes.length);
  }

  /** Adds the bytes of `chunk` from `at` still missing to reach `need`; returns how many it took. */
  fill(chunk: Buffer, at: number, need: number): number {
    const n = Math.min(need - this.length, chunk.length - at);
    if (this.length + n > PENDING_CAPACITY) throw new Error('image-inspector: a header longer than expected');
    copyBytes(chunk, at, at + n, this.bytes, this.length);
    this.length += n;
    return n;
  }

  /** The bytes collected, emptied: valid until the next add or fill. */
  take(): Buffer {
    const length = this.length;
    this.length = 0;
    // A view per length, made once.
    return (this.views[length] ??= this.bytes.subarray(0, length));
  }
}

/** A few bytes copied one by one: Buffer.copy makes a view of the source for every call. */
function copyBytes(from: Buffer, start: number, end: number, to: Buffer, at: number): void {
  for (let i = start; i < end; i++) to[at + i - start] = from[i]!;
}

const PNG_TYPE = { IHDR: 0x49484452, IDAT: 0x49444154, IEND: 0x49454e44 } as const;

/** PNG: every chunk's length, type and CRC up to IEND; width and height from IHDR. */
class PngWalker implements Walker {
  private position = 0; // bytes of the stream consumed
  private state: 'signature' | 'header' | 'data' | 'crc' | 'done' = 'signature';
  private pending = new Pending();
  /** The current chunk's type: its 4 bytes, as a number and as bytes (for the CRC). */
  private type = 0;
  private readonly typeBytes = Buffer.alloc(4);
  private remaining = 0; // data bytes of the current chunk still to come
  private chunkStart = 0;
  private crc = 0;
  private ihdr = new Pending();
  private width = 0;
  private height = 0;
  private sawData = false;
  private chunks = 0;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, chunk.length - at);
        // A piece (busboy hands a 125 KB screenshot over in two) holds many chunks: a view for each one's CRC.
        const data = at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n);
        this.crc = zlib.crc32(data, this.crc);
        if (this.chunks === 1 && this.ihdr.length < 13) this.ihdr.add(data.subarray(0, 13 - this.ihdr.length));
        this.remaining -= n;
        at += n;
        this.position += n;
        if (this.remaining === 0) this.state = 'crc';
        continue;
      }
      const need = this.state === 'crc' ? 4 : 8;
      const n = this.pending.fill(chunk, at, need);
      at += n;
      this.position += n;
      if (this.pending.length < need) break;
      this.complete(this.pending.take());
    }
  }

  private complete(bytes: Buffer): void {
    if (this.state === 'signature') {
      this.state = 'header';
      return;
    }
    if (this.state === 'header') {
      this.chunkStart = this.position - 8;
      this.remaining = bytes.readUInt32BE(0);
      this.type = bytes.readUInt32BE(4);
      copyBytes(bytes, 4, 8, this.typeBytes, 0);
      this.crc = zlib.crc32(this.typeBytes);
      this.chunks++;
      if (this.chunks === 1 && (this.type !== PNG_TYPE.IHDR || this.remaining !== 13)) throw damaged('PNG', 'missing IHDR header');
      this.state = this.remaining === 0 ? 'crc' : 'data';
      return;
    }
    if (bytes.readUInt32BE(0) !== this.crc >>> 0) throw damaged('PNG', `chunk ${this.typeName()} is corrupt (CRC mismatch)`);
    if (this.chunks === 1) {
      const ihdr = this.ihdr.take();
      this.width = ihdr.readUInt32BE(0);
      this.height = ihdr.readUInt32BE(4);
    }
    if (this.type === PNG_TYPE.IDAT) this.sawData = true;
    if (this.type === PNG_TYPE.IEND) {
      if (!this.sawData) throw damaged('PNG', 'no image data');
      this.state = 'done';
      return;
    }
    this.state = 'header';
  }

  finish(total: number): ImageInfo {
    if (this.state === 'done') return checkedSize('png', this.width, this.height);
    // As the whole-file walk: a chunk with its 12 bytes of framing present is "truncated"; less is no IEND.
    const inChunk = this.state === 'data' || this.state === 'crc';
    if (inChunk && total - this.chunkStart >= 12) throw damaged('PNG', `chunk ${this.typeName()} is truncated`);
    throw damaged('PNG', 'file is truncated (no IEND chunk)');
  }

  private typeName(): string {
    return this.typeBytes.toString('latin1');
  }
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * JPEG: the segments up to the first scan (frame size from the SOF segment), then only the last two
 * non-zero-padded bytes, which must be the end marker.
 */
class JpegWalker implements Walker {
  private position = 0;
  private state: 'start' | 'marker' | 'segment' | 'skip' | 'scan' = 'start';
  private pending = new Pending();
  private skip = 0;
  private segmentNeed = 0;
  private marker = 0;
  private width = 0;
  private height = 0;
  /** The last two bytes up to the last non-zero byte, and the last byte of the stream. */
  private tailFirst = -1;
  private tailSecond = -1;
  private lastByte = -1;

  push(chunk: Buffer): void {
    this.trackTail(chunk);
    let at = 0;
    while (at < chunk.length && this.state !== 'scan') {
      if (this.state === 'skip') {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        this.position += n;
        if (this.skip === 0) this.state = this.marker === 0xda ? 'scan' : 'marker';
        continue;
      }
      const need = this.state === 'segment' ? this.segmentNeed : 2; // a marker (or the start marker) is 2 bytes
      const n = this.pending.fill(chunk, at, need);
      at += n;
      this.position += n;
      if (this.pending.length < need) break;
      this.complete(this.pending.take());
    }
  }

  private complete(bytes: Buffer): void {
    if (this.state === 'start') {
      this.state = 'marker';
      return;
    }
    if (this.state === 'marker') {
      if (bytes[0] !== 0xff) throw damaged('JPEG', `bad marker at byte ${this.position - 2}`);
      if (bytes[1] === 0xff) {
        // A fill byte: the second 0xff starts the marker.
        this.position -= 1;
        this.pending.add(bytes.subarray(1));
        this.position += 1;
        return;
      }
      this.marker = bytes[1]!;
      // The length, and for a frame header the 5 bytes that hold the size.
      this.segmentNeed = SOF_MARKERS.has(this.marker) ? 7 : 2;
      this.state = 'segment';
      return;
    }
    const length = bytes.readUInt16BE(0);
    if (length < 2) throw damaged('JPEG', 'segment is truncated');
    if (SOF_MARKERS.has(this.marker)) {
      if (length < 7) throw damaged('JPEG', 'segment is truncated');
      this.height = bytes.readUInt16BE(3);
      this.width = bytes.readUInt16BE(5);
    }
    this.skip = length - bytes.length;
    this.state = this.skip === 0 ? (this.marker === 0xda ? 'scan' : 'marker') : 'skip';
  }

  private trackTail(chunk: Buffer): void {
    let last = chunk.length - 1;
    while (last >= 0 && chunk[last] === 0x00) last--;
    if (last >= 0) {
      this.tailFirst = last > 0 ? chunk[last - 1]! : this.lastByte;
      this.tailSecond = chunk[last]!;
    }
    this.lastByte = chunk[chunk.length - 1]!;
  }

  finish(): ImageInfo {
    if (this.state === 'segment' || this.state === 'skip') {
      // The marker arrived but not its whole segment.
      throw damaged('JPEG', this.state === 'segment' && this.pending.length < 2 ? 'file is truncated' : 'segment is truncated');
    }
    if (this.state !== 'scan') throw damaged('JPEG', 'file is truncated');
    if (this.tailFirst !== 0xff || this.tailSecond !== 0xd9) throw damaged('JPEG', 'file is truncated (no end marker)');
    if (!this.width || !this.height) throw damaged('JPEG', 'no frame header before the scan');
    return checkedSize('jpeg', this.width, this.height);
  }
}

/** WebP: the RIFF and first chunk headers (30 bytes) and the total length. */
class WebpWalker implements Walker {
  private head = new Pending();

  push(chunk: Buffer): void {
    if (this.head.length < 30) this.head.add(chunk.subarray(0, 30 - this.head.length));
  }

  finish(total: number): ImageInfo {
    const bytes = this.head.take();
    const riffSize = bytes.readUInt32LE(4);
    if (riffSize + 8 > total) throw damaged('WebP', 'file is truncated');
    const chunk = bytes.toString('latin1', 12, 16);
    if (total < 30) throw damaged('WebP', 'file is truncated');
    const chunkSize = bytes.readUInt32LE(16);
    if (20 + chunkSize > total) throw damaged('WebP', `chunk ${chunk.trim()} is truncated`);
    if (chunk === 'VP8X') return checkedSize('webp', bytes.readUIntLE(24, 3) + 1, bytes.readUIntLE(27, 3) + 1);
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
}

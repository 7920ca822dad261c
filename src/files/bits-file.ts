import fs from 'node:fs';
import path from 'node:path';

// The one module that reads and writes the vector index file (data-dir bytes: it can move behind a data-dir
// gateway as a whole). Layout: a 256-byte header, then one record a frame: [entry id: u32][sign bits: words × u32],
// little-endian. Records are appended; a record rewritten in place (a frame re-embedded, or deleted: its id set to
// TOMBSTONE) keeps its slot. The header is written after the records it counts, so a crash between the two leaves
// a valid file that misses the last records (they are read again from the store).

export const TOMBSTONE = 0xffffffff;
const MAGIC = 'ORVBITS1';
const HEADER_BYTES = 256;
const MODEL_BYTES = 200;
const CHECKSUM_AT = HEADER_BYTES - 4;

export interface BitsFileHeader {
  model: string;
  /** 32-bit words of sign bits a record. */
  words: number;
  /** Records in the file (tombstones included). */
  count: number;
  /** The store's sequence number of the last vector read into the file, and the frame it belongs to. */
  lastSeq: number;
  lastEntryId: number;
}

export interface LoadedBitsFile {
  header: BitsFileHeader;
  /** The records, room for more after `header.count`. */
  records: Uint32Array;
}

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

function encodeHeader(header: BitsFileHeader): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.write(MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(header.words, 8);
  bytes.writeUInt32LE(header.count, 12);
  bytes.writeDoubleLE(header.lastSeq, 16);
  bytes.writeDoubleLE(header.lastEntryId, 24);
  const model = Buffer.from(header.model, 'utf8').subarray(0, MODEL_BYTES);
  bytes.writeUInt16LE(model.length, 32);
  model.copy(bytes, 34);
  bytes.writeUInt32LE(fnv1a(bytes.subarray(0, CHECKSUM_AT)), CHECKSUM_AT);
  return bytes;
}

function decodeHeader(bytes: Buffer): BitsFileHeader | undefined {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) return undefined;
  if (bytes.readUInt32LE(CHECKSUM_AT) !== fnv1a(bytes.subarray(0, CHECKSUM_AT))) return undefined;
  const modelLength = bytes.readUInt16LE(32);
  return {
    words: bytes.readUInt32LE(8),
    count: bytes.readUInt32LE(12),
    lastSeq: bytes.readDoubleLE(16),
    lastEntryId: bytes.readDoubleLE(24),
    model: bytes.toString('utf8', 34, 34 + Math.min(modelLength, MODEL_BYTES)),
  };
}

export class BitsFile {
  private constructor(
    private readonly fd: number,
    private readonly stride: number,
  ) {}

  /**
   * Reads the whole file (one sequential read, off the event loop), or undefined when it is missing, was written
   * for another model or dimension, or is damaged (bad header, shorter than its header says).
   */
  static async load(file: string, model: string): Promise<LoadedBitsFile | undefined> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch {
      return undefined;
    }
    try {
      const head = Buffer.alloc(HEADER_BYTES);
      await handle.read(head, 0, HEADER_BYTES, 0);
      const header = decodeHeader(head);
      if (!header || header.model !== model || header.words === 0) return undefined;
      const stride = header.words + 1;
      const bytes = header.count * stride * 4;
      if ((await handle.stat()).size < HEADER_BYTES + bytes) return undefined;
      const records = new Uint32Array(Math.ceil(header.count * 1.1 + 1024) * stride);
      const view = Buffer.from(records.buffer, 0, bytes);
      for (let done = 0; done < bytes; ) {
        const { bytesRead } = await handle.read(view, done, Math.min(16 << 20, bytes - done), HEADER_BYTES + done);
        if (bytesRead === 0) return undefined;
        done += bytesRead;
      }
      return { header, records };
    } finally {
      await handle.close();
    }
  }

  /** Opens the file for writing; `fresh` starts it empty (a rebuild). */
  static open(file: string, header: BitsFileHeader, fresh: boolean): BitsFile {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, fresh ? 'w+' : 'r+');
    const bitsFile = new BitsFile(fd, header.words + 1);
    if (fresh) bitsFile.writeHeader(header);
    return bitsFile;
  }

  /** Writes records (stride words + 1 each) starting at record `slot`. */
  writeRecords(slot: number, records: Uint32Array): void {
    const bytes = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
    fs.writeSync(this.fd, bytes, 0, bytes.length, HEADER_BYTES + slot * this.stride * 4);
  }

  writeHeader(header: BitsFileHeader): void {
    fs.writeSync(this.fd, encodeHeader(header), 0, HEADER_BYTES, 0);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

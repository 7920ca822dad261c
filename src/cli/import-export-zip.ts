import fs from 'node:fs';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { EXPORT_HEADER_MAX_BYTES, isSealedExport, openSealedExport, readExportHeader, type ExportSecret } from '../encryption/sealed-export.js';
import type { ExportedFrame } from './export-command.js';

export interface ImportedFrame {
  meta: ExportedFrame;
  image: Buffer;
  /** The zip entry the image came from (named when the server refuses it). */
  entry: string;
}

/** The start of every zip file (a local file header), or of an encrypted export ("OREX"). */
export function looksLikeZip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && (head.readUInt32LE(0) === 0x04034b50 || isSealedExport(head));
  } finally {
    fs.closeSync(fd);
  }
}

/** The zip's bytes, wherever they come from: the file itself, or the plaintext of an encrypted export. */
export interface ExportSource {
  /** Of the zip (the plaintext of an encrypted export). */
  readonly size: number;
  readonly encrypted: boolean;
  readAt(position: number, length: number): Promise<Buffer>;
  /** Bytes [start, end] (inclusive), streamed. */
  stream(start: number, end: number): Readable;
  close(): Promise<void>;
}

/**
 * Opens an export for reading: a zip as it is, or an encrypted export, whose secret `askSecret` gives (called only
 * then). A wrong passphrase or key file fails here (WrongExportKeyError), before anything is read or sent.
 */
export async function openExportSource(file: string, askSecret: () => Promise<ExportSecret>): Promise<ExportSource> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = await readAt(handle, 0, Math.min(size, EXPORT_HEADER_MAX_BYTES));
    if (!isSealedExport(head)) {
      return {
        size,
        encrypted: false,
        readAt: (position, length) => readAt(handle, position, length),
        stream: (start, end) => fs.createReadStream(file, { start, end, highWaterMark: 256 * 1024 }),
        close: () => handle.close(),
      };
    }
    const { header, sealedAt } = readExportHeader(head, file);
    const reader = await openSealedExport(header, await askSecret(), size - sealedAt, (position, length) => readAt(handle, sealedAt + position, length), file);
    return {
      size: reader.plainBytes,
      encrypted: true,
      readAt: (position, length) => reader.readPlain(position, length),
      stream: (start, end) =>
        Readable.from(
          (async function* () {
            for (let at = start; at <= end; at += 256 * 1024) yield await reader.readPlain(at, Math.min(256 * 1024, end + 1 - at));
          })(),
        ),
      async close() {
        reader.dispose();
        await handle.close();
      },
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** How much of a hostile zip is ever inflated. */
export interface ExportLimits {
  /** One image (the server's upload limit: a larger one would be refused anyway). */
  imageBytes: number;
  /** export.json and each frames/<id>.json. */
  jsonBytes: number;
  /** Everything read from the zip together. */
  totalBytes: number;
}

export const JSON_ENTRY_LIMIT = 1024 * 1024;

/**
 * Limits for a zip of `zipBytes`: an export is mostly images, which do not compress, so what it holds inflated
 * is a few times its size at most; past 8x (and 64 MiB) it is a zip bomb.
 */
export function exportLimits(zipBytes: number, imageBytes: number): ExportLimits {
  return { imageBytes, jsonBytes: JSON_ENTRY_LIMIT, totalBytes: Math.max(64 * 1024 * 1024, 8 * zipBytes) };
}

/** A zip entry that cannot be imported; the import stops at the first one. */
export class BadEntryError extends Error {
  constructor(
    readonly entry: string,
    why: string,
  ) {
    super(`${entry}: ${why}`);
  }
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  headerOffset: number;
}

/**
 * Reads a zip written by `openrecall export` from its central directory: export.json first, then each
 * frames/<id>.json with the image it names, one entry inflated at a time under `limits` (frames.jsonl and any
 * other entry are never read). Each frame is handed to `onFrame` before the next entry is read; the first bad
 * entry (damaged, too large, not what an export holds) stops the import with a BadEntryError naming it.
 */
export async function readExport(source: ExportSource, limits: ExportLimits, onFrame: (frame: ImportedFrame) => Promise<void>): Promise<{ frames: number }> {
  {
    const entries = await centralDirectory(source);
    const byName = new Map(entries.map((e) => [e.name, e]));
    let total = 0;
    const read = async (entry: ZipEntry, limit: number): Promise<Buffer> => {
      const bytes = await inflateEntry(source, entry, Math.min(limit, limits.totalBytes - total));
      total += bytes.length;
      return bytes;
    };
    const header = entries[0];
    if (header?.name !== 'export.json') throw new Error('not an OpenRecall export (export.json must come first)');
    const info = parseJson<{ format?: string }>(header, await read(header, limits.jsonBytes));
    if (info.format !== 'openrecall-export') throw new BadEntryError('export.json', 'not an OpenRecall export');
    let frames = 0;
    for (const entry of entries) {
      if (!/^frames\/\d+\.json$/.test(entry.name)) continue;
      const meta = parseJson<ExportedFrame>(entry, await read(entry, limits.jsonBytes));
      if (!meta.image) continue; // exported without its image (it was missing)
      if (typeof meta.image !== 'string' || !/^frames\/\d+\.(png|jpg|jpeg|webp)$/.test(meta.image)) {
        throw new BadEntryError(entry.name, `names an image ${JSON.stringify(meta.image)} that an export never holds`);
      }
      const imageEntry = byName.get(meta.image);
      if (!imageEntry) throw new BadEntryError(entry.name, `names ${meta.image}, which the zip does not hold`);
      await onFrame({ meta, image: await read(imageEntry, limits.imageBytes), entry: imageEntry.name });
      frames++;
    }
    return { frames };
  }
}

function parseJson<T>(entry: ZipEntry, bytes: Buffer): T {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    if (value === null || typeof value !== 'object') throw new Error('not a JSON object');
    return value as T;
  } catch (error) {
    throw new BadEntryError(entry.name, `not valid JSON (${(error as Error).message})`);
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The entries as the end of the zip lists them, in order. */
async function centralDirectory(source: ExportSource): Promise<ZipEntry[]> {
  const size = source.size;
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await source.readAt(size - tailLength, tailLength);
  let end = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a complete zip file (no central directory: truncated or not a zip)');
  const count = tail.readUInt16LE(end + 10);
  const length = tail.readUInt32LE(end + 12);
  const offset = tail.readUInt32LE(end + 16);
  if (count === 0xffff || length === 0xffffffff || offset === 0xffffffff) throw new Error('ZIP64 archives are not exports of openrecall');
  if (offset + length > size) throw new Error('not a complete zip file (its central directory lies past its end)');
  const directory = await source.readAt(offset, length);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL) throw new Error(`damaged zip: central directory entry ${n + 1} is unreadable`);
    const nameLength = directory.readUInt16LE(at + 28);
    const entry: ZipEntry = {
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      headerOffset: directory.readUInt32LE(at + 42),
      name: directory.toString('utf8', at + 46, at + 46 + nameLength),
    };
    entries.push(entry);
    at += 46 + nameLength + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
  }
  return entries;
}

async function readAt(handle: fs.promises.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** One entry's bytes, inflated as they stream from the file (on libuv's threads), stopped past `limit`. */
async function inflateEntry(from: ExportSource, entry: ZipEntry, limit: number): Promise<Buffer> {
  if (entry.size > limit) throw new BadEntryError(entry.name, `holds ${entry.size} bytes; the limit for it is ${limit}`);
  if (entry.method !== 0 && entry.method !== 8) throw new BadEntryError(entry.name, `compression method ${entry.method} is not one an export uses`);
  const local = await from.readAt(entry.headerOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw new BadEntryError(entry.name, 'its local header is missing');
  const start = entry.headerOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = from.stream(start, start + entry.compressedSize - 1);
  const source = entry.method === 8 ? raw.pipe(zlib.createInflateRaw()) : raw;
  raw.on('error', (error) => source.destroy(error));
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > limit) throw new BadEntryError(entry.name, `inflates past ${limit} bytes (the limit for it)`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof BadEntryError) throw error;
    throw new BadEntryError(entry.name, `damaged (${(error as Error).message})`);
  } finally {
    raw.destroy();
    source.destroy();
  }
  if (length !== entry.size) throw new BadEntryError(entry.name, `damaged: ${length} bytes where the zip says ${entry.size}`);
  return Buffer.concat(chunks, length);
}

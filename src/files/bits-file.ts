import crypto from 'node:crypto';
import path from 'node:path';
import type { DataDir } from './data-dir.js';
import { DamagedFileError } from './file-cipher.js';
import type { SealedLog } from './sealed-log.js';

// The one module that reads and writes the vector index's files, through the DataDir (sealed when the data dir is
// encrypted: no sign bit is on the disk in the clear). Two files:
//
//   <name>.bits             the base: a 256-byte header, then one record a frame: [entry id: u32][sign bits:
//                           words × u32], little-endian. Written whole (temporary, fsync, rename, folder fsync),
//                           never changed in place: an encrypted file is sealed whole, it cannot grow in place.
//   <name>.bits.<gen>.log   what changed since: a SealedLog of segments, each [segment header][(slot, record)…];
//                           a slot at the end is a new frame, one before it a frame embedded again or deleted
//                           (its id set to TOMBSTONE). <gen> is the base's generation, random at each rewrite.
//
// A segment holds its index in the log and the base's generation, so segments out of order, torn, or from another
// base are detected: the log is cut back to the last good one, and the state it gives is an earlier true state
// (the vectors stored since are read again from the store). The log is merged into a new base when it grows past a
// share of it, or when tombstones (frames deleted by retention) pass a share of the records (then they are dropped).
// Version 1 files (the plain, in-place format before) are read as a base with no log.

export const TOMBSTONE = 0xffffffff;
const MAGIC = 'ORVBITS2';
const MAGIC_V1 = 'ORVBITS1';
const HEADER_BYTES = 256;
const MODEL_BYTES = 200;
const GENERATION_AT = 236;
const CHECKSUM_AT = HEADER_BYTES - 4;
const SEGMENT_MAGIC = 0x47455356; // "VSEG"
const SEGMENT_HEADER_BYTES = 40;
/** The base is written from copies of this many bytes of the records at a time. */
const PIECE_BYTES = 1 << 20;

export interface BitsFileHeader {
  model: string;
  /** 32-bit words of sign bits a record. */
  words: number;
  /** Records (tombstones included). */
  count: number;
  /** The store's sequence number of the last vector read into the file, and the frame it belongs to. */
  lastSeq: number;
  lastEntryId: number;
}

/**
 * Where the records live in memory: the vector pass's WebAssembly memory (search/hamming-kernel.ts). `load` reads
 * the file straight into it and grows it there, so the records are held once, never copied from a first array.
 */
export interface RecordsMemory {
  /**
   * Room for a file read whole: `bytes.subarray(0, prefix)` for its header, then `bytes` more for the records (the
   * file's and room for more); `records` then gives those records as words (`words` + 1 a record), `length` of them.
   */
  reserve(prefix: number, bytes: number): { bytes: Uint8Array; records(words: number, length: number): Uint32Array };
  /** The same records with room for `length` words; the array given must not be used after. */
  grow(records: Uint32Array, length: number, words: number): Uint32Array;
}

/** The records now: they move when they grow (a rewrite reads them piece by piece, in the background). */
export type CurrentRecords = () => Uint32Array;

export interface LoadedBitsFile {
  header: BitsFileHeader;
  /** The records (in the memory given to `load`), room for more after `header.count`. */
  records: Uint32Array;
  /** The files, open to record what changes next. */
  file: BitsFile;
}

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

function encodeHeader(header: BitsFileHeader, generation: string): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.write(MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(header.words, 8);
  bytes.writeUInt32LE(header.count, 12);
  bytes.writeDoubleLE(header.lastSeq, 16);
  bytes.writeDoubleLE(header.lastEntryId, 24);
  const model = Buffer.from(header.model, 'utf8').subarray(0, MODEL_BYTES);
  bytes.writeUInt16LE(model.length, 32);
  model.copy(bytes, 34);
  bytes.write(generation, GENERATION_AT, 'hex');
  bytes.writeUInt32LE(fnv1a(bytes.subarray(0, CHECKSUM_AT)), CHECKSUM_AT);
  return bytes;
}

function decodeHeader(bytes: Uint8Array): { header: BitsFileHeader; generation: string } | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < HEADER_BYTES) return undefined;
  const magic = view.toString('latin1', 0, 8);
  if (magic !== MAGIC && magic !== MAGIC_V1) return undefined;
  if (view.readUInt32LE(CHECKSUM_AT) !== fnv1a(view.subarray(0, CHECKSUM_AT))) return undefined;
  const modelLength = view.readUInt16LE(32);
  return {
    header: {
      words: view.readUInt32LE(8),
      count: view.readUInt32LE(12),
      lastSeq: view.readDoubleLE(16),
      lastEntryId: view.readDoubleLE(24),
      model: view.toString('utf8', 34, 34 + Math.min(modelLength, MODEL_BYTES)),
    },
    generation: magic === MAGIC_V1 ? '0'.repeat(16) : view.toString('hex', GENERATION_AT, GENERATION_AT + 8),
  };
}

const logName = (base: string, generation: string) => `${base}.${generation}.log`;

/** Records with room for `count` and about 10 % more (frames embedded while the server runs), grown by the caller. */
function roomFor(count: number, stride: number): number {
  return Math.ceil(count * 1.1 + 1024) * stride;
}

export class BitsFile {
  private segments = 0;
  private baseBytes = 0;
  private rewriting: Promise<void> | undefined;
  /** No rewrite starts once close() began (its caller wipes the keys after it). */
  private closed = false;

  private constructor(
    private readonly dir: DataDir,
    private readonly base: string,
    private readonly stride: number,
    private generation: string,
    private log: SealedLog,
  ) {}

  /** Bytes of the base and of the log: `logBytes` against `baseBytes` decides a merge. */
  get sizes(): { baseBytes: number; logBytes: number } {
    return { baseBytes: this.baseBytes, logBytes: this.log.bytes };
  }

  /**
   * Reads the base (one sequential read, off the event loop) and applies its log, or undefined when there is no
   * base, or it was written for another model or dimension, or is damaged (bad header, a size that does not match
   * its header, a sealed chunk that does not authenticate). Logs of other generations (a rewrite a crash cut short)
   * are removed.
   */
  static async load(dir: DataDir, base: string, model: string, memory: RecordsMemory, log?: (message: string) => void): Promise<LoadedBitsFile | undefined> {
    let read: { bytes: Uint8Array; plainBytes: number } | undefined;
    let reserved: ReturnType<RecordsMemory['reserve']> | undefined;
    try {
      read = await dir.readFileInto(base, (plainBytes) => {
        // The header lands just before the records, which are read where they stay, with room for about 10 % more.
        reserved = memory.reserve(HEADER_BYTES, roomFor(Math.max(0, plainBytes - HEADER_BYTES) / 4, 1) * 4);
        return reserved.bytes;
      });
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      log?.(`vector index ${base}: ${error.message}`);
      return undefined;
    }
    if (!read || !reserved) return undefined;
    const decoded = decodeHeader(read.bytes.subarray(0, HEADER_BYTES));
    if (!decoded) return undefined;
    const { header, generation } = decoded;
    if (header.model !== model || header.words === 0) return undefined;
    const stride = header.words + 1;
    if (read.plainBytes !== HEADER_BYTES + header.count * stride * 4) return undefined;
    const records = reserved.records(header.words, Math.floor((read.bytes.length - HEADER_BYTES) / 4 / stride) * stride);

    const state = { header: { ...header }, records };
    let segments = 0;
    const opened = await dir.openSealedLog(logName(base, generation), (plain, index) => {
      const applied = applySegment(plain, index, generation, stride, state, memory);
      if (applied) segments++;
      return applied;
    });
    await removeStaleLogs(dir, base, generation);
    const file = new BitsFile(dir, base, stride, generation, opened);
    file.segments = segments;
    file.baseBytes = read.plainBytes;
    return { header: state.header, records: state.records, file };
  }

  /**
   * A new base of `records[0, header.count)` (written in the background: `rewrite`'s promise) and an empty log,
   * which takes what changes from now on. Until the base is renamed in, the files on the disk are the old ones.
   */
  static create(dir: DataDir, base: string, header: BitsFileHeader, records: CurrentRecords): { file: BitsFile; written: Promise<void> } {
    const generation = crypto.randomBytes(8).toString('hex');
    const file = new BitsFile(dir, base, header.words + 1, generation, dir.createSealedLogSync(logName(base, generation)));
    const written = file.writeBase(header, records, generation, undefined);
    file.rewriting = written
      .catch(() => {})
      .finally(() => {
        file.rewriting = undefined;
      });
    return { file, written };
  }

  /** Records the records at `slots` (the new ones and those changed) and the header they lead to, as one segment. */
  append(header: BitsFileHeader, slots: Iterable<number>, records: Uint32Array): void {
    const list = [...slots];
    const segment = Buffer.allocUnsafe(SEGMENT_HEADER_BYTES + list.length * (this.stride + 1) * 4);
    segment.writeUInt32LE(SEGMENT_MAGIC, 0);
    segment.writeUInt32LE(this.segments, 4);
    segment.write(this.generation, 8, 'hex');
    segment.writeUInt32LE(header.count, 16);
    segment.writeUInt32LE(list.length, 20);
    segment.writeDoubleLE(header.lastSeq, 24);
    segment.writeDoubleLE(header.lastEntryId, 32);
    const body = new Uint32Array(segment.buffer, segment.byteOffset + SEGMENT_HEADER_BYTES, list.length * (this.stride + 1));
    list.forEach((slot, i) => {
      body[i * (this.stride + 1)] = slot;
      body.set(records.subarray(slot * this.stride, (slot + 1) * this.stride), i * (this.stride + 1) + 1);
    });
    this.log.append(segment);
    this.segments++;
  }

  /**
   * Merges: a new base of `records[0, header.count)` and a new empty log. What changes from this call on goes to
   * the new log (appends meanwhile are recorded there, and applying them again to the new base changes nothing);
   * the old base and log stay valid until the new base is durable and renamed in. One rewrite at a time.
   */
  async rewrite(header: BitsFileHeader, records: CurrentRecords): Promise<void> {
    if (this.rewriting) throw new Error('a rewrite of the vector index is already running');
    if (this.closed) throw new Error('the vector index file is closed');
    const generation = crypto.randomBytes(8).toString('hex');
    const previous = this.log;
    this.log = this.dir.createSealedLogSync(logName(this.base, generation));
    this.generation = generation;
    this.segments = 0;
    const done = this.writeBase(header, records, generation, previous);
    this.rewriting = done
      .catch(() => {})
      .finally(() => {
        this.rewriting = undefined;
      });
    await done;
  }

  get busy(): boolean {
    return this.rewriting !== undefined;
  }

  /** Waits for a rewrite in progress, fsyncs the log and closes it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.rewriting;
    await this.log.close();
  }

  private async writeBase(header: BitsFileHeader, records: CurrentRecords, generation: string, previous: SealedLog | undefined): Promise<void> {
    const bytes = header.count * this.stride * 4;
    // Each piece copied from the records as they are when it is written: they may grow (move) meanwhile.
    function* pieces(): Generator<Buffer> {
      yield encodeHeader(header, generation);
      for (let at = 0; at < bytes; at += PIECE_BYTES) {
        const now = records();
        yield Buffer.from(new Uint8Array(now.buffer, now.byteOffset + at, Math.min(PIECE_BYTES, bytes - at)));
      }
    }
    await this.log.sync(); // the new log exists on the disk before the base that names it
    await this.dir.writeFileAtomicFrom(this.base, pieces(), { durable: true });
    this.baseBytes = HEADER_BYTES + bytes;
    await previous?.close();
    await removeStaleLogs(this.dir, this.base, generation); // the previous base's log, and any a crash left
  }
}

/** Applies one segment to `state` if it is the next one of this generation and fits; false leaves `state` as it was. */
function applySegment(
  plain: Buffer,
  index: number,
  generation: string,
  stride: number,
  state: { header: BitsFileHeader; records: Uint32Array },
  memory: RecordsMemory,
): boolean {
  if (plain.length < SEGMENT_HEADER_BYTES || plain.readUInt32LE(0) !== SEGMENT_MAGIC) return false;
  if (plain.readUInt32LE(4) !== index || plain.toString('hex', 8, 16) !== generation) return false;
  const count = plain.readUInt32LE(16);
  const n = plain.readUInt32LE(20);
  if (plain.length !== SEGMENT_HEADER_BYTES + n * (stride + 1) * 4 || count < state.header.count) return false;
  const body = new Uint32Array(n * (stride + 1));
  Buffer.from(body.buffer).set(plain.subarray(SEGMENT_HEADER_BYTES));
  // Every slot must exist or be the next one: checked before anything changes.
  let reach = state.header.count;
  for (let i = 0; i < n; i++) {
    const slot = body[i * (stride + 1)]!;
    if (slot > reach) return false;
    if (slot === reach) reach++;
  }
  if (reach !== count) return false;
  if (count * stride > state.records.length) state.records = memory.grow(state.records, roomFor(count, stride), stride - 1);
  for (let i = 0; i < n; i++) {
    const slot = body[i * (stride + 1)]!;
    state.records.set(body.subarray(i * (stride + 1) + 1, (i + 1) * (stride + 1)), slot * stride);
  }
  state.header = { ...state.header, count, lastSeq: plain.readDoubleLE(24), lastEntryId: plain.readDoubleLE(32) };
  return true;
}

/** Logs of other generations of `base`: a rewrite a crash cut short (before its base), or one finished before. */
async function removeStaleLogs(dir: DataDir, base: string, generation: string): Promise<void> {
  const prefix = `${path.posix.basename(base)}.`;
  const folder = path.posix.dirname(base);
  for (const name of await dir.list(folder)) {
    if (name.startsWith(prefix) && name.endsWith('.log') && name !== path.posix.basename(logName(base, generation))) await dir.remove(`${folder}/${name}`);
  }
  dir.removeLeftoverTemporaries(base);
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import { DamagedFileError, type FileCipher } from './file-cipher.js';
import { FILE_MODE } from './owner-only.js';

/**
 * An append-only file of records, each sealed on its own through the data dir's cipher (an encrypted data dir's
 * AEAD format seals a file whole, with a last-chunk flag: it cannot grow in place, so each record is a small sealed
 * file of its own). On the disk a record is [sealed length: u32 LE][checksum: u32 LE][sealed bytes]; the checksum
 * (the first 4 bytes of SHA-256 over the sealed bytes) finds a record torn by a crash or a power cut even when the
 * cipher is plain. Reading stops at the first record that is incomplete, torn, does not open, or that the
 * caller refuses (out of order): the file is cut back there, so the records kept are always a prefix of those written.
 *
 * Appends are written at once (the page cache) and fsynced off the event loop, one fsync for the appends made
 * while the previous one ran; `close()` fsyncs what is left.
 */
export class SealedLog {
  private fd: number | undefined;
  private size: number;
  private dirty = false;
  private syncing: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private readonly cipher: FileCipher,
    fd: number,
    size: number,
  ) {
    this.fd = fd;
    this.size = size;
  }

  /** Bytes of the log on the disk. */
  get bytes(): number {
    return this.size;
  }

  /**
   * Opens (or creates) the log at `file` (an absolute path the DataDir resolved). `accept` sees
   * each record's plaintext in order; the first it refuses, and everything after it, is cut off.
   */
  static async open(file: string, cipher: FileCipher, name: string, accept: (plain: Buffer, index: number) => boolean): Promise<SealedLog> {
    const fd = await new Promise<number>((resolve, reject) =>
      fs.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT, FILE_MODE, (error, opened) => (error ? reject(error) : resolve(opened))),
    );
    try {
      const bytes = await fs.promises.readFile(file);
      const kept = readRecords(bytes, cipher, name, accept);
      if (kept < bytes.length) fs.ftruncateSync(fd, kept);
      return new SealedLog(file, cipher, fd, kept);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  /** A new empty log at `file` (an existing one is emptied): one open, from synchronous code. */
  static create(file: string, cipher: FileCipher): SealedLog {
    return new SealedLog(file, cipher, fs.openSync(file, 'w+', FILE_MODE), 0);
  }

  /** Appends one record (written now; durable after the next `sync`, which is started here). */
  append(plain: Buffer): void {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    const sealed = this.cipher.seal(plain);
    const frame = Buffer.allocUnsafe(8);
    frame.writeUInt32LE(sealed.length, 0);
    frame.writeUInt32LE(checksum(sealed), 4);
    const bytes = Buffer.concat([frame, sealed]);
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(this.fd, bytes, at, bytes.length - at, this.size + at);
    this.size += bytes.length;
    this.dirty = true;
    void this.sync().catch(() => {
      // A failed fsync leaves the record in the page cache; the next sync (or close) tries again.
      this.dirty = true;
    });
  }

  /** Makes every record appended so far durable (fdatasync off the event loop). */
  async sync(): Promise<void> {
    while (this.dirty && this.fd !== undefined) {
      if (this.syncing) {
        await this.syncing;
        continue;
      }
      this.dirty = false;
      const fd = this.fd;
      this.syncing = new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()))).finally(() => {
        this.syncing = undefined;
      });
      await this.syncing;
    }
  }

  /** Waits for a running fsync, fsyncs what is left and closes (any number of times). */
  async close(): Promise<void> {
    await this.syncing?.catch(() => {});
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (this.dirty) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function checksum(bytes: Buffer): number {
  return crypto.createHash('sha256').update(bytes).digest().readUInt32LE(0);
}

/** Feeds the records of `bytes` to `accept` in order; returns the bytes of the whole records accepted. */
function readRecords(bytes: Buffer, cipher: FileCipher, name: string, accept: (plain: Buffer, index: number) => boolean): number {
  let at = 0;
  for (let index = 0; at + 8 <= bytes.length; index++) {
    const length = bytes.readUInt32LE(at);
    const end = at + 8 + length;
    if (length === 0 || end > bytes.length) break;
    const sealed = bytes.subarray(at + 8, end);
    if (checksum(sealed) !== bytes.readUInt32LE(at + 4)) break;
    let plain: Buffer;
    try {
      plain = cipher.open(sealed, name);
    } catch (error) {
      if (error instanceof DamagedFileError) break;
      throw error;
    }
    if (!accept(plain, index)) break;
    at = end;
  }
  return at;
}

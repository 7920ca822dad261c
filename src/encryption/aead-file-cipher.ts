import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { type ChunkSealer, DamagedFileError, type FileCipher } from '../files/file-cipher.js';
import { hkdfSha256 } from './hkdf.js';

/**
 * The sealed file format (version 1), AES-256-GCM in chunks so a file streams without being held whole:
 *
 *   header (24 bytes): "ORAE" | version u8 | chunk size log2 u8 | 2 zero bytes | 16 random bytes (the file nonce)
 *   chunks: ciphertext (64 KiB, the last one 0..64 KiB) | 16-byte tag
 *
 * Each file gets its own key, HKDF(files key, salt = file nonce), so nonces never repeat across files; a chunk's
 * nonce is the file nonce's first 8 bytes and the chunk index. A chunk's AAD is the header, its index and whether
 * it is the last one: a changed header, chunks swapped, moved from another file, dropped, cut off or appended all
 * fail authentication. An empty file still has one (empty) last chunk, so cutting a file down to its header fails too.
 */
const MAGIC = Buffer.from('ORAE', 'ascii');
const FORMAT_VERSION = 1;
const CHUNK_LOG2 = 16;
export const CHUNK_BYTES = 1 << CHUNK_LOG2;
export const HEADER_BYTES = 24;
const TAG_BYTES = 16;
const SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;
const FILE_NONCE_BYTES = 16;

/** Whether `start` (a file's first HEADER_BYTES) is a sealed file's header: a plain image, JSON or gzip never is. */
export function looksSealed(start: Buffer): boolean {
  return start.length >= HEADER_BYTES && start.subarray(0, 4).equals(MAGIC) && start[4] === FORMAT_VERSION && start[5] === CHUNK_LOG2;
}

interface FileKeys {
  header: Buffer;
  key: Buffer;
  noncePrefix: Buffer;
}

export function createAeadFileCipher(filesKey: Buffer): FileCipher {
  if (filesKey.length !== 32) throw new Error('the files key must be 32 bytes');
  // Not copied: wiping the caller's buffer (openrecall lock) leaves this cipher with a zero key.
  const key = filesKey;

  const newFile = (): FileKeys => {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header[4] = FORMAT_VERSION;
    header[5] = CHUNK_LOG2;
    crypto.randomFillSync(header, HEADER_BYTES - FILE_NONCE_BYTES);
    return fileKeys(key, header);
  };

  const openHeader = (header: Buffer, file: string): FileKeys => fileKeys(key, checkedHeader(header, file));

  return {
    kind: 'aead',
    sealedSize: (plainBytes) => HEADER_BYTES + chunkCount(plainBytes) * TAG_BYTES + plainBytes,
    plainSize: (sealedBytes) => {
      const body = sealedBytes - HEADER_BYTES;
      if (body < TAG_BYTES) return 0;
      return body - Math.ceil(body / SEALED_CHUNK_BYTES) * TAG_BYTES;
    },
    seal(plain) {
      const file = newFile();
      try {
        const count = chunkCount(plain.length);
        const parts: Buffer[] = [file.header];
        for (let index = 0; index < count; index++) {
          const start = index * CHUNK_BYTES;
          parts.push(...sealChunk(file, index, index === count - 1, [plain.subarray(start, start + CHUNK_BYTES)]));
        }
        return Buffer.concat(parts);
      } finally {
        file.key.fill(0);
      }
    },
    open(sealed, name) {
      const file = openHeader(sealed, name);
      try {
        const body = sealed.subarray(HEADER_BYTES);
        if (body.length < TAG_BYTES) throw new DamagedFileError(name, 'cut short: its last chunk is missing');
        const count = Math.ceil(body.length / SEALED_CHUNK_BYTES);
        const parts: Buffer[] = [];
        for (let index = 0; index < count; index++) {
          const chunk = body.subarray(index * SEALED_CHUNK_BYTES, (index + 1) * SEALED_CHUNK_BYTES);
          parts.push(...openSealedChunk(file, index, index === count - 1, chunk, name));
        }
        return Buffer.concat(parts);
      } finally {
        file.key.fill(0);
      }
    },
    sealStream: () => new SealStream(new AeadChunkSealer(newFile())),
    sealer: () => new AeadChunkSealer(newFile()),
    openStream: (name) => new OpenStream(name, (header) => openHeader(header, name)),
  };
}

const chunkCount = (plainBytes: number) => Math.max(1, Math.ceil(plainBytes / CHUNK_BYTES));

/** The first HEADER_BYTES of `header`, checked (a copy: the caller's buffer may be reused). */
function checkedHeader(header: Buffer, file: string): Buffer {
  if (header.length < HEADER_BYTES) throw new DamagedFileError(file, 'cut short: no complete encryption header');
  if (!header.subarray(0, 4).equals(MAGIC)) throw new DamagedFileError(file, 'not an encrypted file (its header is missing or changed)');
  if (header[4] !== FORMAT_VERSION) throw new DamagedFileError(file, `encrypted with format version ${header[4]}, which this version cannot read`);
  if (header[5] !== CHUNK_LOG2 || header[6] !== 0 || header[7] !== 0) throw new DamagedFileError(file, 'its encryption header was changed');
  return Buffer.from(header.subarray(0, HEADER_BYTES));
}

/**
 * Random access to one sealed file (an encrypted export, read from its zip's central directory): `read(position,
 * length)` gives the sealed bytes at a position (0 = the sealed file's first header byte, `sealedBytes` long in all);
 * `readPlain` answers plaintext bytes, opening (and authenticating) only the chunks that hold them. `dispose()` zeroes
 * the file's key. Each chunk is authenticated with its index and last-chunk flag as in a whole read.
 */
export interface SealedReader {
  readonly plainBytes: number;
  readPlain(position: number, length: number): Promise<Buffer>;
  dispose(): void;
}

export async function openSealedReader(
  filesKey: Buffer,
  sealedBytes: number,
  read: (position: number, length: number) => Promise<Buffer>,
  name: string,
): Promise<SealedReader> {
  const file = fileKeys(filesKey, checkedHeader(await read(0, HEADER_BYTES), name));
  const body = sealedBytes - HEADER_BYTES;
  if (body < TAG_BYTES) throw new DamagedFileError(name, 'cut short: its last chunk is missing');
  const count = Math.ceil(body / SEALED_CHUNK_BYTES);
  const plainBytes = body - count * TAG_BYTES;
  let cached: { index: number; plain: Buffer } | undefined;
  const chunk = async (index: number): Promise<Buffer> => {
    if (cached?.index === index) return cached.plain;
    const start = HEADER_BYTES + index * SEALED_CHUNK_BYTES;
    const sealed = await read(start, Math.min(SEALED_CHUNK_BYTES, sealedBytes - start));
    const plain = Buffer.concat(openSealedChunk(file, index, index === count - 1, sealed, name));
    cached = { index, plain };
    return plain;
  };
  return {
    plainBytes,
    async readPlain(position, length) {
      const end = Math.min(plainBytes, position + length);
      const parts: Buffer[] = [];
      for (let at = Math.max(0, position); at < end; ) {
        const index = Math.floor(at / CHUNK_BYTES);
        const plain = await chunk(index);
        const from = at - index * CHUNK_BYTES;
        const take = Math.min(plain.length - from, end - at);
        parts.push(plain.subarray(from, from + take));
        at += take;
      }
      return Buffer.concat(parts);
    },
    dispose() {
      file.key.fill(0);
      cached = undefined;
    },
  };
}

function fileKeys(filesKey: Buffer, header: Buffer): FileKeys {
  const fileNonce = header.subarray(HEADER_BYTES - FILE_NONCE_BYTES);
  const key = hkdfSha256(filesKey, fileNonce, 'openrecall file v1', 32);
  return { header, key, noncePrefix: Buffer.from(fileNonce.subarray(0, 8)) };
}

function chunkNonceAndAad(file: FileKeys, index: number, last: boolean): { nonce: Buffer; aad: Buffer } {
  const nonce = Buffer.alloc(12);
  file.noncePrefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, 8);
  const aad = Buffer.alloc(HEADER_BYTES + 5);
  file.header.copy(aad, 0);
  aad.writeUInt32BE(index, HEADER_BYTES);
  aad[HEADER_BYTES + 4] = last ? 1 : 0;
  return { nonce, aad };
}

/**
 * One chunk sealed from its plaintext in pieces, as they arrived: each piece goes through the cipher as it is, so no
 * chunk-sized copy is made (every buffer allocated outside V8's heap brings its next full collection closer).
 */
function sealChunk(file: FileKeys, index: number, last: boolean, plain: readonly Buffer[]): Buffer[] {
  if (index > 0xffff_ffff) throw new Error('file too large to encrypt');
  const { nonce, aad } = chunkNonceAndAad(file, index, last);
  const cipher = crypto.createCipheriv('aes-256-gcm', file.key, nonce);
  cipher.setAAD(aad);
  const out = plain.map((piece) => cipher.update(piece));
  cipher.final(); // GCM: nothing is held back, so final() only computes the tag
  out.push(cipher.getAuthTag());
  return out;
}

/** A chunk's plaintext in pieces, from its ciphertext in pieces and its whole tag; throws unless it authenticates. */
function openChunk(file: FileKeys, index: number, last: boolean, body: readonly Buffer[], tag: Buffer, name: string): Buffer[] {
  const { nonce, aad } = chunkNonceAndAad(file, index, last);
  const decipher = crypto.createDecipheriv('aes-256-gcm', file.key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const plain = body.map((piece) => decipher.update(piece));
  try {
    decipher.final();
  } catch {
    throw new DamagedFileError(name, `chunk ${index} does not authenticate: the file was changed, cut short or reordered, or the key is wrong`);
  }
  return plain;
}

/** openChunk of a chunk held whole (ciphertext then tag). */
function openSealedChunk(file: FileKeys, index: number, last: boolean, sealed: Buffer, name: string): Buffer[] {
  if (sealed.length < TAG_BYTES) throw new DamagedFileError(name, `cut short in chunk ${index}`);
  return openChunk(file, index, last, [sealed.subarray(0, sealed.length - TAG_BYTES)], sealed.subarray(sealed.length - TAG_BYTES), name);
}

/** Bytes received but not yet a whole chunk: a list of the pieces as they came, never copied but for `take`. */
class Pending {
  private parts: Buffer[] = [];
  length = 0;

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** The first `count` bytes as views of the pieces that hold them (no copy). */
  takeParts(count: number): Buffer[] {
    const out: Buffer[] = [];
    let left = count;
    while (left > 0) {
      const head = this.parts[0]!;
      if (head.length <= left) {
        out.push(head);
        this.parts.shift();
        left -= head.length;
      } else {
        out.push(head.subarray(0, left));
        this.parts[0] = head.subarray(left);
        left = 0;
      }
    }
    this.length -= count;
    return out;
  }

  /** The first `count` bytes in one buffer (a copy). */
  take(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const head = this.parts[0]!;
      const used = Math.min(head.length, count - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(used);
    }
    this.length -= count;
    return out;
  }
}

const asBuffer = (chunk: unknown, encoding: BufferEncoding): Buffer => (Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding));

/** The sealing of one file (ChunkSealer), shared by the stream and by writers that take pieces as they come. */
class AeadChunkSealer implements ChunkSealer {
  private readonly pending = new Pending();
  private index = 0;
  private headerSent = false;

  constructor(private readonly file: FileKeys) {}

  push(plain: Buffer): Buffer[] {
    const out = this.start();
    this.pending.push(plain);
    // A full chunk is sealed as "not last" only once a byte after it exists; the last one waits for the end.
    while (this.pending.length > CHUNK_BYTES) out.push(...sealChunk(this.file, this.index++, false, this.pending.takeParts(CHUNK_BYTES)));
    return out;
  }

  end(): Buffer[] {
    try {
      const out = this.start();
      out.push(...sealChunk(this.file, this.index++, true, this.pending.takeParts(this.pending.length)));
      return out;
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.file.key.fill(0);
  }

  private start(): Buffer[] {
    if (this.headerSent) return [];
    this.headerSent = true;
    return [this.file.header];
  }
}

class SealStream extends Transform {
  constructor(private readonly sealer: AeadChunkSealer) {
    super();
  }

  override _transform(chunk: unknown, encoding: BufferEncoding, done: TransformCallback): void {
    try {
      for (const part of this.sealer.push(asBuffer(chunk, encoding))) this.push(part);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      for (const part of this.sealer.end()) this.push(part);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.sealer.destroy();
    done(error);
  }
}

class OpenStream extends Transform {
  private readonly pending = new Pending();
  private file: FileKeys | undefined;
  private index = 0;

  constructor(
    private readonly name: string,
    private readonly openHeader: (header: Buffer) => FileKeys,
  ) {
    super();
  }

  override _transform(chunk: unknown, encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending.push(asBuffer(chunk, encoding));
      if (!this.file && this.pending.length >= HEADER_BYTES) this.file = this.openHeader(this.pending.take(HEADER_BYTES));
      // Only plaintext whose tag checked out leaves this stream; a chunk is "not last" while more bytes follow it.
      while (this.file && this.pending.length > SEALED_CHUNK_BYTES) {
        this.pushAll(this.openNext(SEALED_CHUNK_BYTES, false));
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.file) this.file = this.openHeader(this.pending.take(this.pending.length));
      if (this.pending.length < TAG_BYTES) throw new DamagedFileError(this.name, 'cut short: its last chunk is missing');
      this.pushAll(this.openNext(this.pending.length, true));
      done();
    } catch (error) {
      done(error as Error);
    } finally {
      this.file?.key.fill(0);
    }
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.file?.key.fill(0);
    done(error);
  }

  /** The next chunk (`sealedBytes` of the pending bytes) opened: its ciphertext as the pieces that hold it. */
  private openNext(sealedBytes: number, last: boolean): Buffer[] {
    const body = this.pending.takeParts(sealedBytes - TAG_BYTES);
    return openChunk(this.file!, this.index++, last, body, this.pending.take(TAG_BYTES), this.name);
  }

  private pushAll(pieces: Buffer[]): void {
    for (const piece of pieces) this.push(piece);
  }
}

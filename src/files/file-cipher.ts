import type { Transform } from 'node:stream';

/**
 * How the bytes of a data-dir file are sealed on the disk. The DataDir (src/files/data-dir.ts) is the only user;
 * `plainCipher` keeps files as they are, the AEAD cipher (src/encryption/) encrypts them in authenticated chunks.
 */
export interface FileCipher {
  readonly kind: 'plain' | 'aead';
  /** Bytes on the disk for a file of `plainBytes` (storage figures must match the disk). */
  sealedSize(plainBytes: number): number;
  /** Plaintext bytes of a file of `sealedBytes` on the disk. */
  plainSize(sealedBytes: number): number;
  /** A whole small file (manifests, JSON). */
  seal(plain: Buffer): Buffer;
  /** Throws DamagedFileError naming `file` when a byte was changed, cut off or the key is wrong. */
  open(sealed: Buffer, file: string): Buffer;
  /** Plaintext in, sealed bytes out; a new nonce per file. */
  sealStream(): Transform;
  /** sealStream without a stream, for a writer that takes pieces as they arrive (an upload): no stream's ticks. */
  sealer(): ChunkSealer;
  /** Sealed bytes in, plaintext out; errors with DamagedFileError naming `file` (tampered, truncated, wrong key). */
  openStream(file: string): Transform;
}

/** Seals one file piece by piece, synchronously: each call answers the sealed bytes ready to be written. */
export interface ChunkSealer {
  /** The sealed bytes `plain` completes (the header first); a partial chunk is held until more, or the end. */
  push(plain: Buffer): Buffer[];
  /** The last chunk. The sealer is spent. */
  end(): Buffer[];
  /** Gives up (the file's key is zeroed). */
  destroy(): void;
}

/** A file whose sealed bytes do not authenticate: changed, cut short, or sealed with another key. */
export class DamagedFileError extends Error {
  readonly code = 'DAMAGED_FILE';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'DamagedFileError';
  }
}

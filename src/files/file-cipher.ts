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
  /** Sealed bytes in, plaintext out; errors with DamagedFileError naming `file` (tampered, truncated, wrong key). */
  openStream(file: string): Transform;
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

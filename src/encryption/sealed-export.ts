import crypto from 'node:crypto';
import { createAeadFileCipher, openSealedReader, type SealedReader } from './aead-file-cipher.js';
import type { Argon2idParameters } from './key-record.js';
import { hkdfSha256 } from './hkdf.js';
import { DEFAULT_ARGON2ID, passphraseKek } from './key-sources.js';

/**
 * An encrypted export (`openrecall export` on an encrypted data dir): the zip, sealed whole as it streams by the
 * AEAD file format of aead-file-cipher.ts (AES-256-GCM, 64 KiB chunks, each authenticated with its index and a
 * last-chunk flag), behind a small clear header that names how the key is made:
 *
 *   "OREX" | version u8 (1) | 3 zero bytes | header length u32 BE | header JSON | sealed file ("ORAE" header, chunks)
 *
 * Header JSON: `{format, version, cipher, kdf}`, kdf = Argon2id of a passphrase (costs and salt), or HKDF-SHA256 of a
 * 32-byte key file with a salt. Nothing else is in the clear: not the frame count, not the dates. A changed header
 * gives another key, so the first chunk does not authenticate.
 */
export const SEALED_EXPORT_MAGIC = Buffer.from('OREX', 'ascii');
const VERSION = 1;
const MAX_HEADER_JSON = 4096;
export const SEALED_EXPORT_FORMAT = 'openrecall-export-sealed';

export type ExportKdf = Argon2idParameters | { algorithm: 'hkdf-sha256'; source: 'key-file'; salt: string };

export interface ExportHeader {
  format: typeof SEALED_EXPORT_FORMAT;
  version: 1;
  cipher: 'aes-256-gcm-chunked-v1';
  kdf: ExportKdf;
}

/** What opens (or makes) an export's key: a passphrase, or the bytes of a 32-byte key file. */
export type ExportSecret = { passphrase: string } | { keyFile: Buffer };

export class ExportKeyError extends Error {}

export function isSealedExport(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(SEALED_EXPORT_MAGIC);
}

async function deriveKey(kdf: ExportKdf, secret: ExportSecret): Promise<Buffer> {
  if (kdf.algorithm === 'argon2id') {
    if (!('passphrase' in secret)) throw new ExportKeyError('this export is encrypted with a passphrase: give it (without --key-file)');
    if (secret.passphrase.length === 0) throw new ExportKeyError('the passphrase is empty');
    return passphraseKek(secret.passphrase, kdf);
  }
  if (!('keyFile' in secret)) throw new ExportKeyError('this export is encrypted with a key file: give it with --key-file');
  if (secret.keyFile.length !== 32) throw new ExportKeyError(`a key file is exactly 32 random bytes; this one holds ${secret.keyFile.length}`);
  return hkdfSha256(secret.keyFile, Buffer.from(kdf.salt, 'base64'), 'openrecall export v1', 32);
}

/** A new export's clear header and the key it names (fresh salt). The caller zeroes `key` when the export is written. */
export async function newExportKey(secret: ExportSecret): Promise<{ header: Buffer; key: Buffer; kdf: ExportKdf }> {
  const salt = crypto.randomBytes(16).toString('base64');
  const kdf: ExportKdf = 'passphrase' in secret ? { algorithm: 'argon2id', ...DEFAULT_ARGON2ID, salt } : { algorithm: 'hkdf-sha256', source: 'key-file', salt };
  const key = await deriveKey(kdf, secret);
  const json = Buffer.from(JSON.stringify({ format: SEALED_EXPORT_FORMAT, version: VERSION, cipher: 'aes-256-gcm-chunked-v1', kdf } satisfies ExportHeader));
  const fixed = Buffer.alloc(12);
  SEALED_EXPORT_MAGIC.copy(fixed, 0);
  fixed[4] = VERSION;
  fixed.writeUInt32BE(json.length, 8);
  return { header: Buffer.concat([fixed, json]), key, kdf };
}

/** The sealing transform for the zip's bytes (they follow the clear header). */
export function sealExport(key: Buffer) {
  return createAeadFileCipher(key).sealStream();
}

/** The clear header of an export whose first bytes are `head` (at least 12 + its JSON), and where the sealed part starts. */
export function readExportHeader(head: Buffer, name: string): { header: ExportHeader; sealedAt: number } {
  if (!isSealedExport(head) || head.length < 12) throw new ExportKeyError(`${name} is not an encrypted OpenRecall export`);
  if (head[4] !== VERSION) throw new ExportKeyError(`${name} is an encrypted export of format version ${head[4]}, which this version cannot read`);
  const length = head.readUInt32BE(8);
  if (length > MAX_HEADER_JSON || head.length < 12 + length) throw new ExportKeyError(`${name}: its encryption header is damaged`);
  let header: ExportHeader;
  try {
    header = JSON.parse(head.toString('utf8', 12, 12 + length)) as ExportHeader;
  } catch {
    throw new ExportKeyError(`${name}: its encryption header is damaged (not JSON)`);
  }
  const kdf = header.kdf as (Omit<Partial<Argon2idParameters>, 'algorithm'> & { algorithm?: string }) | undefined;
  const argonOk =
    kdf?.algorithm === 'argon2id' &&
    [kdf.memoryCost, kdf.timeCost, kdf.parallelism].every((n) => Number.isInteger(n) && (n as number) > 0) &&
    (kdf.memoryCost as number) <= 4 * 1024 * 1024 &&
    (kdf.timeCost as number) <= 64 &&
    (kdf.parallelism as number) <= 16;
  if (
    header.format !== SEALED_EXPORT_FORMAT ||
    header.cipher !== 'aes-256-gcm-chunked-v1' ||
    typeof kdf?.salt !== 'string' ||
    !(argonOk || kdf?.algorithm === 'hkdf-sha256')
  ) {
    throw new ExportKeyError(`${name}: its encryption header names a format or key derivation this version does not know`);
  }
  return { header, sealedAt: 12 + length };
}

/** The longest clear header: read this many bytes first. */
export const EXPORT_HEADER_MAX_BYTES = 12 + MAX_HEADER_JSON;

/**
 * Random access to the zip inside a sealed export. The first chunk is opened here: a wrong passphrase or key file
 * fails now (WrongExportKeyError), before anything is read or sent.
 */
export async function openSealedExport(
  header: ExportHeader,
  secret: ExportSecret,
  sealedBytes: number,
  read: (position: number, length: number) => Promise<Buffer>,
  name: string,
): Promise<SealedReader> {
  const key = await deriveKey(header.kdf, secret);
  let reader: SealedReader;
  try {
    reader = await openSealedReader(key, sealedBytes, read, name);
  } finally {
    key.fill(0);
  }
  try {
    await reader.readPlain(0, 1);
  } catch (error) {
    reader.dispose();
    if ((error as Error).name === 'DamagedFileError' && /chunk 0 does not authenticate/.test((error as Error).message)) {
      throw new WrongExportKeyError('passphrase' in secret ? 'the passphrase does not open this export' : 'the key file does not open this export');
    }
    throw error;
  }
  return reader;
}

export class WrongExportKeyError extends ExportKeyError {
  override readonly name = 'WrongExportKeyError';
}

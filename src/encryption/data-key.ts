import crypto from 'node:crypto';
import { hkdfSha256 } from './hkdf.js';
import { randomSecret, secretCopy, wipe } from './secret-bytes.js';

/**
 * The data key: 32 random bytes per data dir, never stored in the clear. It is wrapped (AES-256-GCM) by each
 * key-encryption key (KEK) that may open the data dir, and the keys actually used are derived from it, one per
 * purpose, so the files and the database never share a key.
 */
export const KEY_BYTES = 32;

export interface WrappedKey {
  /** base64: the GCM nonce. */
  nonce: string;
  /** base64: the data key encrypted, then its 16-byte tag. */
  wrapped: string;
}

export function newDataKey(): Buffer {
  return randomSecret(KEY_BYTES);
}

/** `label` names the wrap (its source): a wrap moved to another source's place does not open. */
export function wrapDataKey(dataKey: Buffer, kek: Buffer, label: string): WrappedKey {
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(Buffer.from(`openrecall data key v1 ${label}`));
  const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { nonce: nonce.toString('base64'), wrapped: wrapped.toString('base64') };
}

/** The data key, or null when `kek` is not the key this wrap was made with. */
export function unwrapDataKey(wrap: WrappedKey, kek: Buffer, label: string): Buffer | null {
  const sealed = Buffer.from(wrap.wrapped, 'base64');
  if (sealed.length !== KEY_BYTES + 16 || kek.length !== KEY_BYTES) return null;
  const decipher = crypto.createDecipheriv('aes-256-gcm', kek, Buffer.from(wrap.nonce, 'base64'));
  decipher.setAAD(Buffer.from(`openrecall data key v1 ${label}`));
  decipher.setAuthTag(sealed.subarray(KEY_BYTES));
  // update() answers a buffer of its own (not pooled); copied into a secret buffer all the same, then zeroed.
  const opened = decipher.update(sealed.subarray(0, KEY_BYTES));
  const key = secretCopy(opened);
  wipe(opened);
  try {
    decipher.final();
    return key;
  } catch {
    wipe(key);
    return null;
  }
}

/**
 * How the SQLite database is encrypted, recorded per data dir in its key record (a database keeps the one it was
 * made with). Both are authenticated page by page, the page number bound in, with a raw key (no KDF):
 *   - `sqlcipher-v4-raw-key`: SQLCipher 4 (AES-256-CBC, HMAC-SHA512); data dirs encrypted before AEGIS.
 *   - `aegis-256-raw-key`: AEGIS-256 (SQLite3 Multiple Ciphers' `aegis` cipher, AES-NI), a random 256-bit nonce and
 *     a 256-bit tag a page. A page read costs ~1 µs of CPU instead of ~8 (BENCHMARKS.md, issue 20).
 */
export type DatabaseCipher = 'sqlcipher-v4-raw-key' | 'aegis-256-raw-key';
export const DATABASE_CIPHERS: readonly DatabaseCipher[] = ['sqlcipher-v4-raw-key', 'aegis-256-raw-key'];
/** What a new encrypted data dir's database is encrypted with. */
export const NEW_DATABASE_CIPHER: DatabaseCipher = 'aegis-256-raw-key';

/** The SQLite database's raw key and the cipher its file was made with (openStore's `databaseKey`). */
export interface DatabaseKey {
  key: Buffer;
  cipher: DatabaseCipher;
}

export interface Subkeys {
  /** For the AEAD file cipher (createAeadFileCipher). */
  files: Buffer;
  /** The SQLite database's raw key (PRAGMA key). */
  database: Buffer;
}

export function deriveSubkeys(dataKey: Buffer): Subkeys {
  const derive = (purpose: string) => hkdfSha256(dataKey, Buffer.alloc(0), `openrecall ${purpose} v1`, KEY_BYTES);
  return { files: derive('files'), database: derive('database') };
}

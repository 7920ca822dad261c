import crypto from 'node:crypto';
import { secretBytes, wipe } from './secret-bytes.js';

const HASH_BYTES = 32;

/**
 * HKDF-SHA-256 (RFC 5869), the same bytes as `crypto.hkdfSync('sha256', …)`, built on HMAC. Not hkdfSync itself:
 * it wraps its input key in a KeyObject (createSecretKey), a copy that lives until the garbage collector frees it,
 * out of reach of wipe(): a worker's memory after a lock held two copies of the data key (the two subkeys' HKDF) and
 * two of the files key for every file it had sealed or opened. An Hmac keeps no copy of its own: its OpenSSL
 * context is freed, and cleansed, at digest(). The result is a secretBytes buffer (wiping it wipes the only copy).
 */
export function hkdfSha256(key: Uint8Array, salt: Uint8Array, info: string, length: number): Buffer {
  if (length > 255 * HASH_BYTES) throw new Error('HKDF-SHA-256 gives at most 8160 bytes');
  const prk = crypto.createHmac('sha256', salt).update(key).digest();
  const out = secretBytes(length);
  const counter = Buffer.alloc(1);
  let previous = Buffer.alloc(0);
  try {
    for (let at = 0, i = 1; at < length; i++) {
      counter[0] = i;
      const block = crypto.createHmac('sha256', prk).update(previous).update(info, 'utf8').update(counter).digest();
      wipe(previous);
      previous = block;
      at += block.copy(out, at, 0, Math.min(HASH_BYTES, length - at));
    }
  } finally {
    wipe(previous, prk);
  }
  return out;
}

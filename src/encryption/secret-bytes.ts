import crypto from 'node:crypto';

/**
 * Key material lives only in buffers made here, each the view of an ArrayBuffer of its own, outside the JavaScript
 * heap, so `wipe()` zeroes the only copy. Not a slice of Node's shared 8 KiB pool (`Buffer.from`, `allocUnsafe`,
 * `Buffer.concat`), whose other slices outlive any one use; and not `Buffer.allocUnsafeSlow(32)` either: V8 keeps a
 * typed array of 64 bytes or less inside its heap, where the garbage collector moves it (leaving the old bytes in the
 * page it left) and where handing it to native code copies it out first: a server kept one copy of the files key
 * after a lock in 4 runs of 10 that way. An ArrayBuffer's own store never moves. Never turn one into a string (hex,
 * base64): a JavaScript string cannot be zeroed and stays in the heap until its memory is reused.
 */
export function secretBytes(length: number): Buffer {
  return Buffer.from(new ArrayBuffer(length));
}

/** `length` random bytes in a secret buffer (crypto.randomBytes could give a pooled one in some Node versions). */
export function randomSecret(length: number): Buffer {
  return crypto.randomFillSync(secretBytes(length));
}

/** A secret buffer holding `bytes`; the caller wipes `bytes` itself if it was a secret too. */
export function secretCopy(bytes: Uint8Array): Buffer {
  const copy = secretBytes(bytes.length);
  copy.set(bytes);
  return copy;
}

/** Zeroes each buffer in place (those already gone are skipped). */
export function wipe(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const buffer of buffers) buffer?.fill(0);
}

const BASE64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');

/** `bytes` as base64 text, in a secret buffer (what `toString('base64')` gives, without making a string). */
export function base64Secret(bytes: Uint8Array): Buffer {
  const out = secretBytes(Math.ceil(bytes.length / 3) * 4);
  for (let i = 0, o = 0; i < bytes.length; i += 3, o += 4) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    out[o] = BASE64[a >> 2]!;
    out[o + 1] = BASE64[((a & 3) << 4) | (b >> 4)]!;
    out[o + 2] = i + 1 < bytes.length ? BASE64[((b & 15) << 2) | (c >> 6)]! : 0x3d;
    out[o + 3] = i + 2 < bytes.length ? BASE64[c & 63]! : 0x3d;
  }
  return out;
}

/** The bytes base64 text (as bytes or char codes) stands for, in a secret buffer; null when it is not base64. */
export function fromBase64Secret(text: ArrayLike<number>): Buffer | null {
  let length = text.length;
  while (length > 0 && text[length - 1] === 0x3d) length--;
  if (text.length % 4 !== 0 || text.length - length > 2) return null;
  const out = secretBytes(Math.floor((length * 3) / 4));
  let bits = 0;
  let held = 0;
  let o = 0;
  for (let i = 0; i < length; i++) {
    const value = BASE64.indexOf(text[i]!);
    if (value === -1) {
      wipe(out);
      return null;
    }
    bits = ((bits << 6) | value) & 0xffffff;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[o++] = (bits >> held) & 0xff;
    }
  }
  return out;
}

/**
 * `x'<hex digits>'`, SQLite's raw-key form (PRAGMA key / sqlite3_key), in a secret buffer, written digit by digit:
 * no hex string is ever made of the key.
 */
export function sqliteRawKeyForm(key: Uint8Array): Buffer {
  const HEX = '0123456789abcdef';
  const form = secretBytes(key.length * 2 + 3);
  form[0] = 0x78; // x
  form[1] = 0x27; // '
  for (let i = 0; i < key.length; i++) {
    form[2 + 2 * i] = HEX.charCodeAt(key[i]! >> 4);
    form[3 + 2 * i] = HEX.charCodeAt(key[i]! & 15);
  }
  form[form.length - 1] = 0x27;
  return form;
}

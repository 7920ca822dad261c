/** Byte `i` of the 32-byte secret `seed` stands for (xorshift32): computed one at a time, never held whole. */
export function seededSecretByte(seed: number, i: number): number {
  let x = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0 || 1;
  for (let round = 0; round < 4; round++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
  }
  return x & 0xff;
}

export function seededSecret(seed: number): Buffer {
  return Buffer.from(Array.from({ length: 32 }, (_, i) => seededSecretByte(seed, i)));
}

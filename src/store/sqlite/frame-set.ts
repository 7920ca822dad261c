/**
 * A set of frame ids as openrecall_idset builds it in SQLite (native/openrecall_idset.c): the lowest id as a
 * little-endian 64-bit integer, then one bit per id up to the highest. A keyword search binds it and tests each
 * match with openrecall_idset_has; `low` and `high` bound the walk of the full-text index.
 */
export interface FrameSet {
  bits: Buffer;
  low: number;
  high: number;
}

const HEADER = 8;

/** The lowest and highest of `ids` (low > high when there are none). */
export function idBounds(ids: ReadonlySet<number> | readonly number[]): { low: number; high: number } {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const id of ids) {
    if (id < low) low = id;
    if (id > high) high = id;
  }
  return { low, high };
}

/** The set of `ids` in the blob layout, or undefined when there are none. */
export function encodeFrameSet(ids: ReadonlySet<number> | readonly number[]): FrameSet | undefined {
  const { low, high } = idBounds(ids);
  if (low > high) return undefined;
  const bits = Buffer.alloc(HEADER + Math.floor((high - low) / 8) + 1);
  bits.writeBigInt64LE(BigInt(low), 0);
  for (const id of ids) {
    const offset = id - low;
    bits[HEADER + (offset >> 3)]! |= 1 << (offset & 7);
  }
  return { bits, low, high };
}

/** The set openrecall_idset returned (a blob, or null for no ids). */
export function frameSetFromBlob(blob: Buffer | null): FrameSet | undefined {
  if (!blob || blob.length <= HEADER) return undefined;
  const low = Number(blob.readBigInt64LE(0));
  let last = blob.length - 1;
  while (last > HEADER && blob[last] === 0) last--;
  const high = low + (last - HEADER) * 8 + (31 - Math.clz32(blob[last]!));
  return { bits: blob, low, high };
}

/** The ids of a set, as a JS Set (to restrict a vector search). */
export function frameSetIds(set: FrameSet): Set<number> {
  const ids = new Set<number>();
  const { bits, low } = set;
  for (let i = HEADER; i < bits.length; i++) {
    let byte = bits[i]!;
    while (byte !== 0) {
      const bit = 31 - Math.clz32(byte & -byte);
      ids.add(low + (i - HEADER) * 8 + bit);
      byte &= byte - 1;
    }
  }
  return ids;
}

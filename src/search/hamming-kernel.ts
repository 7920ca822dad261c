import { type RecordsMemory, TOMBSTONE } from '../files/bits-file.js';
import { I32, I64, op, type ValueType, type WasmFunction, wasmModule } from './wasm-writer.js';

// The first pass of vector search: the Hamming distance between the query's sign bits and every frame's, in
// WebAssembly (hardware popcount, 8 bytes at a time) instead of a JavaScript loop of 32-bit popcounts: at a million
// frames of 512 bits that is a few milliseconds instead of about a hundred. The records (the vector index's layout:
// [entry id][sign bits: words × u32] each) live in a WebAssembly memory so the kernel reads them in place, and only
// there: the index file is read straight into it (`kernelRecordsMemory`), and it grows in place
// (`growKernelRecords`), so the records are never held twice.
//
// A kernel memory: [query's bits][room for a file's header][records][histogram][distances][mask]. The records
// start at a fixed address, so a file can be read in before its record size is known; what follows them is
// scratch, rewritten by every search, and moves past them when they grow. Pages never written cost no memory.

/** Bytes reserved for the query's sign bits at the start of every kernel memory: up to 16 384 words (524 288-d). */
const QUERY_BYTES = 65536;
/** Bytes before the records for what is read with them (the index file's header, files/bits-file.ts). */
const PREFIX_BYTES = 256;
const RECORDS_AT = QUERY_BYTES + PREFIX_BYTES;
const PAGE = 65536;

interface Arena {
  memory: WebAssembly.Memory;
  words: number;
  /** Records this arena holds at most. */
  capacity: number;
  /** Where the scratch after the records ends (bytes written there may be left in the records' room after a grow). */
  end: number;
  query: Uint32Array;
  histogram: Uint32Array;
  distances: Uint16Array;
  mask: Uint8Array;
  at: { records: number; histogram: number; distances: number; mask: number };
  scan: (records: number, count: number, distances: number, histogram: number, mask: number) => void;
}

/** Record arrays living in a kernel memory, and that memory's views and kernel. */
const arenas = new WeakMap<Uint32Array, Arena>();
/** The kernel instantiated over each memory (one record size a memory). */
const instances = new WeakMap<WebAssembly.Memory, { words: number; scan: Arena['scan'] }>();
/** One compiled kernel for each record size (the loop is unrolled for it). */
const kernels = new Map<number, WebAssembly.Module>();

const align = (n: number) => Math.ceil(n / 16) * 16;
const pagesFor = (bytes: number) => Math.ceil(Math.max(bytes, 1) / PAGE);

/**
 * `records` (length a multiple of words + 1) in a kernel memory: the same array when it already is, else a copy
 * of it, of the same length, in a new memory. The caller keeps the returned array and writes to it from then on.
 */
export function inKernelMemory(records: Uint32Array, words: number): Uint32Array {
  const arena = arenas.get(records);
  if (arena?.words === words) return records;
  const inMemory = newKernelRecords(records.length, words);
  inMemory.set(records);
  return inMemory;
}

/** Zeroed records (`length` words) in a new kernel memory, for `words` words of sign bits a record. */
export function newKernelRecords(length: number, words: number): Uint32Array {
  return settle(new WebAssembly.Memory({ initial: pagesFor(RECORDS_AT + length * 4) }), length, words);
}

/**
 * `records` with room for `length` words (more than they have): the same memory grown, the records where they
 * were (not copied); `records` must not be used after (its memory's buffer is detached by the growth). Records
 * not in a kernel memory for `words` are copied into a new one.
 */
export function growKernelRecords(records: Uint32Array, length: number, words: number): Uint32Array {
  const arena = arenas.get(records);
  if (arena?.words !== words || records.buffer.byteLength === 0) {
    const grown = newKernelRecords(length, words);
    grown.set(records.subarray(0, Math.min(records.length, length)));
    return grown;
  }
  const had = records.length; // 0 once the growth below detaches the memory's old buffer
  const grown = settle(arena.memory, Math.max(length, had), words);
  // The old scratch now lies in the records' room, which must read as zeros like any new room.
  const stale = Math.min(grown.length, Math.ceil((arena.end - RECORDS_AT) / 4));
  if (stale > had) grown.fill(0, had, stale);
  return grown;
}

/** Kernel memory for the vector index's file (files/bits-file.ts): read into, grown, in place. */
export const kernelRecordsMemory: RecordsMemory = {
  reserve(prefix, bytes) {
    if (prefix > PREFIX_BYTES || prefix % 4 !== 0) throw new Error(`kernel memory: room for ${PREFIX_BYTES} bytes before the records, not ${prefix}`);
    const memory = new WebAssembly.Memory({ initial: pagesFor(RECORDS_AT + bytes) });
    return {
      bytes: new Uint8Array(memory.buffer, RECORDS_AT - prefix, prefix + bytes),
      records: (words, length) => settle(memory, length, words),
    };
  },
  grow: (records, length, words) => growKernelRecords(records, length, words),
};

/** The records of `memory` (`length` words at RECORDS_AT) with its scratch and kernel: grown to fit, views made anew. */
function settle(memory: WebAssembly.Memory, length: number, words: number): Uint32Array {
  const stride = words + 1;
  const capacity = Math.floor(length / stride);
  const histogram = align(RECORDS_AT + length * 4);
  const distances = align(histogram + (words * 32 + 2) * 4);
  const mask = align(distances + capacity * 2);
  const end = mask + capacity;
  const missing = pagesFor(end) - memory.buffer.byteLength / PAGE;
  if (missing > 0) memory.grow(missing);
  let instance = instances.get(memory);
  if (!instance) {
    const scan = new WebAssembly.Instance(kernel(words), { env: { memory } }).exports.distances as Arena['scan'];
    instances.set(memory, (instance = { words, scan }));
  }
  if (instance.words !== words) throw new Error(`kernel memory: made for ${instance.words} words a record, not ${words}`);
  const inMemory = new Uint32Array(memory.buffer, RECORDS_AT, length);
  arenas.set(inMemory, {
    memory,
    words,
    capacity,
    end,
    query: new Uint32Array(memory.buffer, 0, words),
    histogram: new Uint32Array(memory.buffer, histogram, words * 32 + 2),
    distances: new Uint16Array(memory.buffer, distances, capacity),
    mask: new Uint8Array(memory.buffer, mask, capacity),
    at: { records: RECORDS_AT, histogram, distances, mask },
    scan: instance.scan,
  });
  return inMemory;
}

/**
 * The entry ids of the `wanted` records nearest to `query` by Hamming distance among the first `count` records
 * (tombstones skipped; with `allowedSlots`, only those slots): every record closer than the distance `cut` at which
 * `wanted` is reached, in slot order, then records at `cut`, in slot order, up to `wanted`. No sort: a histogram
 * of distances finds `cut`. `records` must come from this module (`inKernelMemory`, `newKernelRecords`, `growKernelRecords`, `kernelRecordsMemory`).
 */
export function nearestBySignBits(records: Uint32Array, count: number, query: Uint32Array, wanted: number, allowedSlots?: Iterable<number>): number[] {
  const arena = arenas.get(records);
  if (!arena || arena.words !== query.length) throw new Error('nearestBySignBits: the records are not in kernel memory for this dimension');
  if (records.buffer !== arena.memory.buffer) throw new Error('nearestBySignBits: the records grew since (use the array growKernelRecords returned)');
  if (count > arena.capacity) throw new Error(`nearestBySignBits: ${count} records, room for ${arena.capacity}`);
  const { words, histogram, distances, mask } = arena;
  arena.query.set(query);
  histogram.fill(0);
  let maskAt = 0;
  if (allowedSlots) {
    mask.fill(0, 0, count);
    for (const slot of allowedSlots) if (slot < count) mask[slot] = 1;
    maskAt = arena.at.mask;
  }
  arena.scan(arena.at.records, count, arena.at.distances, arena.at.histogram, maskAt);

  // The smallest distance `cut` with at least `wanted` records at or below it.
  let cut = 0;
  for (let seen = histogram[0]!; seen < wanted && cut < words * 32; ) seen += histogram[++cut]!;
  let below = 0;
  for (let d = 0; d < cut; d++) below += histogram[d]!;
  const ties = Math.min(histogram[cut]!, Math.max(0, wanted - below));
  const stride = words + 1;
  const nearest: number[] = new Array(below + ties);
  let closer = 0;
  let tied = below;
  const end = below + ties;
  for (let slot = 0; slot < count && (closer < below || tied < end); slot++) {
    const distance = distances[slot]!;
    if (distance < cut) nearest[closer++] = records[slot * stride]!;
    else if (distance === cut && tied < end) nearest[tied++] = records[slot * stride]!;
  }
  return nearest;
}

/** The kernel for records of `words` words of sign bits (compiled once a size). */
function kernel(words: number): WebAssembly.Module {
  let compiled = kernels.get(words);
  if (!compiled) kernels.set(words, (compiled = new WebAssembly.Module(kernelBytes(words))));
  return compiled;
}

/**
 * `distances(records, count, distances, histogram, mask)`: for each of `count` records from address `records`,
 * the Hamming distance between its bits and the query's (at address 0) as a u16 at `distances`, and one more in
 * `histogram` (u32 per distance). A tombstone, or a record whose byte at `mask` is 0 (when mask is not 0), gets
 * words × 32 + 1 (farther than any) and is not counted. Unrolled for `words`: the query's bits stay in locals,
 * 64 bits at a time (i64.popcnt), the last 32 alone when `words` is odd.
 */
export function kernelBytes(words: number): Uint8Array<ArrayBuffer> {
  const [records, count, distances, histogram, mask] = [0, 1, 2, 3, 4];
  const [i, p, d, cell] = [5, 6, 7, 8];
  const pairs = Math.floor(words / 2);
  const odd = words % 2 === 1;
  const q = (j: number) => 9 + j; // i64 locals: the query's words 2j and 2j+1
  const qLast = 9 + pairs; // i32 local: the query's last word, when `words` is odd
  const stride = (words + 1) * 4;
  const far = words * 32 + 1;

  const loadQuery = [
    ...Array.from({ length: pairs }, (_, j) => [op.i32Const(0), op.i64Load(8 * j), op.set(q(j))].flat()),
    ...(odd ? [[...op.i32Const(0), ...op.i32Load(8 * pairs), ...op.set(qLast)]] : []),
  ];
  // The record's bits start after its id (4 bytes): popcount(bits ^ query), summed.
  const distance = [
    ...(pairs === 0 ? [op.i32Const(0)] : []),
    ...Array.from({ length: pairs }, (_, j) =>
      [op.get(p), op.i64Load(4 + 8 * j), op.get(q(j)), op.i64Xor(), op.i64Popcnt(), ...(j > 0 ? [op.i64Add()] : [])].flat(),
    ),
    ...(pairs > 0 ? [op.i32WrapI64()] : []),
    ...(odd ? [[...op.get(p), ...op.i32Load(4 + 8 * pairs), ...op.get(qLast), ...op.i32Xor(), ...op.i32Popcnt(), ...op.i32Add()]] : []),
  ];
  const excluded = [
    // id == TOMBSTONE
    op.get(p),
    op.i32Load(0),
    op.i32Const(TOMBSTONE | 0),
    op.i32Eq(),
    // mask != 0 && mask[i] == 0 (with no mask, byte i of the memory is read and ignored)
    op.get(mask),
    op.i32Const(0),
    op.i32Ne(),
    op.get(mask),
    op.get(i),
    op.i32Add(),
    op.i32Load8u(0),
    op.i32Eqz(),
    op.i32And(),
    op.i32Or(),
  ];
  const body = [
    ...loadQuery,
    op.get(records),
    op.set(p),
    op.block(),
    op.get(count),
    op.i32Eqz(),
    op.brIf(0),
    op.loop(),
    ...excluded,
    op.ifI32(),
    op.i32Const(far),
    op.else(),
    ...distance,
    op.tee(d),
    // histogram[d]++
    op.i32Const(2),
    op.i32Shl(),
    op.get(histogram),
    op.i32Add(),
    op.tee(cell),
    op.get(cell),
    op.i32Load(0),
    op.i32Const(1),
    op.i32Add(),
    op.i32Store(0),
    op.get(d),
    op.end(),
    op.set(d),
    // distances[i] = d
    op.get(distances),
    op.get(i),
    op.i32Const(1),
    op.i32Shl(),
    op.i32Add(),
    op.get(d),
    op.i32Store16(0),
    // next record
    op.get(p),
    op.i32Const(stride),
    op.i32Add(),
    op.set(p),
    op.get(i),
    op.i32Const(1),
    op.i32Add(),
    op.tee(i),
    op.get(count),
    op.i32LtU(),
    op.brIf(0),
    op.end(),
    op.end(),
  ];
  const fn: WasmFunction = {
    name: 'distances',
    params: [I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, ...Array<ValueType>(pairs).fill(I64), ...(odd ? [I32] : [])],
    body,
  };
  return wasmModule(1, [fn]);
}

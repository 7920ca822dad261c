// Just enough of the WebAssembly binary format to write small kernels by hand in TypeScript (the machine has no
// WebAssembly toolchain, and the kernel is a few hundred bytes): numbers as LEB128, the opcodes used, and a module of
// functions over one imported memory. Spec: https://webassembly.github.io/spec/core/binary/

export const I32: 0x7f = 0x7f;
export const I64: 0x7e = 0x7e;
export type ValueType = typeof I32 | typeof I64;

/** Unsigned LEB128. */
export function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** Signed LEB128 (32-bit values). */
export function sleb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

/** A memory access's immediate: alignment hint 1 byte (records are not aligned for 8-byte loads), then the offset. */
const memarg = (offset: number) => [0, ...uleb(offset)];

/** The instructions the kernels use; each returns its bytes. */
export const op = {
  block: () => [0x02, 0x40],
  loop: () => [0x03, 0x40],
  ifI32: () => [0x04, I32],
  else: () => [0x05],
  end: () => [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32Load: (offset = 0) => [0x28, ...memarg(offset)],
  i64Load: (offset = 0) => [0x29, ...memarg(offset)],
  i32Load8u: (offset = 0) => [0x2d, ...memarg(offset)],
  i32Load16u: (offset = 0) => [0x2f, ...memarg(offset)],
  i32Store: (offset = 0) => [0x36, ...memarg(offset)],
  i32Store16: (offset = 0) => [0x3b, ...memarg(offset)],
  i32Const: (value: number) => [0x41, ...sleb(value)],
  i32Eqz: () => [0x45],
  i32Eq: () => [0x46],
  i32Ne: () => [0x47],
  i32LtU: () => [0x49],
  i32GeU: () => [0x4f],
  i32Popcnt: () => [0x69],
  i32Add: () => [0x6a],
  i32And: () => [0x71],
  i32Or: () => [0x72],
  i32Xor: () => [0x73],
  i32Shl: () => [0x74],
  i64Popcnt: () => [0x7b],
  i64Add: () => [0x7c],
  i64Xor: () => [0x85],
  i32WrapI64: () => [0xa7],
};

export interface WasmFunction {
  name: string;
  params: ValueType[];
  /** Locals after the parameters, in order. */
  locals: ValueType[];
  /** The instructions, without the final `end`. */
  body: number[][];
}

const utf8 = (text: string) => [...uleb(Buffer.byteLength(text)), ...Buffer.from(text)];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];

/** A module importing `env.memory` (at least `minPages` pages of 64 KiB) and exporting `functions` (no results). */
export function wasmModule(minPages: number, functions: WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), 0]);
  const code = functions.map((f) => {
    const locals = vector(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.body.flat(), ...op.end()];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vector(types)),
    ...section(2, vector([[...utf8('env'), ...utf8('memory'), 0x02, 0x00, ...uleb(minPages)]])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(code)),
  ]);
}

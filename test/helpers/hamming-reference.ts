// The vector index's first pass as it was in JavaScript before the WebAssembly kernel (src/search/vector-index.ts,
// `candidates`, up to issue 24), kept verbatim as the reference the kernel must match (test/hamming-kernel.test.ts)
// and the "before" of bench/vector-pass.ts.
const TOMBSTONE = 0xffffffff;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Pass 1: Hamming distances, then the frames below a distance cut found by counting (no sort). */
export function referenceCandidates(
  records: Uint32Array,
  words: number,
  count: number,
  queryBits: Uint32Array,
  wanted: number,
  allowed?: Set<number>,
): number[] {
  const stride = words + 1;
  const far = words * 32 + 1;
  const distances = new Uint16Array(count);
  const histogram = new Uint32Array(far + 1);
  for (let i = 0; i < count; i++) {
    const base = i * stride;
    const id = records[base]!;
    if (id === TOMBSTONE || (allowed && !allowed.has(id))) {
      distances[i] = far;
      continue;
    }
    let distance = 0;
    for (let w = 0; w < words; w++) distance += popcount(records[base + 1 + w]! ^ queryBits[w]!);
    distances[i] = distance;
    histogram[distance]!++;
  }
  // The smallest distance `cut` with at least `wanted` frames at or below it.
  let cut = 0;
  for (let seen = histogram[0]!; seen < wanted && cut < words * 32; ) seen += histogram[++cut]!;
  const candidates: number[] = [];
  const ties: number[] = [];
  for (let i = 0; i < count; i++) {
    if (distances[i]! < cut) candidates.push(records[i * stride]!);
    else if (distances[i] === cut && ties.length < wanted) ties.push(records[i * stride]!);
  }
  candidates.push(...ties.slice(0, Math.max(0, wanted - candidates.length)));
  return candidates;
}

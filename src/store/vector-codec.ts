// How the SQLite store keeps a frame's vector (embeddings.vector, migration 13): 8-bit integers and one scale.
/**
 * A stored vector: a float32 scale (little-endian), then one signed byte a dimension (x ≈ byte × scale). A
 * 512-d vector takes 516 bytes instead of 2 048, so six rows share a 4 KB page instead of one, and the exact
 * rescoring of vector search reads a quarter of the bytes. The cosine of two decoded vectors differs from the
 * float32 one by about 10⁻³ (bench/retrieval.ts: unchanged figures).
 */
export function encodeStoredVector(vector: Float32Array): Buffer {
  let max = 0;
  for (const x of vector) max = Math.max(max, Math.abs(x));
  const scale = max / 127;
  const bytes = Buffer.alloc(4 + vector.length);
  bytes.writeFloatLE(scale, 0);
  if (scale > 0) for (let i = 0; i < vector.length; i++) bytes.writeInt8(Math.round(vector[i]! / scale), 4 + i);
  return bytes;
}

/**
 * The vector of a stored blob of `dim` dimensions: 8-bit (above) or, as written before migration 13 and still
 * read, float32 little-endian.
 */
export function decodeStoredVector(blob: Uint8Array, dim: number): Float32Array {
  if (blob.byteLength === dim * 4) return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
  if (blob.byteLength !== dim + 4) throw new Error(`a stored vector of ${blob.byteLength} bytes is neither ${dim} float32 nor ${dim} bytes`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const scale = view.getFloat32(0, true);
  const vector = new Float32Array(dim);
  for (let i = 0; i < dim; i++) vector[i] = view.getInt8(4 + i) * scale;
  return vector;
}

/** The float32 little-endian bytes of a stored blob (what PostgreSQL keeps; `openrecall migrate-db`). */
export function storedVectorAsFloat32(blob: Uint8Array, dim: number): Buffer {
  const vector = decodeStoredVector(blob, dim);
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

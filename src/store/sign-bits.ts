// Stored beside each vector (embeddings-repository) and computed for each query (search/vector-index).
/** Sign bits of a vector, 32 dimensions a word: the first, cheap pass of vector search (Hamming distance). */
export function signBits(vector: Float32Array): Uint32Array {
  const bits = new Uint32Array(Math.ceil(vector.length / 32));
  for (let i = 0; i < vector.length; i++) if (vector[i]! > 0) bits[i >>> 5]! |= 1 << (i & 31);
  return bits;
}

/** Turns texts into vectors. One implementation per kind of provider; `none` is simply no provider. */
export interface EmbeddingProvider {
  /** Identifies the vector space: vectors of different models are never compared. */
  readonly model: string;
  embed(texts: string[]): Promise<Float32Array[]>;
  /** False once the provider knows it cannot embed (its model failed to load); absent: always available. */
  available?(): boolean;
  close?(): Promise<void>;
}

/** Scales a vector to length 1, so cosine similarity is a dot product. */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm === 0 || !Number.isFinite(norm)) return vector;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

/** Text that represents a frame for embedding: what the AI said, then what was on screen, bounded. */
export function frameText(entry: { text: string | null; description: string | null; app: string | null; title: string | null }, maxChars = 4000): string {
  return [entry.description, entry.title, entry.text]
    .filter((s) => s?.trim())
    .join('\n')
    .slice(0, maxChars);
}

import { normalize } from '../ai/embedding-provider.js';
import { signBits } from '../store/sign-bits.js';
import type { EmbeddingsRepository } from '../store/ports.js';

export interface VectorHit {
  id: number;
  /** Cosine similarity, -1..1. */
  similarity: number;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Cosine top-k over every frame's vector of one model, in two passes: Hamming distance between sign bits
 * (48 bytes a frame for 384 dimensions, held in memory) picks a few hundred candidates, whose full vectors
 * are then read from SQLite and scored exactly. New vectors, written by the processor, are picked up
 * incrementally before each search.
 */
export class VectorIndex {
  private ids = new Int32Array(1024);
  private bits = new Uint32Array(0);
  private words = 0;
  private count = 0;
  private lastSeq = 0;
  private readonly position = new Map<number, number>();
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly model: string,
    private readonly repo: EmbeddingsRepository,
  ) {}

  get size(): number {
    return this.position.size;
  }

  /** Loads vectors stored since the last call (concurrent callers share one read). */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const rows = await this.repo.bitsSince(this.model, this.lastSeq);
    for (const row of rows) {
      this.lastSeq = row.seq;
      if (this.words === 0) {
        this.words = row.bits.length;
        this.bits = new Uint32Array(this.ids.length * this.words);
      }
      if (row.bits.length !== this.words) continue; // another dimension: not comparable
      let slot = this.position.get(row.entryId);
      if (slot === undefined) {
        if (this.count === this.ids.length) this.grow();
        slot = this.count++;
        this.ids[slot] = row.entryId;
        this.position.set(row.entryId, slot);
      }
      this.bits.set(row.bits, slot * this.words);
    }
  }

  private grow(): void {
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    const bits = new Uint32Array(ids.length * this.words);
    bits.set(this.bits);
    this.ids = ids;
    this.bits = bits;
  }

  /**
   * The `k` nearest frames to `query`. With `allowed`, only those frames are considered (filters applied
   * before the search, so a narrow filter still gets its k best).
   */
  async search(query: Float32Array, k: number, allowed?: Set<number>): Promise<VectorHit[]> {
    await this.refresh();
    if (this.count === 0 || k <= 0) return [];
    const unit = normalize(query);
    const queryBits = signBits(unit);
    if (queryBits.length !== this.words) return [];

    // Pass 1: Hamming distances, then the candidates below a distance cut found by counting (no sort).
    const candidatesWanted = Math.max(k * 4, 200);
    const distances = new Uint16Array(this.count);
    const histogram = new Uint32Array(this.words * 32 + 2);
    const words = this.words;
    for (let i = 0; i < this.count; i++) {
      if (allowed && !allowed.has(this.ids[i]!)) {
        distances[i] = words * 32 + 1;
        continue;
      }
      let distance = 0;
      const base = i * words;
      for (let w = 0; w < words; w++) distance += popcount(this.bits[base + w]! ^ queryBits[w]!);
      distances[i] = distance;
      histogram[distance]!++;
    }
    // The smallest distance `cut` with at least candidatesWanted frames at or below it.
    let cut = 0;
    for (let seen = histogram[0]!; seen < candidatesWanted && cut < words * 32; ) seen += histogram[++cut]!;
    const candidates: number[] = [];
    const ties: number[] = [];
    for (let i = 0; i < this.count; i++) {
      if (distances[i]! < cut) candidates.push(this.ids[i]!);
      else if (distances[i] === cut && ties.length < candidatesWanted) ties.push(this.ids[i]!);
    }
    candidates.push(...ties.slice(0, Math.max(0, candidatesWanted - candidates.length)));

    // Pass 2: exact cosine on the candidates' stored (normalised) vectors.
    const vectors = await this.repo.vectors(this.model, candidates);
    const hits: VectorHit[] = [];
    for (const [id, vector] of vectors) {
      if (vector.length !== unit.length) continue;
      let dot = 0;
      for (let d = 0; d < unit.length; d++) dot += vector[d]! * unit[d]!;
      hits.push({ id, similarity: dot });
    }
    return hits.sort((a, b) => b.similarity - a.similarity).slice(0, k);
  }
}

import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { normalize } from '../ai/embedding-provider.js';
import { BitsFile, type BitsFileHeader, TOMBSTONE } from '../files/bits-file.js';
import type { DataDir } from '../files/data-dir.js';
import type { EmbeddingsRepository, StoredBits } from '../store/ports.js';
import { signBits } from '../store/sign-bits.js';
import { EntrySlots } from './entry-slots.js';
import { growKernelRecords, inKernelMemory, kernelRecordsMemory, nearestBySignBits } from './hamming-kernel.js';

export interface VectorHit {
  id: number;
  /** Cosine similarity, -1..1. */
  similarity: number;
}

export interface VectorIndexOptions {
  /**
   * Where the sign bits persist: a path in a data dir, read and written through its DataDir (sealed when the data
   * dir is encrypted; files/bits-file.ts). Without one they are read from the store at each start.
   */
  file?: { dataDir: DataDir; path: string };
  /** Vectors read from the store at a time; the event loop runs between two reads. */
  batchRows?: number;
  log?: (message: string) => void;
  /** The log of changes is merged into a new base file once it passes this share of the base (default 0.1)… */
  mergeShare?: number;
  /** …and this many bytes (default 1 MiB). */
  mergeMinBytes?: number;
  /** Frames deleted (tombstones) are dropped, and the base rewritten, once they pass this share of the records (default 0.1). */
  tombstoneShare?: number;
}

/** The index file's name for a model: readable, and distinct for every model name. */
export function vectorIndexFileName(model: string): string {
  const slug = model.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return `vectors-${slug}-${createHash('sha256').update(model).digest('hex').slice(0, 8)}.bits`;
}

/**
 * Cosine top-k over every frame's vector of one model, in two passes: Hamming distance between sign bits
 * (64 bytes a frame for 512 dimensions, held in memory) picks a few hundred candidates, whose full vectors
 * are then read from the store and scored exactly. The sign bits persist in a file (`options.file`), read in one
 * go at start; vectors stored since (by the processor) are read from the store and appended before each search.
 * A file that does not match the store is rebuilt in the background: until then search by meaning finds nothing
 * (`ready` is false) and keyword search works. A frame deleted from the store (retention) is dropped when a
 * search meets it (its record becomes a tombstone).
 */
export class VectorIndex {
  /** Records of `stride` words: the entry id, then the sign bits. */
  private records: Uint32Array = new Uint32Array(0);
  private words = 0;
  private stride = 1;
  private count = 0;
  private live = 0;
  private lastSeq = 0;
  private lastEntryId = 0;
  private slots = new EntrySlots();
  private file: BitsFile | undefined;
  /** The base file failed to be written: the next merge writes it again. */
  private baseStale = false;
  /** Slots tombstoned by the search in progress, recorded in the file together. */
  private readonly dropped = new Set<number>();
  private opening: Promise<void> | undefined;
  private catchingUp: Promise<void> | undefined;
  private rebuilding = false;
  /**
   * Set when close() begins: nothing is read into the file or written after it (a lock wipes the keys once close
   * resolves: a base sealed after that would be sealed with a zeroed key, and fail to open at the unlock).
   */
  private closing = false;
  private readonly batchRows: number;

  constructor(
    private readonly model: string,
    private readonly repo: EmbeddingsRepository,
    private readonly options: VectorIndexOptions = {},
  ) {
    this.batchRows = options.batchRows ?? 5000;
  }

  get size(): number {
    return this.live;
  }

  /** False until the index is loaded, and while it is rebuilt from the store in the background. */
  get ready(): boolean {
    return this.opened && !this.rebuilding;
  }

  private opened = false;

  /** Loads the index, then the vectors stored since (concurrent callers share one read). A rebuild is not awaited. */
  async refresh(): Promise<void> {
    if (this.closing) return;
    this.opening ??= this.open();
    await this.opening;
    if (!this.rebuilding) await this.catchUp();
  }

  /** Resolves once the index is loaded and caught up, a background rebuild included. */
  async whenReady(): Promise<void> {
    await this.refresh();
    while (this.rebuilding) await this.catchingUp;
    await this.catchUp();
  }

  /**
   * Records what is pending, waits for the load, the read from the store and the merge in progress (none starts
   * after this call), and closes the file (its log fsynced). Once it resolves, no file is written with the cipher.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.opening?.catch(() => {});
    await this.catchingUp?.catch(() => {});
    this.recordDrops();
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  private async open(): Promise<void> {
    const where = this.options.file;
    const loaded = where ? await BitsFile.load(where.dataDir, where.path, this.model, kernelRecordsMemory, this.options.log) : undefined;
    if (loaded && this.closing) {
      await loaded.file.close();
      return;
    }
    if (loaded && (await this.matchesStore(loaded.header))) {
      this.adopt(loaded.header, loaded.records);
      this.file = loaded.file;
      this.opened = true;
      this.maybeMerge();
      return;
    }
    if (loaded) {
      this.options.log?.(`vector index ${where!.path}: does not match the database; rebuilding it`);
      await loaded.file.close();
    }
    // From the store: the first batch now (a small index is ready at once), the rest in the background.
    const more = await this.readBatch();
    this.opened = true;
    if (more) {
      this.rebuilding = true;
      this.catchUp()
        .catch((error: Error) => this.options.log?.(`vector index rebuild failed: ${error.message}`))
        .finally(() => {
          this.rebuilding = false;
        });
    }
  }

  /** The file is this store's when the last vector it read is still there, for the same frame. */
  private async matchesStore(header: BitsFileHeader): Promise<boolean> {
    if (header.count === 0) return false;
    return (await this.repo.entryAtSeq(this.model, header.lastSeq)) === header.lastEntryId;
  }

  private adopt(header: BitsFileHeader, records: Uint32Array): void {
    this.words = header.words;
    this.stride = header.words + 1;
    this.records = records;
    this.count = header.count;
    this.lastSeq = header.lastSeq;
    this.lastEntryId = header.lastEntryId;
    for (let slot = 0; slot < this.count; slot++) {
      const id = records[slot * this.stride]!;
      if (id === TOMBSTONE) continue;
      this.slots.set(id, slot);
      this.live++;
    }
  }

  private catchUp(): Promise<void> {
    this.catchingUp ??= (async () => {
      while (await this.readBatch()) await nextTurn();
      this.maybeMerge();
    })().finally(() => {
      this.catchingUp = undefined;
    });
    return this.catchingUp;
  }

  /** Reads the next batch of stored vectors into memory and the file; true when there may be more. */
  private async readBatch(): Promise<boolean> {
    if (this.closing) return false;
    const rows = await this.repo.bitsSince(this.model, this.lastSeq, this.batchRows);
    // Read before close() began: dropped (the next start reads them again), not written with a key being wiped.
    if (rows.length === 0 || this.closing) return false;
    const firstNew = this.count;
    const rewritten: number[] = [];
    for (const row of rows) {
      const slot = this.add(row);
      if (slot !== undefined && slot < firstNew) rewritten.push(slot);
    }
    this.persist(firstNew, rewritten);
    return rows.length >= this.batchRows;
  }

  /** Adds or replaces a frame's bits; returns its slot (undefined for a vector of another dimension). */
  private add(row: StoredBits): number | undefined {
    this.lastSeq = row.seq;
    this.lastEntryId = row.entryId;
    if (this.words === 0) {
      this.words = row.bits.length;
      this.stride = this.words + 1;
    }
    if (row.bits.length !== this.words) return undefined; // another dimension: not comparable
    let slot = this.slots.get(row.entryId);
    if (slot === undefined) {
      if ((this.count + 1) * this.stride > this.records.length) this.grow();
      slot = this.count++;
      this.live++;
      this.slots.set(row.entryId, slot);
    }
    this.records[slot * this.stride] = row.entryId;
    this.records.set(row.bits, slot * this.stride + 1);
    return slot;
  }

  /** Records a batch: the first one makes the base file (with everything so far), later ones a segment of its log. */
  private persist(firstNew: number, rewritten: number[]): void {
    const where = this.options.file;
    if (!where || this.words === 0) return;
    if (!this.file) {
      const { file, written } = BitsFile.create(where.dataDir, where.path, this.header(), () => this.records);
      this.file = file;
      written.catch((error: Error) => this.baseFailed(error));
      return;
    }
    const slots = [...rewritten];
    for (let slot = firstNew; slot < this.count; slot++) slots.push(slot);
    this.file.append(this.header(), slots, this.records);
  }

  private baseFailed(error: Error): void {
    this.baseStale = true;
    this.options.log?.(`vector index ${this.options.file?.path}: could not write the file (${error.message}); trying again at the next merge`);
  }

  /**
   * Merges the file's log into a new base when it has grown past its share, and drops the tombstones (from memory,
   * and from the file with that merge) when they pass theirs. In the background; one at a time.
   */
  private maybeMerge(): void {
    this.recordDrops();
    if (this.closing || this.file?.busy) return;
    const tombstones = this.count - this.live;
    const compact = tombstones > 0 && tombstones > (this.options.tombstoneShare ?? 0.1) * this.count;
    const sizes = this.file?.sizes;
    const grown =
      sizes !== undefined && sizes.logBytes > (this.options.mergeMinBytes ?? 1 << 20) && sizes.logBytes > (this.options.mergeShare ?? 0.1) * sizes.baseBytes;
    if (compact) this.compact();
    if (!this.file || !(compact || grown || this.baseStale)) return;
    this.baseStale = false;
    this.file.rewrite(this.header(), () => this.records).catch((error: Error) => this.baseFailed(error));
  }

  /** Moves the live records down over the tombstones (slots change: only when no merge is writing). */
  private compact(): void {
    const { records, stride } = this;
    let to = 0;
    for (let from = 0; from < this.count; from++) {
      const id = records[from * stride]!;
      if (id === TOMBSTONE) continue;
      if (to !== from) records.copyWithin(to * stride, from * stride, (from + 1) * stride);
      this.slots.set(id, to);
      to++;
    }
    records.fill(0, to * stride, this.count * stride);
    this.count = to;
  }

  /** The slots tombstoned since the last call, as one segment of the file's log. */
  private recordDrops(): void {
    if (this.dropped.size === 0) return;
    this.file?.append(this.header(), this.dropped, this.records);
    this.dropped.clear();
  }

  private header(): BitsFileHeader {
    return { model: this.model, words: this.words, count: this.count, lastSeq: this.lastSeq, lastEntryId: this.lastEntryId };
  }

  /** More room, in the kernel's memory: grown in place (untouched room costs no memory until written). */
  private grow(): void {
    this.records = growKernelRecords(this.records, Math.max(1024, this.count * 2) * this.stride, this.words);
  }

  /** A frame the store no longer has: its record stays as a tombstone, skipped by every later search. */
  private drop(entryId: number): void {
    const slot = this.slots.get(entryId);
    if (slot === undefined) return;
    this.slots.delete(entryId);
    this.live--;
    this.records[slot * this.stride] = TOMBSTONE;
    if (this.dropped.size === 0) {
      queueMicrotask(() => {
        if (this.dropped.size > 0) this.maybeMerge();
      });
    }
    this.dropped.add(slot);
  }

  /**
   * The `k` nearest frames to `query`. With `allowed`, only those frames are considered (filters applied
   * before the search, so a narrow filter still gets its k best). Empty while the index is being rebuilt.
   */
  async search(query: Float32Array, k: number, allowed?: Set<number>): Promise<VectorHit[]> {
    await this.refresh();
    if (!this.ready || this.live === 0 || k <= 0) return [];
    const unit = normalize(query);
    const queryBits = signBits(unit);
    if (queryBits.length !== this.words) return [];
    for (let attempt = 0; ; attempt++) {
      const candidates = this.candidates(queryBits, Math.max(k * 4, 200), allowed);
      // Pass 2: exact cosine on the candidates' stored (normalised) vectors.
      const vectors = await this.repo.vectors(this.model, candidates);
      const hits: VectorHit[] = [];
      for (const [id, vector] of vectors) {
        if (vector.length !== unit.length) continue;
        let dot = 0;
        for (let d = 0; d < unit.length; d++) dot += vector[d]! * unit[d]!;
        hits.push({ id, similarity: dot });
      }
      const gone = candidates.filter((id) => !vectors.has(id));
      for (const id of gone) this.drop(id);
      // Deleted frames took candidate places: look again, now without them.
      if (gone.length === 0 || hits.length >= k || attempt === 2) return hits.sort((a, b) => b.similarity - a.similarity).slice(0, k);
    }
  }

  /** Pass 1: the `wanted` frames nearest by Hamming distance between sign bits (hamming-kernel.ts, in WebAssembly). */
  private candidates(queryBits: Uint32Array, wanted: number, allowed?: Set<number>): number[] {
    // Loaded into, or grown in, the kernel's memory already: this only checks it (no copy).
    this.records = inKernelMemory(this.records, this.words);
    const allowedSlots = allowed && [...allowed].flatMap((id) => this.slots.get(id) ?? []);
    return nearestBySignBits(this.records, this.count, queryBits, wanted, allowedSlots);
  }
}

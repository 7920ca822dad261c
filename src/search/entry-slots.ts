/** Entry ids below this are looked up in a flat array (4 bytes an id: 4 MB at a million frames); above, a Map. */
const DENSE_LIMIT = 1 << 26;

/** Entry id → slot of the vector index. Ids are dense (database row ids), so a flat array replaces a Map of a million. */
export class EntrySlots {
  /** slot + 1; 0 for none. */
  private dense = new Int32Array(0);
  private readonly sparse = new Map<number, number>();

  get(id: number): number | undefined {
    if (id >= DENSE_LIMIT) return this.sparse.get(id);
    const value = id < this.dense.length ? this.dense[id]! : 0;
    return value === 0 ? undefined : value - 1;
  }

  set(id: number, slot: number): void {
    if (id >= DENSE_LIMIT) {
      this.sparse.set(id, slot);
      return;
    }
    if (id >= this.dense.length) {
      const grown = new Int32Array(Math.min(DENSE_LIMIT, Math.max(1024, id + 1, this.dense.length * 2)));
      grown.set(this.dense);
      this.dense = grown;
    }
    this.dense[id] = slot + 1;
  }

  delete(id: number): void {
    if (id >= DENSE_LIMIT) this.sparse.delete(id);
    else if (id < this.dense.length) this.dense[id] = 0;
  }
}

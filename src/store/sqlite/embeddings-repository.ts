import { signBits } from '../sign-bits.js';
import { decodeStoredVector, encodeStoredVector } from '../vector-codec.js';
import type { EmbeddingsRepository, FramePosition, MissingVectorsStep, StoredBits } from '../ports.js';
import type { Statement } from 'better-sqlite3-multiple-ciphers';
import type { Db } from './database.js';

/** How many statements of vectors() (one per number of ids) are kept prepared. */
const VECTOR_STATEMENTS_KEPT = 8;

const asBuffer = (array: Uint32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

/** Vectors per frame and model. The processor writes them; the server's vector index reads them. */
export class SqliteEmbeddingsRepository implements EmbeddingsRepository {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      remove: db.prepare(`DELETE FROM embeddings WHERE entry_id = ? AND model = ?`),
      insert: db.prepare(`INSERT INTO embeddings (entry_id, model, dim, vector, bits, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
      has: db.prepare(`SELECT 1 FROM embeddings WHERE entry_id = ? AND model = ?`).pluck(),
      // COMPLETED frames less those with a vector, counted without a lookup a frame (0.3-0.6 s at 1 000 000, at
      // each queue status): the model's vectors less those of frames in another status (few: the queue). A vector
      // never outlives its frame (ON DELETE CASCADE).
      missingCount: db
        .prepare(
          `SELECT max(0, (SELECT count(*) FROM entries WHERE status = 'COMPLETED')
             - (SELECT count(*) FROM embeddings INDEXED BY idx_embeddings_model_seq WHERE model = @model)
             + (SELECT count(*) FROM entries e CROSS JOIN embeddings m ON m.entry_id = e.id AND m.model = @model
                WHERE e.status IN ('PENDING', 'PROCESSING', 'FAILED')))`,
        )
        .pluck(),
      missingIds: db
        .prepare(
          `SELECT e.id FROM entries e WHERE e.status = 'COMPLETED'
           AND NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = e.id AND m.model = ?)
         ORDER BY e.timestamp DESC LIMIT ?`,
        )
        .pluck(),
      // A window of the history, newest first (idx_entries_status_timestamp, covering: the rowid ends it), and the
      // frames of it without a vector (one lookup each in the unique (entry_id, model) index).
      missingInWindow: db.prepare(
        `SELECT id, timestamp FROM (SELECT id, timestamp FROM entries WHERE status = 'COMPLETED' AND (timestamp, id) < (@timestamp, @id)
                                    ORDER BY timestamp DESC, id DESC LIMIT @window) w
         WHERE NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = w.id AND m.model = @model)
         ORDER BY timestamp DESC, id DESC LIMIT @limit`,
      ),
      windowEnd: db.prepare(
        `SELECT id, timestamp FROM entries WHERE status = 'COMPLETED' AND (timestamp, id) < (@timestamp, @id)
         ORDER BY timestamp DESC, id DESC LIMIT 1 OFFSET @window - 1`,
      ),
      since: db.prepare(`SELECT seq, entry_id AS entryId, bits FROM embeddings WHERE model = ? AND seq > ? AND bits IS NOT NULL ORDER BY seq LIMIT ?`),
      entryAtSeq: db.prepare(`SELECT entry_id FROM embeddings WHERE seq = ? AND model = ?`).pluck(),
    };
  }

  /** Stores a frame's (normalised) vector, 8 bits a dimension (vector-codec.ts); null: the frame had no text to embed. */
  async save(entryId: number, model: string, vector: Float32Array | null): Promise<void> {
    this.db.transaction(() => {
      this.stmt.remove.run(entryId, model);
      this.stmt.insert.run(
        entryId,
        model,
        vector?.length ?? 0,
        vector ? encodeStoredVector(vector) : null,
        vector ? asBuffer(signBits(vector)) : null,
        Date.now() / 1000,
      );
    })();
  }

  async has(entryId: number, model: string): Promise<boolean> {
    return this.stmt.has.get(entryId, model) !== undefined;
  }

  async missingCount(model: string): Promise<number> {
    return this.stmt.missingCount.get({ model }) as number;
  }

  /** COMPLETED frames without a vector of this model, newest first (what a user searches most). */
  async missingIds(model: string, limit: number): Promise<number[]> {
    return this.stmt.missingIds.all(model, limit) as number[];
  }

  async missingIdsAfter(model: string, after: FramePosition | null, window: number, limit: number): Promise<MissingVectorsStep> {
    const from = after ?? { timestamp: Number.MAX_VALUE, id: Number.MAX_SAFE_INTEGER };
    const found = this.stmt.missingInWindow.all({ model, timestamp: from.timestamp, id: from.id, window, limit }) as FramePosition[];
    if (found.length === limit) return { found, last: found[limit - 1]! };
    const last = this.stmt.windowEnd.get({ timestamp: from.timestamp, id: from.id, window }) as FramePosition | undefined;
    return { found, last: last ?? null };
  }

  /** Sign bits stored after `seq`, for the in-memory index to catch up incrementally. */
  async bitsSince(model: string, seq: number, limit: number): Promise<StoredBits[]> {
    return (this.stmt.since.all(model, seq, limit) as Array<{ seq: number; entryId: number; bits: Buffer }>).map((row) => ({
      seq: row.seq,
      entryId: row.entryId,
      bits: new Uint32Array(row.bits.buffer.slice(row.bits.byteOffset, row.bits.byteOffset + row.bits.byteLength)),
    }));
  }

  async entryAtSeq(model: string, seq: number): Promise<number | undefined> {
    return this.stmt.entryAtSeq.get(seq, model) as number | undefined;
  }

  /** Full vectors of these frames (existing frames only: deleted ones are gone through the cascade). */
  async vectors(model: string, entryIds: number[]): Promise<Map<number, Float32Array>> {
    const result = new Map<number, Float32Array>();
    for (let i = 0; i < entryIds.length; i += 500) {
      const chunk = entryIds.slice(i, i + 500);
      const rows = this.vectorsStatement(chunk.length).all(model, ...chunk) as Array<{ id: number; dim: number; vector: Buffer }>;
      for (const row of rows) result.set(row.id, decodeStoredVector(row.vector, row.dim));
    }
    return result;
  }

  /**
   * The statement reading `n` frames' vectors, kept for the next search (a vector search reads 200-600 candidates
   * in chunks of 500: a handful of sizes recur, and preparing 500 placeholders cost ~0.3-0.6 ms a search). The SQL
   * is the same as preparing it each time, so the rows come back in the same order (ties in the rescoring keep
   * their order).
   */
  private vectorsStatement(n: number): Statement {
    let statement = this.vectorStatements.get(n);
    if (statement) {
      this.vectorStatements.delete(n); // most recently used last
    } else {
      statement = this.db.prepare(
        `SELECT entry_id AS id, dim, vector FROM embeddings WHERE model = ? AND vector IS NOT NULL AND entry_id IN (${Array(n).fill('?').join(',')})`,
      );
      if (this.vectorStatements.size >= VECTOR_STATEMENTS_KEPT) this.vectorStatements.delete(this.vectorStatements.keys().next().value!);
    }
    this.vectorStatements.set(n, statement);
    return statement;
  }

  private readonly vectorStatements = new Map<number, Statement>();
}

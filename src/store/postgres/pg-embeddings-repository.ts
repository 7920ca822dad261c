import type pg from 'pg';
import type { EmbeddingsRepository, FramePosition, MissingVectorsStep, StoredBits } from '../ports.js';
import { signBits } from '../sign-bits.js';
import { query, transaction } from './pg-query.js';

const asBuffer = (array: Float32Array | Uint32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
// Copies: a Buffer from the driver may start at an offset a Float32Array/Uint32Array view could not use.
const copyBytes = (buffer: Buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);

const MISSING = `FROM entries e WHERE e.status = 'COMPLETED' AND NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = e.id AND m.model = $1)`;

/** Vectors per frame and model (float32 little-endian in bytea) with their sign bits. */
export class PgEmbeddingsRepository implements EmbeddingsRepository {
  constructor(private readonly pool: pg.Pool) {}

  async save(entryId: number, model: string, vector: Float32Array | null): Promise<void> {
    await transaction(this.pool, async (client) => {
      // bitsSince reads by seq: writers take turns so that seq order is commit order, and a reader that has
      // seen seq N never later finds a smaller seq committed behind it.
      await query(client, `SELECT pg_advisory_xact_lock(hashtext('openrecall_embeddings_seq'))`);
      await query(
        client,
        `INSERT INTO embeddings (entry_id, model, dim, vector, bits, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (entry_id, model) DO UPDATE SET seq = DEFAULT, dim = excluded.dim, vector = excluded.vector, bits = excluded.bits,
           created_at = excluded.created_at`,
        [entryId, model, vector?.length ?? 0, vector ? asBuffer(vector) : null, vector ? asBuffer(signBits(vector)) : null, Date.now() / 1000],
      );
    });
  }

  async has(entryId: number, model: string): Promise<boolean> {
    return (await query(this.pool, 'SELECT 1 FROM embeddings WHERE entry_id = $1 AND model = $2', [entryId, model])).length > 0;
  }

  async missingCount(model: string): Promise<number> {
    const [row] = await query<{ n: number }>(this.pool, `SELECT count(*) AS n ${MISSING}`, [model]);
    return row!.n;
  }

  async missingIds(model: string, limit: number): Promise<number[]> {
    return (await query<{ id: number }>(this.pool, `SELECT e.id ${MISSING} ORDER BY e.timestamp DESC LIMIT $2`, [model, limit])).map((r) => r.id);
  }

  async missingIdsAfter(model: string, after: FramePosition | null, window: number, limit: number): Promise<MissingVectorsStep> {
    const from = after ?? { timestamp: Number.MAX_VALUE, id: Number.MAX_SAFE_INTEGER };
    const rows = await query<{ id: number; timestamp: number; missing: boolean }>(
      this.pool,
      `WITH w AS (SELECT id, timestamp FROM entries WHERE status = 'COMPLETED' AND (timestamp, id) < ($2, $3)
                  ORDER BY timestamp DESC, id DESC LIMIT $4)
       SELECT id, timestamp, NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = w.id AND m.model = $1) AS missing
       FROM w ORDER BY timestamp DESC, id DESC`,
      [model, from.timestamp, from.id, window],
    );
    const found: FramePosition[] = [];
    for (const row of rows) {
      if (!row.missing) continue;
      found.push({ timestamp: Number(row.timestamp), id: Number(row.id) });
      if (found.length === limit) return { found, last: { timestamp: Number(row.timestamp), id: Number(row.id) } };
    }
    const last = rows.at(-1);
    return { found, last: rows.length < window || !last ? null : { timestamp: Number(last.timestamp), id: Number(last.id) } };
  }

  async bitsSince(model: string, seq: number, limit: number): Promise<StoredBits[]> {
    const rows = await query<{ seq: number; entry_id: number; bits: Buffer }>(
      this.pool,
      'SELECT seq, entry_id, bits FROM embeddings WHERE model = $1 AND seq > $2 AND bits IS NOT NULL ORDER BY seq LIMIT $3',
      [model, seq, limit],
    );
    return rows.map((row) => ({ seq: row.seq, entryId: row.entry_id, bits: new Uint32Array(copyBytes(row.bits)) }));
  }

  async entryAtSeq(model: string, seq: number): Promise<number | undefined> {
    const [row] = await query<{ entry_id: number }>(this.pool, 'SELECT entry_id FROM embeddings WHERE seq = $1 AND model = $2', [seq, model]);
    return row?.entry_id;
  }

  async vectors(model: string, entryIds: number[]): Promise<Map<number, Float32Array>> {
    const result = new Map<number, Float32Array>();
    if (entryIds.length === 0) return result;
    const rows = await query<{ id: number; vector: Buffer }>(
      this.pool,
      'SELECT entry_id AS id, vector FROM embeddings WHERE model = $1 AND vector IS NOT NULL AND entry_id = ANY($2::bigint[])',
      [model, entryIds],
    );
    for (const row of rows) result.set(row.id, new Float32Array(copyBytes(row.vector)));
    return result;
  }
}

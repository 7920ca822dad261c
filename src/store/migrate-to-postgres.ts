import type Database from 'better-sqlite3-multiple-ciphers';
import type pg from 'pg';
import { cjkIndexText } from './cjk.js';
import { storedVectorAsFloat32 } from './vector-codec.js';
import { checkTargetHoldsOnlyOurFrames, connectTarget } from './migrate-target.js';
import { openKeyedDatabase } from './sqlite/database.js';
import type { DatabaseKey } from '../encryption/data-key.js';

export { MigrateRefusedError } from './migrate-target.js';

/** One table's copy: what the SQLite database holds, and what PostgreSQL holds after the copy. */
export interface TableCount {
  table: string;
  sqlite: number;
  postgres: number;
}

export interface CopyOptions {
  log?: (message: string) => void;
  /** Called after each committed batch (a progress line). */
  onProgress?: (table: string, copied: number, total: number) => void;
  batchSize?: number;
  /** The raw key of an encrypted data dir's database and its cipher: keyed before anything is read. */
  databaseKey?: DatabaseKey;
}

interface TableCopy {
  table: string;
  /** Columns copied by name (both stores use the same names). */
  columns: string[];
  /**
   * The unique key rows are copied in order of, so an interrupted copy resumes after the largest key PostgreSQL
   * already holds. Without one, the (small) table is copied in one transaction.
   */
  key?: string[];
  /** Adjusts a row on its way (SQLite → PostgreSQL). */
  map?: (row: Record<string, unknown>) => Record<string, unknown>;
}

// Not the legacy `embedding` column: vectors live in `embeddings`. Not worker_id/lease_expires_at: no lease survives.
const ENTRY_COLUMNS = [
  'id',
  'timestamp',
  'status',
  'app',
  'title',
  'capture_id',
  'image_path',
  'monitor',
  'width',
  'height',
  'bytes',
  'received_at',
  'attempts',
  'last_error',
  'processing_started_at',
  'processing_finished_at',
  'description',
  'text',
  'text_source',
  'browser_url',
  'supplied_text',
  'client_metadata',
  'redaction_version',
  'redactions',
];

// In foreign-key order. Layers are copied without `refs` (0): the reference rows copied after them count them (trigger).
const TABLES: TableCopy[] = [
  {
    table: 'entries',
    columns: ENTRY_COLUMNS,
    key: ['id'],
    // No worker holds a frame after the move: one caught mid-processing is simply processed again.
    map: (row) => (row.status === 'PROCESSING' ? { ...row, status: 'PENDING', processing_started_at: null } : row),
  },
  { table: 'compact_layers', columns: ['id', 'path', 'bytes', 'sha256'], key: ['id'] },
  { table: 'compact_frames', columns: ['entry_id', 'monitor', 'manifest_bytes', 'original_bytes', 'compacted_at'], key: ['entry_id'] },
  { table: 'compact_refs', columns: ['entry_id', 'layer_id'], key: ['entry_id', 'layer_id'] },
  {
    table: 'embeddings',
    columns: ['seq', 'entry_id', 'model', 'dim', 'vector', 'bits', 'created_at'],
    key: ['seq'],
    // SQLite keeps 8 bits a dimension (vector-codec.ts); PostgreSQL float32.
    map: (row) => (row.vector ? { ...row, vector: storedVectorAsFloat32(row.vector as Uint8Array, row.dim as number) } : row),
  },
  {
    table: 'capture_clients',
    columns: [
      'id',
      'kind',
      'host',
      'version',
      'address',
      'first_seen',
      'last_seen',
      'heartbeat_seconds',
      'paused',
      'state',
      'buffer_bytes',
      'buffer_items',
      'desired_paused',
      'desired_revision',
      'report',
    ],
  },
  { table: 'settings', columns: ['key', 'value', 'revision', 'updated_at'] },
];

/** Identity columns (migrations/001-core.ts) whose sequence must continue after the copied ids. */
const IDENTITY_COLUMNS: Array<[table: string, column: string]> = [
  ['entries', 'id'],
  ['embeddings', 'seq'],
];

type Row = Record<string, unknown>;

/**
 * Copies a SQLite database (already at the newest schema) into PostgreSQL (created or upgraded first), table by
 * table in key order, one transaction per batch, skipping rows already there: an interrupted copy is resumed by
 * running it again. Refuses, before writing a row, a PostgreSQL database holding frames this file does not.
 * Returns both sides' counts; the caller calls it done only when they agree.
 */
export async function copySqliteToPostgres(sqliteFile: string, url: string, options: CopyOptions = {}): Promise<TableCount[]> {
  const batchSize = options.batchSize ?? 500;
  const source = openKeyedDatabase(sqliteFile, { readonly: true, fileMustExist: true }, options.databaseKey);
  let target: pg.Client | undefined;
  try {
    target = await connectTarget(url, options.log);
    await checkTargetHoldsOnlyOurFrames(source, target, url);
    const counts: TableCount[] = [];
    for (const copy of TABLES) {
      const total = source.prepare(`SELECT count(*) FROM ${copy.table}`).pluck().get() as number;
      // SQL cannot make CJK bigrams: they are computed here from the copied OCR text (PostgreSQL migration 2).
      const columns = copy.table === 'entries' ? [...copy.columns, 'cjk_grams'] : copy.columns;
      if (copy.key) await copyInKeyOrder(source, target, { ...copy, key: copy.key }, columns, total, batchSize, options);
      else await copyWhole(source, target, copy, columns, total, batchSize, options);
      counts.push({ table: copy.table, sqlite: total, postgres: await count(target, `SELECT count(*) AS n FROM ${copy.table}`) });
    }
    counts.push({
      table: 'layer refs',
      sqlite: source.prepare('SELECT coalesce(sum(refs), 0) FROM compact_layers').pluck().get() as number,
      postgres: await count(target, 'SELECT coalesce(sum(refs), 0) AS n FROM compact_layers'),
    });
    for (const [table, column] of IDENTITY_COLUMNS) {
      await target.query(`SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(${column}) FROM ${table}), 0) + 1, false)`, [table, column]);
    }
    await target.query(`ANALYZE ${TABLES.map((t) => t.table).join(', ')}`);
    return counts;
  } finally {
    source.close();
    await target?.end().catch(() => {});
  }
}

async function count(target: pg.Client, sql: string): Promise<number> {
  return Number((await target.query(sql)).rows[0].n);
}

async function copyInKeyOrder(
  source: Database.Database,
  target: pg.Client,
  copy: TableCopy & { key: string[] },
  columns: string[],
  total: number,
  batchSize: number,
  options: CopyOptions,
): Promise<void> {
  const key = copy.key.join(', ');
  const placeholders = copy.key.map(() => '?').join(', ');
  const descending = copy.key.map((k) => `${k} DESC`).join(', ');
  const [last] = (await target.query(`SELECT ${key} FROM ${copy.table} ORDER BY ${descending} LIMIT 1`)).rows as Row[];
  let after = last ? copy.key.map((k) => Number(last[k])) : undefined;
  const select = `SELECT ${copy.columns.join(', ')} FROM ${copy.table}`;
  const first = source.prepare(`${select} ORDER BY ${key} LIMIT ${batchSize}`);
  const next = source.prepare(`${select} WHERE (${key}) > (${placeholders}) ORDER BY ${key} LIMIT ${batchSize}`);
  let copied = after ? (source.prepare(`SELECT count(*) FROM ${copy.table} WHERE (${key}) <= (${placeholders})`).pluck().get(after) as number) : 0;
  for (;;) {
    const rows = (after ? next.all(after) : first.all()) as Row[];
    if (rows.length === 0) return;
    await inTransaction(target, () => insert(target, copy, columns, rows));
    copied += rows.length;
    const lastRow = rows.at(-1)!;
    after = copy.key.map((k) => lastRow[k] as number);
    options.onProgress?.(copy.table, copied, total);
  }
}

/** A table without an ordered key, all at once: nothing of it is in PostgreSQL until the whole table is. */
async function copyWhole(
  source: Database.Database,
  target: pg.Client,
  copy: TableCopy,
  columns: string[],
  total: number,
  batchSize: number,
  options: CopyOptions,
): Promise<void> {
  const rows = source.prepare(`SELECT ${copy.columns.join(', ')} FROM ${copy.table}`).all() as Row[];
  await inTransaction(target, async () => {
    for (let start = 0; start < rows.length; start += batchSize) await insert(target, copy, columns, rows.slice(start, start + batchSize));
  });
  options.onProgress?.(copy.table, total, total);
}

async function insert(target: pg.Client, copy: TableCopy, columns: string[], rows: Row[]): Promise<void> {
  const values: unknown[] = [];
  const tuples = rows.map((raw) => {
    const row = copy.map ? copy.map(raw) : raw;
    const cells = columns.map((column) => {
      values.push(column === 'cjk_grams' ? cjkIndexText(row.text as string | null) || null : row[column]);
      return `$${values.length}`;
    });
    return `(${cells.join(', ')})`;
  });
  await target.query(`INSERT INTO ${copy.table} (${columns.join(', ')}) OVERRIDING SYSTEM VALUE VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, values);
}

async function inTransaction(target: pg.Client, work: () => Promise<void>): Promise<void> {
  await target.query('BEGIN');
  try {
    await work();
    await target.query('COMMIT');
  } catch (error) {
    await target.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

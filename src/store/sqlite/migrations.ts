import fs from 'node:fs';
import { newerSchemaMessage, StoreOpenError } from '../ports.js';
import path from 'node:path';
import type Database from 'better-sqlite3-multiple-ciphers';
import { cjkIndexText } from '../cjk.js';
import { decodeStoredVector, encodeStoredVector } from '../vector-codec.js';
import { createClientsAndSettings } from './migration-clients.js';

export interface MigrationContext {
  dataDir: string;
  log: (message: string) => void;
}

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database, context: MigrationContext): void;
}

/**
 * Versioned migrations, tracked in PRAGMA user_version. Each runs inside its own transaction, so a crash
 * mid-migration leaves the previous version intact. Later features append to this list.
 */
export const migrations: Migration[] = [
  { version: 1, name: 'entries table with task-queue fields (upgrades Python OpenRecall databases)', up: createOrUpgradeEntries },
  { version: 2, name: 'full-text indexes (words with stemming, trigrams for substrings and CJK)', up: createFullTextIndexes },
  { version: 3, name: 'embeddings table', up: createEmbeddings },
  { version: 4, name: 'storage index (status, bytes) for the storage figures of retention', up: createStorageIndex },
  { version: 5, name: 'case-insensitive app index for search filters', up: createAppSearchIndex },
  { version: 6, name: 'bigram index of CJK OCR text', up: createCjkIndex },
  { version: 7, name: 'compacted frames: tile layers with reference counts', up: createCompactionTables },
  { version: 8, name: 'runtime settings and capture clients (capture control)', up: createClientsAndSettings },
  { version: 9, name: 'processing leases (worker id, lease expiry) on entries', up: addLeases },
  { version: 10, name: "client-supplied text, browser URL and metadata on entries; clients' full reports (MyRecall v3)", up: addClientSuppliedFields },
  { version: 11, name: 'redaction marker (rules version, what was redacted) on entries', up: addRedaction },
  { version: 12, name: 'narrow index of the search filter columns by id (keyword search checks its matches there)', up: createSearchFilterIndex },
  { version: 13, name: 'vectors stored in 8 bits a dimension (a quarter of the space)', up: shrinkVectors },
  { version: 14, name: 'partial index of the frames still pointing at an upload (start-up reads only those)', up: createIncomingIndex },
  { version: 15, name: "an upload's bytes check on entries (uploads written in place, whose names do not carry it)", up: addUploadCheck },
];

/** The schema version this OpenRecall knows up to. */
export const LATEST_VERSION = migrations[migrations.length - 1]!.version;

/** Refuses a database written by a newer OpenRecall, before anything is changed in it. */
export function checkSchemaVersion(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > LATEST_VERSION) {
    throw new StoreOpenError(newerSchemaMessage(current, LATEST_VERSION));
  }
}

function addLeases(db: Database.Database): void {
  db.exec(`ALTER TABLE entries ADD COLUMN worker_id TEXT; ALTER TABLE entries ADD COLUMN lease_expires_at REAL;`);
}

/**
 * Version 10. What a client sends beside the image (MyRecall v3): its own text of the screen (accessibility),
 * which the OCR stage turns into the frame's text; the browser's URL; every metadata field it sent, as JSON.
 * A client's whole heartbeat report (permission, queue, who owns its switches) as JSON.
 */
function addClientSuppliedFields(db: Database.Database): void {
  db.exec(`
    ALTER TABLE entries ADD COLUMN text_source TEXT;
    ALTER TABLE entries ADD COLUMN browser_url TEXT;
    ALTER TABLE entries ADD COLUMN supplied_text TEXT;
    ALTER TABLE entries ADD COLUMN client_metadata TEXT;
    CREATE INDEX idx_entries_browser_url ON entries(browser_url COLLATE NOCASE) WHERE browser_url IS NOT NULL;
    ALTER TABLE capture_clients ADD COLUMN report TEXT;`);
}

/** Version 11. The redaction marker: which rules version redacted a frame, and what it hid (never values). */
function addRedaction(db: Database.Database): void {
  db.exec(`ALTER TABLE entries ADD COLUMN redaction_version INTEGER; ALTER TABLE entries ADD COLUMN redactions TEXT;
    CREATE INDEX idx_entries_redaction ON entries(redaction_version, timestamp) WHERE status = 'COMPLETED';`);
}

export function runMigrations(db: Database.Database, context: MigrationContext): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db, context);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
    context.log(`database migrated to version ${migration.version}: ${migration.name}`);
  }
}

// Small columns first, the large ones (OCR text, description, legacy vector) last: searches and queue queries
// read the leading columns of many rows, which then never touch a row's overflow pages.
const ENTRIES_COLUMNS = `
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp REAL NOT NULL,
  status TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
  app TEXT,
  title TEXT,
  capture_id TEXT UNIQUE,
  image_path TEXT,
  monitor INTEGER,
  width INTEGER,
  height INTEGER,
  bytes INTEGER,
  received_at REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  processing_started_at REAL,
  processing_finished_at REAL,
  description TEXT,
  text TEXT,
  embedding BLOB`;

const ENTRIES_INDEXES = `
  CREATE INDEX IF NOT EXISTS idx_timestamp ON entries(timestamp);
  CREATE INDEX IF NOT EXISTS idx_entries_status_timestamp ON entries(status, timestamp);
  CREATE INDEX IF NOT EXISTS idx_entries_app ON entries(app);
  CREATE INDEX IF NOT EXISTS idx_entries_finished ON entries(processing_finished_at);`;

function tableColumns(db: Database.Database, table: string): Set<string> {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

/**
 * Version 1. On a fresh database this creates `entries`. On a database made by the Python OpenRecall
 * (`entries` with `timestamp INTEGER UNIQUE`, optional `description` and `status`) it rebuilds the table:
 * SQLite cannot drop a UNIQUE constraint in place, and two monitors may capture in the same second.
 * Every legacy row is copied with its id; rows without a status become COMPLETED; the image path is
 * recorded from the file actually present (`<timestamp>.png`, else `.webp`).
 */
function createOrUpgradeEntries(db: Database.Database, context: MigrationContext): void {
  const legacy = tableColumns(db, 'entries');
  if (legacy.size === 0) {
    db.exec(`CREATE TABLE entries (${ENTRIES_COLUMNS});${ENTRIES_INDEXES}`);
    return;
  }

  const has = (column: string) => legacy.has(column);
  const pick = (column: string, fallback = 'NULL') => (has(column) ? column : fallback);
  const status = has('status')
    ? `CASE WHEN upper(status) IN ('PENDING','PROCESSING','COMPLETED','FAILED') THEN upper(status)
            WHEN status IS NULL OR status = '' THEN 'COMPLETED' ELSE 'FAILED' END`
    : `'COMPLETED'`;
  const lastError = has('status')
    ? `CASE WHEN status IS NOT NULL AND status <> '' AND upper(status) NOT IN ('PENDING','PROCESSING','COMPLETED','FAILED')
            THEN 'unknown legacy status ' || status END`
    : 'NULL';

  db.exec(`DROP INDEX IF EXISTS idx_timestamp;`);
  db.exec(`ALTER TABLE entries RENAME TO entries_legacy;`);
  db.exec(`CREATE TABLE entries (${ENTRIES_COLUMNS});`);
  const copied = db
    .prepare(
      `INSERT INTO entries (id, app, title, text, timestamp, embedding, description, status, last_error, image_path)
       SELECT id, ${pick('app')}, ${pick('title')}, ${pick('text')}, coalesce(timestamp, 0), ${pick('embedding')},
              ${pick('description')}, ${status}, ${lastError}, NULL
       FROM entries_legacy`,
    )
    .run().changes;

  // Record where each legacy image really is. One directory listing instead of a stat per row.
  const present = listFiles(path.join(context.dataDir, 'screenshots'));
  const setPath = db.prepare(`UPDATE entries SET image_path = ? WHERE id = ?`);
  const rows = db.prepare(`SELECT id, timestamp FROM entries`).all() as { id: number; timestamp: number }[];
  let missing = 0;
  for (const row of rows) {
    const stem = String(Math.trunc(row.timestamp));
    const name = [`${stem}.png`, `${stem}.webp`, `${stem}.jpg`].find((n) => present.has(n));
    if (!name) missing++;
    setPath.run(`screenshots/${name ?? `${stem}.png`}`, row.id);
  }
  db.exec(`DROP TABLE entries_legacy;${ENTRIES_INDEXES}`);
  context.log(`upgraded legacy OpenRecall database: ${copied} entries kept (${missing} without an image file)`);
}

function listFiles(dir: string): Set<string> {
  try {
    return new Set(fs.readdirSync(dir));
  } catch {
    return new Set();
  }
}

/**
 * Version 2. Two external-content FTS5 indexes kept in step with `entries` by triggers:
 * - `entries_fts` over OCR text, AI description, app and window title, with porter stemming ("meetings" finds
 *   "meeting");
 * - `entries_trigram` over the short fields (description, app, title) for substrings and scripts written
 *   without spaces ("voice" finds "Invoice 4411", 设计 finds 系统设计文档). Not over OCR text: trigrams of
 *   every screen would triple the database for little gain.
 * Existing rows (a legacy database) are indexed by the rebuild.
 */
/** bm25's weights of entries_fts's columns (text, description, app, title): its rank, and search-repository.ts's. */
export const WORD_INDEX_WEIGHTS = '1.0, 0.8, 0.4, 0.6';

function createFullTextIndexes(db: Database.Database): void {
  // Prefix indexes of 3 and 4 characters make `invo*` queries 30x faster for 30 % more index (at 300 words a
  // frame: 1.2 of 2 KB a frame, but without them a 4-letter prefix took 0.45 s at the median, 26 s at worst).
  createFullTextIndex(db, 'entries_fts', 'porter unicode61 remove_diacritics 2', ['text', 'description', 'app', 'title'], ", prefix='3 4'");
  createFullTextIndex(db, 'entries_trigram', 'trigram remove_diacritics 1', ['description', 'app', 'title'], '');
  // Relevance: OCR text counts most, then the AI description, the window title and the app name.
  db.exec(`INSERT INTO entries_fts(entries_fts, rank) VALUES ('rank', 'bm25(${WORD_INDEX_WEIGHTS})')`);
}

function createFullTextIndex(db: Database.Database, table: string, tokenizer: string, indexed: readonly string[], options: string): void {
  const columns = indexed.join(', ');
  const values = (prefix: string) => indexed.map((c) => `${prefix}.${c}`).join(', ');
  db.exec(`
    CREATE VIRTUAL TABLE ${table} USING fts5(${columns}, content='entries', content_rowid='id', tokenize='${tokenizer}'${options});
    CREATE TRIGGER ${table}_insert AFTER INSERT ON entries BEGIN
      INSERT INTO ${table}(rowid, ${columns}) VALUES (new.id, ${values('new')});
    END;
    CREATE TRIGGER ${table}_delete AFTER DELETE ON entries BEGIN
      INSERT INTO ${table}(${table}, rowid, ${columns}) VALUES ('delete', old.id, ${values('old')});
    END;
    CREATE TRIGGER ${table}_update AFTER UPDATE OF ${columns} ON entries BEGIN
      INSERT INTO ${table}(${table}, rowid, ${columns}) VALUES ('delete', old.id, ${values('old')});
      INSERT INTO ${table}(rowid, ${columns}) VALUES (new.id, ${values('new')});
    END;
    INSERT INTO ${table}(${table}) VALUES ('rebuild');`);
}

/**
 * Version 13. Vectors are kept as 8-bit integers with a scale (store/vector-codec.ts): a 512-d vector row of
 * 2.1 KB filled a 4 KB page alone, six now share one (10.4 → 7.2 KiB a frame at 300 words, BENCHMARKS.md,
 * issue 24). The rows stored so far are converted here; their sign bits (computed from the float vectors) and
 * sequence numbers stay.
 */
function shrinkVectors(db: Database.Database, context: MigrationContext): void {
  const vectors = db.prepare(`SELECT count(*) FROM embeddings`).pluck().get() as number;
  if (vectors > 10_000) context.log(`converting ${vectors} stored vectors to 8 bits a dimension (once)`);
  // The table is written anew (same sequence numbers, so the vector index file stays valid): shrinking rows in
  // place would leave each on its own page.
  db.function('openrecall_vector_8bit', { deterministic: true }, (vector: unknown, dim: unknown) =>
    vector instanceof Uint8Array && vector.byteLength === Number(dim) * 4 ? encodeStoredVector(decodeStoredVector(vector, Number(dim))) : vector,
  );
  db.exec(`
    ${embeddingsTable('embeddings_13')}
    INSERT INTO embeddings_13 (seq, entry_id, model, dim, vector, bits, created_at)
      SELECT seq, entry_id, model, dim, openrecall_vector_8bit(vector, dim), bits, created_at FROM embeddings ORDER BY seq;
    DROP TABLE embeddings;
    ALTER TABLE embeddings_13 RENAME TO embeddings;
    CREATE INDEX idx_embeddings_model_seq ON embeddings(model, seq);`);
}

/**
 * Version 3. One vector per frame and model, float32 little-endian, L2-normalised (cosine = dot product),
 * plus its sign bits for a fast first pass. Vectors of another model are kept but never compared.
 */
function createEmbeddings(db: Database.Database): void {
  db.exec(`${embeddingsTable('embeddings')}
    CREATE INDEX idx_embeddings_model_seq ON embeddings(model, seq);`);
}

const embeddingsTable = (name: string) => `
  CREATE TABLE ${name} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB,
    bits BLOB,
    created_at REAL NOT NULL,
    UNIQUE (entry_id, model)
  );`;

/**
 * Version 4. Retention sums the image sizes and counts frames by status; with this covering index that reads
 * a few MB of index instead of every row (8 ms instead of 300 ms at 100 000 frames with their OCR text).
 */
function createStorageIndex(db: Database.Database): void {
  db.exec(`CREATE INDEX IF NOT EXISTS idx_entries_status_bytes ON entries(status, bytes);`);
}

/**
 * Version 12. Keyword search walks its matches newest first and checks each against the filters: in `entries`
 * that reads a row holding the OCR text (several KB, one or two rows a page); in this index, a hundred rows a
 * page. A common word in one app and half the history, 100 000 frames: 750 → 160-220 ms. About 80 bytes a frame.
 */
function createSearchFilterIndex(db: Database.Database): void {
  db.exec(`CREATE INDEX IF NOT EXISTS idx_entries_search_filter ON entries(id, status, timestamp, app COLLATE NOCASE, title)`);
}

/** Version 5. Search filters compare app names case-insensitively: an index in that collation, with time. */
function createAppSearchIndex(db: Database.Database): void {
  db.exec(`CREATE INDEX IF NOT EXISTS idx_entries_app_nocase ON entries(app COLLATE NOCASE, timestamp)`);
}

/**
 * Version 6. CJK OCR text as overlapping bigrams (see search/cjk.ts), in a contentless FTS5 table whose rowid
 * is the frame's id. The OCR stage writes it (SQL cannot make bigrams); deleting a frame or changing its text
 * removes its row. Frames OCR'd before are indexed here.
 */
function createCjkIndex(db: Database.Database): void {
  db.exec(`
    CREATE VIRTUAL TABLE entries_cjk USING fts5(grams, content='', contentless_delete=1, tokenize='unicode61');
    CREATE TRIGGER entries_cjk_delete AFTER DELETE ON entries BEGIN
      DELETE FROM entries_cjk WHERE rowid = old.id;
    END;
    CREATE TRIGGER entries_cjk_update AFTER UPDATE OF text ON entries BEGIN
      DELETE FROM entries_cjk WHERE rowid = old.id;
    END;`);
  const insert = db.prepare(`INSERT INTO entries_cjk (rowid, grams) VALUES (?, ?)`);
  const page = db.prepare(`SELECT id, text FROM entries WHERE id > ? AND text IS NOT NULL ORDER BY id LIMIT 1000`);
  for (let last = 0; ; ) {
    const rows = page.all(last) as Array<{ id: number; text: string }>;
    if (rows.length === 0) break;
    for (const row of rows) {
      const grams = cjkIndexText(row.text);
      if (grams) insert.run(row.id, grams);
    }
    last = rows.at(-1)!.id;
  }
}

/**
 * Version 7. Compaction (src/services/compaction-service.ts): a compacted frame's row points at a manifest file
 * under compact/; its tiles live in layer files shared between frames. `compact_refs` says which layers a frame
 * uses; triggers keep each layer's `refs` count in step, and a frame's refs go with its row (cascade), so a
 * layer no frame uses any more has refs = 0 and is removed by the compactor's sweep.
 */
function createCompactionTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE compact_layers (
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL UNIQUE,
      bytes INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      refs INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX idx_compact_layers_unreferenced ON compact_layers(refs) WHERE refs <= 0;
    CREATE TABLE compact_frames (
      entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
      monitor INTEGER,
      manifest_bytes INTEGER NOT NULL,
      original_bytes INTEGER NOT NULL,
      compacted_at REAL NOT NULL
    );
    CREATE TABLE compact_refs (
      entry_id INTEGER NOT NULL REFERENCES compact_frames(entry_id) ON DELETE CASCADE,
      layer_id INTEGER NOT NULL REFERENCES compact_layers(id),
      PRIMARY KEY (entry_id, layer_id)
    ) WITHOUT ROWID;
    CREATE INDEX idx_compact_refs_layer ON compact_refs(layer_id);
    CREATE TRIGGER compact_refs_insert AFTER INSERT ON compact_refs BEGIN
      UPDATE compact_layers SET refs = refs + 1 WHERE id = new.layer_id;
    END;
    CREATE TRIGGER compact_refs_delete AFTER DELETE ON compact_refs BEGIN
      UPDATE compact_layers SET refs = refs - 1 WHERE id = old.layer_id;
    END;
    CREATE INDEX idx_compact_frames_monitor ON compact_frames(monitor, entry_id);
    CREATE INDEX idx_entries_uncompacted ON entries(timestamp) WHERE status = 'COMPLETED' AND substr(image_path, 1, 8) <> 'compact/';`);
}

/** Where the server keeps an upload until the processor saves the frame (its row's image_path points there). */
export const INCOMING_UPLOADS = 'screenshots/incoming/';
/** The partial index's condition: a query must repeat it word for word for SQLite to use the index. */
export const IS_INCOMING_UPLOAD = `substr(image_path, 1, ${INCOMING_UPLOADS.length}) = '${INCOMING_UPLOADS}'`;

/**
 * Version 14. Start-up looks for upload files no row points at: with a LIKE over every row it read the whole
 * table (a million frames at a year); only the frames not yet saved point at an upload, so the index stays tiny.
 */
function createIncomingIndex(db: Database.Database): void {
  db.exec(`CREATE INDEX idx_entries_incoming ON entries(image_path) WHERE ${IS_INCOMING_UPLOAD}`);
}

/**
 * Version 15. An upload written where its file was created ahead (images/received-image.ts) keeps that file's
 * name, so its bytes' count and CRC-32 (upload-check.ts), which tell a copy a power cut tore from a whole one,
 * are kept in the row.
 */
function addUploadCheck(db: Database.Database): void {
  db.exec(`ALTER TABLE entries ADD COLUMN upload_check TEXT`);
}

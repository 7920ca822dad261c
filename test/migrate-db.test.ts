import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3-multiple-ciphers';
import { copySqliteToPostgres, MigrateRefusedError } from '../src/store/migrate-to-postgres.js';
import { storedVectorAsFloat32 } from '../src/store/vector-codec.js';
import { openPostgresStore } from '../src/store/postgres/pg-store.js';
import { createTestDatabase, queryDatabase, type TestDatabase } from './helpers/postgres.js';
import { buildLargeSqliteDataDir, buildSqliteDataDir, openDataDirDatabase, type SqliteDataDir } from './helpers/sqlite-data-dir.js';
import { newFrame } from './helpers/store-frames.js';

type Row = Record<string, unknown>;

const pgRows = (url: string, sql: string, params: unknown[] = []): Promise<Row[]> => queryDatabase(url, sql, params);

function sqliteRows(file: string, sql: string): Row[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as Row[];
  } finally {
    db.close();
  }
}

const ENTRY_FIELDS = `id, timestamp, status, app, title, capture_id, image_path, monitor, width, height, bytes, received_at, attempts,
  last_error, processing_started_at, processing_finished_at, description, text`;

describe('migrate-db: copy a SQLite data dir into PostgreSQL', () => {
  let source: SqliteDataDir;
  let database: TestDatabase;

  before(async () => {
    source = await buildSqliteDataDir();
    database = await createTestDatabase();
    const counts = await copySqliteToPostgres(source.dbFile, database.url, { batchSize: 2 });
    for (const c of counts) assert.equal(c.postgres, c.sqlite, `${c.table}: ${c.postgres} in PostgreSQL, ${c.sqlite} in SQLite`);
  });
  after(() => database?.drop());

  it('copies every frame row by row; the one caught mid-processing comes back PENDING with no lease', async () => {
    const before = sqliteRows(source.dbFile, `SELECT ${ENTRY_FIELDS} FROM entries ORDER BY id`);
    const copied = await pgRows(
      database.url,
      `SELECT ${ENTRY_FIELDS.replace('id,', 'id::float8 AS id,').replace('bytes,', 'bytes::float8 AS bytes,')} FROM entries ORDER BY id`,
    );
    const expected = before.map((row) => (row.id === source.ids.processing ? { ...row, status: 'PENDING', processing_started_at: null } : row));
    assert.deepEqual(copied, expected);
    assert.deepEqual(new Set(before.map((r) => r.status)), new Set(['COMPLETED', 'FAILED', 'PROCESSING', 'PENDING']));
    const [lease] = await pgRows(database.url, 'SELECT worker_id, lease_expires_at FROM entries WHERE id = $1', [source.ids.processing]);
    assert.deepEqual(lease, { worker_id: null, lease_expires_at: null });
  });

  it('copies vectors of both models (as float32: SQLite keeps 8 bits a dimension), and the compaction tables with the same layer ref counts', async () => {
    const embeddings = `SELECT seq, entry_id, model, dim, vector, bits, created_at FROM embeddings ORDER BY seq`;
    const copied = await pgRows(database.url, embeddings.replace('seq, entry_id,', 'seq::float8 AS seq, entry_id::float8 AS entry_id,'));
    const original = sqliteRows(source.dbFile, embeddings);
    assert.equal(copied.length, 3);
    assert.ok(original.every((row) => row.vector === null || (row.vector as Buffer).byteLength === (row.dim as number) + 4));
    assert.deepEqual(
      copied,
      original.map((row) => (row.vector ? { ...row, vector: storedVectorAsFloat32(row.vector as Buffer, row.dim as number) } : row)),
    );

    const layers = 'SELECT id, path, bytes, sha256, refs FROM compact_layers ORDER BY id';
    assert.deepEqual(
      await pgRows(database.url, layers.replace('id, path, bytes', 'id::float8 AS id, path, bytes::float8 AS bytes')),
      sqliteRows(source.dbFile, layers),
    );
    assert.deepEqual(
      (await pgRows(database.url, 'SELECT refs FROM compact_layers ORDER BY id')).map((r) => r.refs),
      [2, 1],
      'the shared layer counts both frames',
    );
    const refs = 'SELECT entry_id, layer_id FROM compact_refs ORDER BY entry_id, layer_id';
    assert.deepEqual(
      await pgRows(database.url, refs.replace('entry_id, layer_id FROM', 'entry_id::float8 AS entry_id, layer_id::float8 AS layer_id FROM')),
      sqliteRows(source.dbFile, refs),
    );
  });

  it('hands PostgreSQL store users the same frames, timeline, vectors, compaction and settings; new ids follow the copied ones', async () => {
    const sqlite = openDataDirDatabase(source.dataDir);
    const store = await openPostgresStore(database.url, {});
    try {
      const invoice = await store.frames.get(source.ids.invoice);
      assert.equal(invoice?.text, 'Invoice 4411 due Friday');
      assert.equal(invoice?.description, 'an invoice in a mail client');
      assert.equal((await store.frames.get(source.ids.cjk))?.text, '系统设计文档 review');
      assert.deepEqual(await store.timeline.summary(), await sqlite.timeline.summary());
      for (const model of ['model-a', 'model-b'])
        assert.deepEqual(await store.embeddings.bitsSince(model, 0, 1000), await sqlite.embeddings.bitsSince(model, 0, 1000));
      assert.deepEqual(await store.compaction.totals(), await sqlite.compaction.totals());
      const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
      assert.deepEqual((await store.settings.all()).sort(byKey), (await sqlite.settings.all()).sort(byKey));
      const [client] = await store.clients.list();
      assert.equal(client?.id, 'laptop-1');
      assert.equal(client?.desired_paused, 1);

      const { id } = await store.frames.insertPending(newFrame(1_800_000_000));
      assert.ok(id > Math.max(...Object.values(source.ids)), `new frame id ${id} collides with a copied one`);
      await store.embeddings.save(id, 'model-a', new Float32Array(8).fill(0.25));
      const [seq] = await pgRows(database.url, 'SELECT max(seq)::int AS n, count(*)::int AS c FROM embeddings');
      assert.deepEqual(seq, { n: 4, c: 4 }, 'a new vector continues the copied sequence');
    } finally {
      await store.close();
      await sqlite.close();
    }
  });
});

describe('migrate-db: resuming and refusing', () => {
  it('fills the CJK bigrams of copied OCR text, so a CJK word inside a run is found on PostgreSQL too', async () => {
    const source = await buildSqliteDataDir();
    const database = await createTestDatabase();
    try {
      await copySqliteToPostgres(source.dbFile, database.url);
      const rows = await pgRows(database.url, 'SELECT id::int AS id, cjk_grams FROM entries WHERE cjk_grams IS NOT NULL');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.id, source.ids.cjk);
      assert.match(rows[0]!.cjk_grams as string, /系统 统设 设计/);
    } finally {
      await database.drop();
    }
  });

  it('resumes an interrupted copy where it stopped, ending with exact counts and no duplicate', async () => {
    const dataDir = await buildLargeSqliteDataDir(3000);
    const dbFile = `${dataDir}/db/recall.db`;
    const database = await createTestDatabase();
    try {
      const seen: number[] = [];
      const stopAfterTwoBatches = (table: string, copied: number) => {
        if (table !== 'entries') return;
        seen.push(copied);
        if (seen.length === 2) throw new Error('interrupted');
      };
      await assert.rejects(copySqliteToPostgres(dbFile, database.url, { batchSize: 400, onProgress: stopAfterTwoBatches }), /interrupted/);
      assert.deepEqual(await pgRows(database.url, 'SELECT count(*)::int AS n FROM entries'), [{ n: 800 }]);

      const resumedFrom: number[] = [];
      const counts = await copySqliteToPostgres(dbFile, database.url, {
        batchSize: 400,
        onProgress: (t, copied) => t === 'entries' && resumedFrom.push(copied),
      });
      assert.equal(resumedFrom[0], 1200, 'the second run starts after the 800 frames already there');
      assert.deepEqual(
        counts.find((c) => c.table === 'entries'),
        { table: 'entries', sqlite: 3000, postgres: 3000 },
      );
      assert.deepEqual(await pgRows(database.url, 'SELECT count(*)::int AS n, count(DISTINCT capture_id)::int AS d, max(id)::int AS m FROM entries'), [
        { n: 3000, d: 3000, m: 3000 },
      ]);
    } finally {
      await database.drop();
    }
  });

  it('resumes the layer references (a two-column key) without counting a layer twice', async () => {
    const source = await buildSqliteDataDir();
    const database = await createTestDatabase();
    try {
      const stopInRefs = (table: string) => {
        if (table === 'compact_refs') throw new Error('interrupted');
      };
      await assert.rejects(copySqliteToPostgres(source.dbFile, database.url, { batchSize: 2, onProgress: stopInRefs }), /interrupted/);
      assert.deepEqual(await pgRows(database.url, 'SELECT count(*)::int AS n FROM compact_refs'), [{ n: 2 }]);
      const counts = await copySqliteToPostgres(source.dbFile, database.url, { batchSize: 2 });
      for (const c of counts) assert.equal(c.postgres, c.sqlite, `${c.table}: ${c.postgres} in PostgreSQL, ${c.sqlite} in SQLite`);
      assert.deepEqual(await pgRows(database.url, 'SELECT id::int AS id, refs FROM compact_layers ORDER BY id'), [
        { id: 101, refs: 2 },
        { id: 102, refs: 1 },
      ]);
    } finally {
      await database.drop();
    }
  });

  it('refuses a PostgreSQL database holding other frames, before writing anything', async () => {
    const source = await buildSqliteDataDir();
    const database = await createTestDatabase();
    try {
      const store = await openPostgresStore(database.url, {});
      await store.frames.insertPending(newFrame(1_650_000_000, { captureId: 'from-another-data-dir' }));
      await store.close();
      await assert.rejects(copySqliteToPostgres(source.dbFile, database.url), (error: Error) => {
        assert.ok(error instanceof MigrateRefusedError);
        assert.match(error.message, /^--to \(postgres:\/\/.*\) already holds other frames .*migrate into an empty database$/);
        return true;
      });
      const [counts] = await pgRows(
        database.url,
        `SELECT (SELECT count(*) FROM entries)::int AS entries, (SELECT count(*) FROM embeddings)::int AS embeddings,
                (SELECT count(*) FROM settings)::int AS settings, (SELECT count(*) FROM compact_layers)::int AS layers`,
      );
      assert.deepEqual(counts, { entries: 1, embeddings: 0, settings: 0, layers: 0 });
    } finally {
      await database.drop();
    }
  });
});

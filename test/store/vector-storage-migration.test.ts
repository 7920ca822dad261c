// Migration 13 (issue 24: a year of memory in less space): a database of schema 12 with float32 vectors is
// upgraded in place, answers every kind of query as before, and its vectors come back within rounding of what
// was stored. bulkLoad (fixtures) gives the database row-by-row inserts give.
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, it } from 'node:test';
import { parseQuery } from '../../src/search/query-parser.js';
import { signBits } from '../../src/store/sign-bits.js';
import { bulkLoad } from '../../src/store/sqlite/bulk-load.js';
import { type Db, openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteEmbeddingsRepository } from '../../src/store/sqlite/embeddings-repository.js';
import { migrations } from '../../src/store/sqlite/migrations.js';
import { SqliteSearchRepository } from '../../src/store/sqlite/search-repository.js';
import { tempDir } from '../helpers/temp-dir.js';

const TEXTS = [
  'Invoice 4411 from ACME Corp, total due next Monday',
  'quarterly meeting notes: invoices reviewed, budget approved',
  'terminal: npm run build && node dist/server.js',
  'ACME Corp invoice reminder, the total is overdue',
  'holiday photos from the lake, sunset over the water',
  'meeting with Corp lawyers about the invoicing dispute',
];
const QUERIES = ['invoice', 'acme corp', '"total due"', '"corp invoice"', 'invo*', 'meet*', 'invoice -overdue', 'lake sunset', 'npm build', 'nothingatall'];
const DIM = 16;
const vectorOf = (i: number) => {
  const v = Float32Array.from({ length: DIM }, (_, d) => Math.sin(i * 7.1 + d * 1.3));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};

function insertFrames(db: Db, texts: string[]): void {
  const insert = db.prepare(`INSERT INTO entries (timestamp, app, title, text, status) VALUES (?, ?, ?, ?, 'COMPLETED')`);
  for (const [i, text] of texts.entries()) insert.run(1_700_000_000 + i * 10, i % 2 ? 'Mail' : 'Firefox', `window ${i}`, text);
}

/** Every query's candidates (ids, order, rounded scores) and snippets, as the search service reads them. */
async function answers(db: Db) {
  const search = new SqliteSearchRepository(db);
  const out: Record<string, unknown> = {};
  for (const q of QUERIES) {
    const parsed = parseQuery(q);
    const { candidates, total } = await search.keyword(parsed, {}, 'relevance', 20);
    const snippets = await search.snippets(parsed, candidates);
    out[q] = { ids: candidates.map((c) => c.id), total, snippets: candidates.map((c) => snippets.get(c.id)) };
  }
  return out;
}

/** A database as schema 12 left it: migrations 1-12 only, float32 vectors written as the store wrote them then. */
function schema12(file: string, dataDir: string): Db {
  const db = new Database(file);
  for (const migration of migrations.filter((m) => m.version <= 12)) {
    db.transaction(() => migration.up(db, { dataDir, log: () => {} }))();
    db.pragma(`user_version = ${migration.version}`);
  }
  insertFrames(db, TEXTS);
  const insert = db.prepare(`INSERT INTO embeddings (entry_id, model, dim, vector, bits, created_at) VALUES (?, 'm', ?, ?, ?, 0)`);
  TEXTS.forEach((_, i) => {
    const v = vectorOf(i);
    const bits = signBits(v);
    insert.run(i + 1, DIM, Buffer.from(v.buffer), Buffer.from(bits.buffer));
  });
  return db;
}

describe('migration 13: vectors in 8 bits a dimension', () => {
  it('upgrades a schema-12 database in place: the same search answers, vectors within rounding, sign bits kept', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'recall.db');
    const old = schema12(file, dataDir);
    const before = await answers(old);
    const bitsBefore = old.prepare(`SELECT bits FROM embeddings ORDER BY seq`).pluck().all();
    old.close();

    const logs: string[] = [];
    const db = openDatabase(file, { dataDir, log: (m) => logs.push(m) });
    assert.ok(logs.some((m) => m.includes('version 13')));
    assert.deepEqual(await answers(db), before);
    assert.ok((before['invo*'] as { ids: number[] }).ids.length >= 4, 'the prefix query found the invoice frames');

    assert.deepEqual(db.prepare(`SELECT DISTINCT length(vector) FROM embeddings`).pluck().all(), [DIM + 4]);
    assert.deepEqual(db.prepare(`SELECT bits FROM embeddings ORDER BY seq`).pluck().all(), bitsBefore);
    const vectors = await new SqliteEmbeddingsRepository(db).vectors('m', [1, 2, 3, 4, 5, 6]);
    for (const [id, v] of vectors) {
      const original = vectorOf(id - 1);
      const cosine = v.reduce((sum, x, d) => sum + x * original[d]!, 0);
      assert.ok(cosine > 0.999, `vector ${id}: cosine ${cosine}`);
    }

    // The triggers are back: a new frame is found, a deleted or changed one no longer is.
    insertFrames(db, ['a brand new invoice about kayaks']);
    db.prepare(`DELETE FROM entries WHERE id = 5`).run();
    db.prepare(`UPDATE entries SET text = 'nothing here' WHERE id = 3`).run();
    const search = new SqliteSearchRepository(db);
    const ids = async (q: string) => (await search.keyword(parseQuery(q), {}, 'relevance', 20)).candidates.map((c) => c.id).sort();
    assert.deepEqual(await ids('kayak*'), [7]);
    assert.deepEqual(await ids('sunset'), []);
    assert.deepEqual(await ids('npm'), []);
    // The rewritten vectors table keeps counting sequence numbers (the vector index file relies on them).
    await new SqliteEmbeddingsRepository(db).save(7, 'm', vectorOf(7));
    assert.equal(db.prepare(`SELECT seq FROM embeddings WHERE entry_id = 7`).pluck().get(), 7);
    db.close();
  });

  it('stores new vectors in 8 bits a dimension and reads them back within rounding', async () => {
    const dataDir = tempDir();
    const db = openDatabase(path.join(dataDir, 'recall.db'), { dataDir });
    insertFrames(db, ['x']);
    const repository = new SqliteEmbeddingsRepository(db);
    const v = vectorOf(3);
    await repository.save(1, 'm', v);
    assert.equal(db.prepare(`SELECT length(vector) FROM embeddings`).pluck().get(), DIM + 4);
    const back = (await repository.vectors('m', [1])).get(1)!;
    for (let d = 0; d < DIM; d++) assert.ok(Math.abs(back[d]! - v[d]!) < 0.01, `dimension ${d}: ${back[d]} vs ${v[d]}`);
    db.close();
  });

  it('bulkLoad gives the search answers of row-by-row inserts, and leaves the triggers in place', async () => {
    const rowByRow = openDatabase(path.join(tempDir(), 'a.db'), { dataDir: tempDir() });
    insertFrames(rowByRow, TEXTS);
    const bulk = openDatabase(path.join(tempDir(), 'b.db'), { dataDir: tempDir() });
    const triggers = (db: Db) => db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name`).all();
    const triggersBefore = triggers(bulk);
    bulkLoad(bulk, () => bulk.transaction(() => insertFrames(bulk, TEXTS))());
    assert.deepEqual(triggers(bulk), triggersBefore);
    assert.deepEqual(await answers(bulk), await answers(rowByRow));
    insertFrames(bulk, ['a brand new invoice about kayaks']);
    assert.deepEqual(
      (await new SqliteSearchRepository(bulk).keyword(parseQuery('kayaks'), {}, 'relevance', 5)).candidates.map((c) => c.id),
      [7],
    );
    rowByRow.close();
    bulk.close();
  });
});

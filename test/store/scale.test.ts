// A year of memory (issue 24), without timing: on a generated database of 200 000 frames, the statements that
// search, filter and page the timeline use indexes (EXPLAIN QUERY PLAN, never a full scan of `entries`), and the
// vector index opens from its file without reading the stored vectors. Latency figures live in bench/search.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, after, describe, it } from 'node:test';
import { openDataDir } from '../../src/files/open-data-dir.js';
import { MissingVectorsWalk } from '../../src/pipeline/embed-stage.js';
import { RULES_VERSION } from '../../src/redaction/index.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { VectorIndex, vectorIndexFileName } from '../../src/search/vector-index.js';
import type { EmbeddingsRepository, FramePosition, SearchFilters } from '../../src/store/ports.js';
import { bulkLoad } from '../../src/store/sqlite/bulk-load.js';
import { type Db, openDatabase } from '../../src/store/sqlite/database.js';
import { type SqliteStore, sqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/temp-dir.js';

const FRAMES = 200_000;
const MODEL = 'scale-model';
const DIM = 64;
const T0 = 1_700_000_000;

interface Statement {
  sql: string;
  args: unknown[];
}

/**
 * The connection as the repositories see it, recording every statement they run with its parameters, so that
 * the test can ask SQLite for the plan of exactly what the code ran.
 */
function recording(db: Db, ran: Statement[]): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop !== 'prepare') return Reflect.get(target, prop, target);
      return (sql: string) => {
        const statement = target.prepare(sql);
        const proxy: unknown = new Proxy(statement, {
          get(s, name) {
            const value = Reflect.get(s, name, s);
            if (typeof value !== 'function') return value;
            if (name === 'all' || name === 'get' || name === 'iterate') {
              return (...args: unknown[]) => {
                ran.push({ sql, args });
                return value.apply(s, args);
              };
            }
            if (name === 'pluck' || name === 'raw' || name === 'expand') {
              return (...args: unknown[]) => {
                value.apply(s, args);
                return proxy;
              };
            }
            return value.bind(s);
          },
        });
        return proxy;
      };
    },
  }) as Db;
}

/**
 * 200 000 completed frames in one transaction: a dozen apps, window titles, a few words of text, a 64-d vector
 * each (random sign bits, zero vectors: only the frames saved by the test score above 0). Written as fixtures
 * are (bulkLoad: the full-text indexes built once at the end, not row by row).
 */
function generate(db: Db): void {
  bulkLoad(db, () =>
    db.transaction(() => {
      db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${FRAMES - 1})
      INSERT INTO entries (timestamp, app, title, text, status, image_path, received_at, attempts, processing_finished_at)
      SELECT ${T0} + i * 10, 'App' || (i % 12), 'Window ' || (i % 997) || ' - App' || (i % 12),
        'word' || (i * 7919 % 5003) || ' word' || (i * 104729 % 3001) || ' common' || (i % 7) || ' text ' ||
          CASE WHEN i = 123456 THEN 'zebrafish ' ELSE '' END || 'word' || (i * 31 % 1009),
        'COMPLETED', 'screenshots/' || i || '.webp', ${T0} + i * 10, 1, ${T0} + i * 10
      FROM n;
      INSERT INTO embeddings (entry_id, model, dim, vector, bits, created_at)
      SELECT id, '${MODEL}', ${DIM}, zeroblob(${DIM + 4}), randomblob(${DIM / 8}), ${T0} FROM entries ORDER BY id;`);
    })(),
  );
}

/** The plan lines of a statement that read every row of `entries` (a table scan, not an index search). */
function fullScans(db: Db, { sql, args }: Statement): string[] {
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>;
  return plan.map((row) => row.detail).filter((detail) => /^SCAN (entries|e)\b(?! USING)/.test(detail));
}

/** Index ranges over every frame of a status (all of them, nearly): a walk of every frame by another name. */
function statusOnlyRanges(db: Db, { sql, args }: Statement): string[] {
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>;
  return plan.map((row) => row.detail).filter((detail) => /^SEARCH \w+ USING (COVERING )?INDEX \w+ \(status=\?\)$/.test(detail));
}

function indexesUsed(db: Db, { sql, args }: Statement): string[] {
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>;
  return plan.map((row) => row.detail).filter((detail) => /USING|VIRTUAL TABLE/.test(detail));
}

describe(`a database of ${FRAMES} frames`, () => {
  let db: Db;
  let dataDir: string;
  let store: SqliteStore;
  const ran: Statement[] = [];

  before(() => {
    dataDir = tempDir('openrecall-scale-');
    db = openDatabase(path.join(dataDir, 'db', 'recall.db'), { dataDir });
    generate(db);
    store = sqliteStore(recording(db, ran));
  });
  after(() => db.close());

  /** Runs `task` through the repositories and returns the statements it ran over `entries`. */
  async function statementsOf(task: () => Promise<unknown>): Promise<Statement[]> {
    ran.length = 0;
    await task();
    const statements = ran.filter((s) => /\bentries\b/.test(s.sql));
    assert.ok(statements.length > 0, 'the task read the entries table');
    return statements;
  }

  const cases: Array<[string, string, SearchFilters]> = [
    ['a word', 'word17', {}],
    ['a rare word', 'zebrafish', {}],
    ['two words', 'word17 common3', {}],
    ['a word in one app', 'word17', { app: 'App3' }],
    ['a word in a window', 'word17', { window: 'Window 12' }],
    ['a word in a time range', 'word17', { start: T0 + 500_000, end: T0 + 900_000 }],
    ['a word in one app and a time range', 'common2', { app: 'app5', start: T0 + 100_000, end: T0 + 1_500_000 }],
    ['a substring (few word matches)', 'ebrafi', {}],
  ];
  for (const [name, q, filters] of cases) {
    it(`keyword search for ${name} never scans every frame`, async () => {
      const statements = await statementsOf(() => store.search.keyword(parseQuery(q), filters, 'relevance', 100));
      for (const statement of statements) {
        assert.deepEqual(fullScans(db, statement), [], statement.sql);
        assert.ok(indexesUsed(db, statement).length > 0, `an index drives: ${statement.sql}`);
      }
    });
  }

  it('finds the one frame with a rare word, and the frames of one app and time range', async () => {
    const rare = await store.search.keyword(parseQuery('zebrafish'), {}, 'relevance', 10);
    assert.deepEqual(
      rare.candidates.map((c) => c.id),
      [123457],
    );
    const filtered = await store.search.keyword(parseQuery('common2'), { app: 'App5', start: T0, end: T0 + 10_000 }, 'time', 100);
    assert.ok(filtered.candidates.length > 0);
    for (const c of filtered.candidates) assert.ok(c.timestamp <= T0 + 10_000);
  });

  it('filters without words (browse, and the frames a filtered vector search may consider) use indexes', async () => {
    const filters: SearchFilters[] = [{ app: 'App7' }, { start: T0 + 10_000, end: T0 + 20_000 }, { app: 'App1', start: T0, end: T0 + 50_000 }];
    for (const f of filters) {
      const statements = await statementsOf(async () => {
        await store.search.browse(f, 20, 0, []);
        await store.search.filteredIds(f, 20_000);
      });
      for (const statement of statements) assert.deepEqual(fullScans(db, statement), [], statement.sql);
    }
  });

  it('the frames a filtered vector search may consider come from an index range (window titles too), never from every frame', async () => {
    const filters: SearchFilters[] = [
      { app: 'App7' },
      { start: T0 + 10_000, end: T0 + 20_000 },
      { app: 'App1', start: T0, end: T0 + 50_000 },
      { window: 'Window 12' },
      { app: 'App3', window: 'Window 1' },
      { window: 'Window 5', start: T0, end: T0 + 500_000 },
    ];
    for (const f of filters) {
      const statements = await statementsOf(async () => {
        assert.ok((await store.search.filteredIds(f, 20_000))?.size, JSON.stringify(f));
      });
      assert.ok(statements.length > 0);
      for (const statement of statements) {
        assert.deepEqual(fullScans(db, statement), [], statement.sql);
        assert.deepEqual(statusOnlyRanges(db, statement), [], statement.sql);
      }
    }
  });

  it('the timeline pages, finds the nearest frame and its position through indexes', async () => {
    const statements = await statementsOf(async () => {
      await store.timeline.summary();
      await store.timeline.page(0, 50);
      const near = await store.timeline.nearest(T0 + 1_000_005);
      assert.ok(near);
      await store.timeline.indexOf(near);
      await store.timeline.get(near.id);
    });
    for (const statement of statements) assert.deepEqual(fullScans(db, statement), [], statement.sql);
  });

  it('start-up checks (orphan uploads, uploads a crash lost) read only the frames still pointing at an upload', async () => {
    const statements = await statementsOf(async () => {
      assert.equal((await store.frames.referencedUploads()).size, 0);
      assert.deepEqual(await store.frames.unprocessedUploads('screenshots/incoming/'), []);
    });
    for (const statement of statements) {
      assert.deepEqual(fullScans(db, statement), [], statement.sql);
      assert.ok(indexesUsed(db, statement).length > 0, `an index drives: ${statement.sql}`);
    }
  });

  it('the vector index opens from its file without reading the stored vectors', async () => {
    const file = { dataDir: openDataDir(dataDir), path: `index/${vectorIndexFileName(MODEL)}` };
    const first = new VectorIndex(MODEL, store.embeddings, { file });
    await first.whenReady();
    assert.equal(first.size, FRAMES);
    await first.close();

    let rowsRead = 0;
    const counting: EmbeddingsRepository = Object.assign(Object.create(store.embeddings) as EmbeddingsRepository, {
      bitsSince: async (model: string, seq: number, limit: number) => {
        const rows = await store.embeddings.bitsSince(model, seq, limit);
        rowsRead += rows.length;
        return rows;
      },
    });
    ran.length = 0;
    const index = new VectorIndex(MODEL, counting, { file });
    await index.whenReady();
    assert.equal(index.size, FRAMES);
    assert.equal(rowsRead, 0, 'no stored vector read');
    const embeddingStatements = ran.filter((s) => /\bembeddings\b/.test(s.sql));
    assert.ok(embeddingStatements.length > 0);
    for (const statement of embeddingStatements) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).all(...statement.args) as Array<{ detail: string }>;
      assert.ok(
        plan.every((row) => /^SEARCH /.test(row.detail)),
        `an index search: ${statement.sql}: ${plan.map((r) => r.detail)}`,
      );
      // The catch-up read starts after the file's last vector: the newest sequence number.
      if (/\bbits\b/.test(statement.sql)) assert.equal(statement.args[1], FRAMES, statement.sql);
    }

    // A frame embedded now is found by its vector (its sign bits and exact rescoring agree).
    const target = 150_000;
    const v = Float32Array.from({ length: DIM }, (_, i) => Math.cos(i * 1.7));
    await store.embeddings.save(
      target,
      MODEL,
      v.map((x) => x / Math.hypot(...v)),
    );
    const [hit] = await index.search(v, 1);
    assert.equal(hit?.id, target);
    assert.equal(rowsRead, 1, 'only the new vector read from the database');
    await index.close();
  });

  it("the processor's idle checks (frames to redact, compaction's candidates) are index seeks, never a walk of every frame", async () => {
    // Every frame here has no redaction version (the generator sets none): the first half redacted by these rules,
    // a few by older ones, the rest never.
    db.prepare(`UPDATE entries SET redaction_version = ? WHERE id <= ${FRAMES / 2}`).run(RULES_VERSION);
    db.prepare(`UPDATE entries SET redaction_version = ? WHERE id IN (10, 20, 30)`).run(RULES_VERSION - 1);
    // Compacted but for the last 100 frames.
    db.prepare(`UPDATE entries SET image_path = 'compact/frames/' || id || '.json.gz' WHERE id <= ${FRAMES - 100}`).run();
    try {
      const statements = await statementsOf(async () => {
        assert.equal(await store.frames.unredacted(RULES_VERSION), FRAMES / 2 + 3);
        assert.deepEqual(await store.frames.unredactedIds(RULES_VERSION, 2), [FRAMES, FRAMES - 1]);
        db.prepare(`UPDATE entries SET redaction_version = ? WHERE id > ${FRAMES / 2}`).run(RULES_VERSION);
        assert.equal(await store.frames.unredacted(RULES_VERSION), 3);
        assert.deepEqual(await store.frames.unredactedIds(RULES_VERSION, 5), [30, 20, 10]);
        const candidates = await store.compaction.candidates(T0 + FRAMES * 10, { timestamp: -Infinity, id: 0 }, 64);
        assert.deepEqual(
          candidates.map((c) => c.id),
          Array.from({ length: 64 }, (_, i) => FRAMES - 99 + i),
        );
        assert.equal(await store.compaction.countCandidates(Number.POSITIVE_INFINITY), 100);
      });
      for (const statement of statements) {
        assert.deepEqual(fullScans(db, statement), [], statement.sql);
        assert.deepEqual(statusOnlyRanges(db, statement), [], statement.sql);
        if (/compact_layers/.test(statement.sql)) assert.match(indexesUsed(db, statement).join(), /idx_entries_uncompacted/, statement.sql);
      }
    } finally {
      db.prepare(`UPDATE entries SET redaction_version = NULL, image_path = 'screenshots/' || (id - 1) || '.webp'`).run();
    }
  });

  it("the queue status's figures (frames done in the last minutes, frames without a vector) read no frame's row", async () => {
    // A web page polls the status every 5 s: each figure read every frame (2.6 s for the last minute's count at a
    // million frames, 0.6 s for the frames without a vector), on the server's event loop.
    const anyVector = db.prepare(`SELECT 1 FROM embeddings WHERE entry_id = ? AND model = ?`).pluck();
    db.prepare(`DELETE FROM embeddings WHERE entry_id IN (5, 6, 7)`).run();
    db.prepare(`UPDATE entries SET status = 'FAILED' WHERE id IN (7, 8)`).run(); // 7 without a vector, 8 with one
    try {
      assert.equal(anyVector.get(8, MODEL), 1);
      const statements = await statementsOf(async () => {
        assert.equal(await store.embeddings.missingCount(MODEL), 2, 'frames 5 and 6');
        assert.equal(await store.embeddings.missingCount('another-model'), FRAMES - 2);
        assert.equal(await store.frames.completedSince(T0 + (FRAMES - 6) * 10), 6);
      });
      for (const statement of statements) {
        const plan = indexesUsed(db, statement).join(' | ');
        assert.deepEqual(fullScans(db, statement), [], statement.sql);
        // Index ranges of every COMPLETED frame are counted in covering indexes, never joined or read a row each.
        assert.doesNotMatch(plan, /SEARCH e USING (INDEX|INTEGER PRIMARY KEY)|SEARCH entries USING INDEX \w+ \(status=\?\)/, statement.sql);
        if (/processing_finished_at/.test(statement.sql)) assert.match(plan, /idx_entries_finished/, statement.sql);
        // Nor a lookup in the vectors for each of them (NOT EXISTS a frame).
        const lines = (db.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).all(...statement.args) as Array<{ detail: string }>).map((r) => r.detail);
        assert.ok(!lines.some((line) => /CORRELATED/.test(line)), `${statement.sql}\n${lines.join('\n')}`);
      }
    } finally {
      db.prepare(`UPDATE entries SET status = 'COMPLETED' WHERE id IN (7, 8)`).run();
      db.exec(`INSERT INTO embeddings (entry_id, model, dim, vector, bits, created_at)
        SELECT id, '${MODEL}', ${DIM}, zeroblob(${DIM + 4}), randomblob(${DIM / 8}), ${T0} FROM entries WHERE id IN (5, 6, 7)`);
    }
  });

  it('the walk for frames without a vector goes through the history a window at a time, and rests once it found none', async () => {
    const steps: Array<{ after: FramePosition | null; window: number }> = [];
    const counting: EmbeddingsRepository = Object.assign(Object.create(store.embeddings) as EmbeddingsRepository, {
      missingIdsAfter: async (model: string, after: FramePosition | null, window: number, limit: number) => {
        steps.push({ after, window });
        return store.embeddings.missingIdsAfter(model, after, window, limit);
      },
    });
    let now = 0;
    const walk = new MissingVectorsWalk(counting, MODEL, { now: () => now });
    const saved = db.prepare(`SELECT * FROM embeddings WHERE entry_id IN (7, 150000)`).all() as Array<Record<string, unknown>>;
    db.prepare(`DELETE FROM embeddings WHERE entry_id IN (7, 150000)`).run();
    try {
      const statements = await statementsOf(async () => {
        assert.deepEqual(await walk.candidates(1), [150_000]);
        // Not embedded yet (a failed backfill): offered again.
        assert.deepEqual(await walk.candidates(1), [150_000]);
        const insert = db.prepare(
          'INSERT INTO embeddings (seq, entry_id, model, dim, vector, bits, created_at) VALUES (@seq, @entry_id, @model, @dim, @vector, @bits, @created_at)',
        );
        insert.run(saved.find((r) => r.entry_id === 150_000));
        assert.deepEqual(await walk.candidates(1), [7]);
        insert.run(saved.find((r) => r.entry_id === 7));
        assert.deepEqual(await walk.candidates(1), []);
      });
      for (const statement of statements) {
        assert.deepEqual(fullScans(db, statement), [], statement.sql);
        assert.deepEqual(statusOnlyRanges(db, statement), [], statement.sql);
      }
      // Each step looks at one window; the walk went on from where it stopped: about the history once, not once a call.
      assert.ok(steps.every((s) => s.window <= 10_000));
      assert.ok(steps.length <= FRAMES / 10_000 + 4, `${steps.length} steps`);
      // The walk found none: the next call reads nothing until it is time to walk again.
      steps.length = 0;
      assert.deepEqual(await walk.candidates(1), []);
      assert.equal(steps.length, 0);
      now += 3_600_000;
      assert.deepEqual(await walk.candidates(1), []);
      assert.equal(steps.length, FRAMES / 10_000 + 1);
      assert.equal(steps[0]!.after, null, 'the new walk starts from the newest frame');
    } finally {
      db.prepare(`DELETE FROM embeddings WHERE entry_id IN (7, 150000)`).run();
      for (const row of saved)
        db.prepare(
          'INSERT INTO embeddings (seq, entry_id, model, dim, vector, bits, created_at) VALUES (@seq, @entry_id, @model, @dim, @vector, @bits, @created_at)',
        ).run(row);
    }
  });
});

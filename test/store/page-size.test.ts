// 8 KB pages (issue 24, a year of memory in less space): a frame's row (its OCR text, 2.1-2.4 KB at 300 words)
// fills a 4 KB page alone. Every database this version creates, plain or encrypted with either cipher, has 8 KB
// pages, read back here with the cipher's own settings after reopening with the key; a database of 4 KB pages made
// before still opens, migrates and searches; `openrecall encrypt`'s copy (encryptSqliteFile) is in 8 KB pages;
// `openrecall repage-db` (repageSqliteFile) rewrites an old plain one in 8 KB pages, a crash leaving one whole file.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, it } from 'node:test';
import { DATABASE_CIPHERS, type DatabaseCipher, type DatabaseKey } from '../../src/encryption/data-key.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { encryptSqliteFile } from '../../src/store/encrypt-sqlite-file.js';
import { openStore } from '../../src/store/open-store.js';
import { StoreOpenError } from '../../src/store/ports.js';
import { repageSqliteFile } from '../../src/store/repage-sqlite-file.js';
import { openKeyedDatabase } from '../../src/store/sqlite/database.js';
import { LATEST_VERSION, migrations } from '../../src/store/sqlite/migrations.js';
import { runCli } from '../helpers/server-process.js';
import { addTextFrame } from '../helpers/text-frames.js';
import { tempDir } from '../helpers/temp-dir.js';

type Kind = 'plain' | DatabaseCipher;
const KINDS: Kind[] = ['plain', ...DATABASE_CIPHERS];
const WORD = 'quokkaledger';

/**
 * A connection to `file` with the settings an outside tool would give it, written out here rather than taken from
 * src/store: SQLCipher 4 with `pageSize` (its `cipher_page_size`; the file keeps no page size in the clear), AEGIS
 * (the page size is read from the file). Undefined when they do not open it (SQLITE_NOTADB).
 */
function openAs(file: string, kind: Kind, key: Buffer | undefined, pageSize = 4096): Database.Database | undefined {
  const db = new Database(file, { fileMustExist: true });
  if (kind === 'sqlcipher-v4-raw-key') for (const p of [`cipher = 'sqlcipher'`, 'legacy = 4', `legacy_page_size = ${pageSize}`]) db.pragma(p);
  if (kind === 'aegis-256-raw-key') for (const p of [`cipher = 'aegis'`, `algorithm = 'aegis-256'`]) db.pragma(p);
  if (kind !== 'plain') db.key(Buffer.from(`x'${key!.toString('hex')}'`));
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_NOTADB') return undefined;
    throw error;
  }
}

/** The page size `file` is read with, and its frames' texts, through openAs (SQLCipher: the size that opens it). */
function readBack(file: string, kind: Kind, key: Buffer | undefined): { pageSize: number; texts: string[] } {
  for (const size of kind === 'sqlcipher-v4-raw-key' ? [4096, 8192] : [4096]) {
    const db = openAs(file, kind, key, size);
    if (!db) continue;
    try {
      const pageSize = Number(db.pragma('page_size', { simple: true }));
      const texts = db.prepare('SELECT text FROM entries ORDER BY id').pluck().all() as string[];
      return { pageSize, texts };
    } finally {
      db.close();
    }
  }
  throw new Error(`${file}: no page size opens it as ${kind}`);
}

const keyOf = (kind: Kind): DatabaseKey | undefined => (kind === 'plain' ? undefined : { key: crypto.randomBytes(32), cipher: kind });

async function searchIds(sqliteFile: string, dataDir: string, databaseKey: DatabaseKey | undefined, word = WORD): Promise<number[]> {
  const store = await openStore({ sqliteFile, dataDir, ...(databaseKey ? { databaseKey } : {}) });
  try {
    return (await store.search.keyword(parseQuery(word), {}, 'relevance', 10)).candidates.map((c) => c.id);
  } finally {
    await store.close();
  }
}

/** A database as a version before 8 KB pages made it: 4 KB pages, the cipher's settings then, schema 12, one frame. */
function oldDatabase(file: string, dataDir: string, kind: Kind, key: Buffer | undefined): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  if (kind === 'sqlcipher-v4-raw-key') for (const p of [`cipher = 'sqlcipher'`, 'legacy = 4']) db.pragma(p);
  if (kind === 'aegis-256-raw-key') for (const p of [`cipher = 'aegis'`, `algorithm = 'aegis-256'`]) db.pragma(p);
  if (kind !== 'plain') db.key(Buffer.from(`x'${key!.toString('hex')}'`));
  assert.equal(db.pragma('page_size', { simple: true }), 4096, 'SQLite and SQLCipher 4 default to 4 KB pages');
  db.pragma('journal_mode = WAL');
  for (const migration of migrations.filter((m) => m.version <= 12)) {
    db.transaction(() => migration.up(db, { dataDir, log: () => {} }))();
    db.pragma(`user_version = ${migration.version}`);
  }
  db.prepare(`INSERT INTO entries (timestamp, app, title, text, status) VALUES (1700000000, 'Mail', 'inbox', ?, 'COMPLETED')`).run(`old ${WORD} frame`);
  db.close();
}

describe('8 KB pages', () => {
  for (const kind of KINDS) {
    it(`a new database (${kind}) has 8192-byte pages after reopening with its key, and its frames`, async () => {
      const dataDir = tempDir();
      const sqliteFile = path.join(dataDir, 'db', 'recall.db');
      const databaseKey = keyOf(kind);
      const store = await openStore({ sqliteFile, dataDir, ...(databaseKey ? { databaseKey } : {}) });
      const id = await addTextFrame(store, { timestamp: 1_750_000_000, text: `new ${WORD} frame` });
      await store.close();

      assert.deepEqual(readBack(sqliteFile, kind, databaseKey?.key), { pageSize: 8192, texts: [`new ${WORD} frame`] });
      if (kind === 'plain') assert.equal(fs.readFileSync(sqliteFile).readUInt16BE(16), 8192, 'the header says 8192');
      if (kind === 'sqlcipher-v4-raw-key') assert.equal(openAs(sqliteFile, kind, databaseKey?.key, 4096), undefined, 'SQLCipher 4 defaults do not open it');
      assert.equal(fs.statSync(sqliteFile).size % 8192, 0);
      assert.deepEqual(await searchIds(sqliteFile, dataDir, databaseKey), [id], 'the store opens it again and finds the frame');
    });

    it(`a database of 4 KB pages (${kind}) made before still opens, migrates, searches and keeps its pages`, async () => {
      const dataDir = tempDir();
      const sqliteFile = path.join(dataDir, 'db', 'recall.db');
      const databaseKey = keyOf(kind);
      oldDatabase(sqliteFile, dataDir, kind, databaseKey?.key);

      const store = await openStore({ sqliteFile, dataDir, ...(databaseKey ? { databaseKey } : {}) });
      const added = await addTextFrame(store, { timestamp: 1_750_000_000, text: `later ${WORD} frame` });
      const found = (await store.search.keyword(parseQuery(WORD), {}, 'relevance', 10)).candidates.map((c) => c.id).sort((a, b) => a - b);
      await store.close();

      assert.deepEqual(found, [1, added]);
      assert.deepEqual(readBack(sqliteFile, kind, databaseKey?.key), { pageSize: 4096, texts: [`old ${WORD} frame`, `later ${WORD} frame`] });
      const db = openAs(sqliteFile, kind, databaseKey?.key, 4096)!;
      assert.equal(db.pragma('user_version', { simple: true }), LATEST_VERSION, 'migrated to the latest schema');
      db.close();
      // Opened again (the second start), as it is now.
      assert.deepEqual(
        (await searchIds(sqliteFile, dataDir, databaseKey)).sort((a, b) => a - b),
        [1, added],
      );
    });
  }

  it('an old SQLCipher database whose last frames are only in its WAL (a crash) opens with them all after the 8 KB attempt', () => {
    const dataDir = tempDir();
    const sqliteFile = path.join(dataDir, 'db', 'recall.db');
    const key = crypto.randomBytes(32);
    oldDatabase(sqliteFile, dataDir, 'sqlcipher-v4-raw-key', key);
    const writer = openAs(sqliteFile, 'sqlcipher-v4-raw-key', key, 4096)!;
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    const insert = writer.prepare(`INSERT INTO entries (timestamp, text, status) VALUES (1750000000, ?, 'COMPLETED')`);
    for (let i = 0; i < 20; i++) insert.run(`wal only ${i}`);
    // The files as a power cut would leave them (the writer still open: its WAL not checkpointed).
    const crashed = path.join(tempDir(), 'recall.db');
    for (const suffix of ['', '-wal', '-shm']) fs.copyFileSync(`${sqliteFile}${suffix}`, `${crashed}${suffix}`);
    writer.close();
    assert.ok(fs.statSync(`${crashed}-wal`).size > 0);
    // The 8 KB attempt alone: refused, and the database and its WAL byte for byte as they were.
    const bytes = () => [fs.readFileSync(crashed), fs.readFileSync(`${crashed}-wal`)];
    const before = bytes();
    assert.equal(openAs(crashed, 'sqlcipher-v4-raw-key', key, 8192), undefined);
    assert.deepEqual(bytes(), before);

    const db = openKeyedDatabase(crashed, {}, { key, cipher: 'sqlcipher-v4-raw-key' });
    assert.equal(db.prepare('SELECT count(*) FROM entries').pluck().get(), 21);
    assert.equal(db.pragma('page_size', { simple: true }), 4096);
    db.close();
    assert.equal(readBack(crashed, 'sqlcipher-v4-raw-key', key).texts.length, 21);
  });

  for (const cipher of DATABASE_CIPHERS) {
    for (const from of [8192, 4096]) {
      it(`openrecall encrypt's database step (${cipher}) turns a plain database of ${from}-byte pages into an encrypted one of 8192, every frame kept`, async () => {
        const dataDir = tempDir();
        const sqliteFile = path.join(dataDir, 'db', 'recall.db');
        let id: number;
        if (from === 8192) {
          const store = await openStore({ sqliteFile, dataDir });
          id = await addTextFrame(store, { timestamp: 1_750_000_000, text: `plain ${WORD} frame` });
          await store.close();
        } else {
          oldDatabase(sqliteFile, dataDir, 'plain', undefined);
          id = 1;
        }
        const plainTexts = readBack(sqliteFile, 'plain', undefined).texts;
        assert.equal(readBack(sqliteFile, 'plain', undefined).pageSize, from);

        const databaseKey: DatabaseKey = { key: crypto.randomBytes(32), cipher };
        assert.equal(encryptSqliteFile(sqliteFile, databaseKey), 'encrypted');
        assert.notEqual(fs.readFileSync(sqliteFile).subarray(0, 15).toString('latin1'), 'SQLite format 3');

        assert.deepEqual(readBack(sqliteFile, cipher, databaseKey.key), { pageSize: 8192, texts: plainTexts });
        assert.deepEqual(await searchIds(sqliteFile, dataDir, databaseKey), [id]);
        assert.equal(encryptSqliteFile(sqliteFile, databaseKey), 'already encrypted', 'run again, the key opens it');
      });
    }
  }

  it('repage-db rewrites a plain database of 4 KB pages in 8 KB ones, every frame and the search kept; run again, nothing to do', async () => {
    const dataDir = tempDir();
    const sqliteFile = path.join(dataDir, 'db', 'recall.db');
    oldDatabase(sqliteFile, dataDir, 'plain', undefined);
    // Migrated and used by this version first (its WAL holds the latest frame: the copy must take it too).
    const store = await openStore({ sqliteFile, dataDir });
    const added = await addTextFrame(store, { timestamp: 1_750_000_000, text: `later ${WORD} frame` });
    await store.close();
    const texts = readBack(sqliteFile, 'plain', undefined).texts;

    const done = repageSqliteFile(sqliteFile);
    assert.equal(done.result, 'rewritten');
    assert.deepEqual(readBack(sqliteFile, 'plain', undefined), { pageSize: 8192, texts });
    assert.deepEqual(fs.readdirSync(path.dirname(sqliteFile)), ['recall.db'], 'no copy, WAL or journal left beside it');
    assert.deepEqual(
      (await searchIds(sqliteFile, dataDir, undefined)).sort((a, b) => a - b),
      [1, added],
    );
    assert.equal(repageSqliteFile(sqliteFile).result, 'already');
  });

  it('repage-db stopped after its copy leaves the original whole, and run again finishes', async () => {
    const dataDir = tempDir();
    const sqliteFile = path.join(dataDir, 'db', 'recall.db');
    oldDatabase(sqliteFile, dataDir, 'plain', undefined);
    const stop = new Error('stopped');
    assert.throws(
      () =>
        repageSqliteFile(sqliteFile, (step) => {
          if (step === 'db-copied') throw stop;
        }),
      (error) => error === stop,
    );
    assert.equal(readBack(sqliteFile, 'plain', undefined).pageSize, 4096, 'the original is as it was');
    assert.ok(fs.existsSync(`${sqliteFile}.repaging`), 'its copy is beside it');
    assert.equal(repageSqliteFile(sqliteFile).result, 'rewritten');
    assert.deepEqual(readBack(sqliteFile, 'plain', undefined), { pageSize: 8192, texts: [`old ${WORD} frame`] });
    assert.equal(fs.existsSync(`${sqliteFile}.repaging`), false);
  });

  it('repage-db refuses an encrypted database and changes none of its bytes', () => {
    const dataDir = tempDir();
    const sqliteFile = path.join(dataDir, 'db', 'recall.db');
    const key = crypto.randomBytes(32);
    oldDatabase(sqliteFile, dataDir, 'aegis-256-raw-key', key);
    const before = fs.readFileSync(sqliteFile);
    assert.throws(
      () => repageSqliteFile(sqliteFile),
      (error) => error instanceof StoreOpenError && /is encrypted/.test((error as Error).message),
    );
    assert.ok(fs.readFileSync(sqliteFile).equals(before));
  });

  it('openrecall repage-db (the command) rewrites a plain data dir, and refuses an encrypted one', {
    skip: !fs.existsSync('dist/cli.js') && 'needs npm run build',
  }, async () => {
    const dataDir = tempDir();
    const sqliteFile = path.join(dataDir, 'db', 'recall.db');
    oldDatabase(sqliteFile, dataDir, 'plain', undefined);
    // A server holding the data dir (this test's process, alive) is refused, nothing changed.
    fs.writeFileSync(path.join(dataDir, 'server.lock'), String(process.pid));
    const held = runCli(['repage-db'], { OPENRECALL_DATA_DIR: dataDir });
    assert.equal((await held.exited).code, 1, held.output());
    assert.match(held.output(), /needs the data dir to itself/);
    assert.equal(readBack(sqliteFile, 'plain', undefined).pageSize, 4096);
    fs.rmSync(path.join(dataDir, 'server.lock'));

    const cli = runCli(['repage-db'], { OPENRECALL_DATA_DIR: dataDir });
    assert.equal((await cli.exited).code, 0, cli.output());
    assert.match(cli.output(), /rewritten from 4096-byte pages to 8 KB ones/);
    assert.equal(readBack(sqliteFile, 'plain', undefined).pageSize, 8192);

    const record = { version: 1, files: 'aes-256-gcm-chunked-v1', database: 'aegis-256-raw-key', wraps: [{ source: 'key-file', nonce: '', wrapped: '' }] };
    fs.writeFileSync(path.join(dataDir, 'encryption.json'), JSON.stringify(record));
    const refused = runCli(['repage-db'], { OPENRECALL_DATA_DIR: dataDir });
    assert.equal((await refused.exited).code, 1, refused.output());
    assert.match(refused.output(), /is encrypted: its database keeps the page size/);
  });
});

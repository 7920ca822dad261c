import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DATABASE_CIPHERS, type DatabaseCipher, type DatabaseKey } from '../../src/encryption/data-key.js';
import { DatabaseKeyError, openStore } from '../../src/store/open-store.js';
import { StoreOpenError } from '../../src/store/ports.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { readKeyRecord, writeKeyRecord } from '../../src/encryption/key-record.js';
import { openEncryption } from '../../src/encryption/open-encryption.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { addTextFrame } from '../helpers/text-frames.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET_WORD = 'zanzibarquokka';

async function encryptedDataDir(databaseKey: DatabaseKey) {
  const dataDir = tempDir();
  const sqliteFile = path.join(dataDir, 'db', 'recall.db');
  const store = await openStore({ sqliteFile, dataDir, databaseKey });
  return { dataDir, sqliteFile, store };
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

for (const cipher of DATABASE_CIPHERS)
  describe(`the SQLite database with a key (${cipher})`, () => {
    const newKey = (): DatabaseKey => ({ key: crypto.randomBytes(32), cipher });

    it('keeps FTS5 keyword search working, and recall.db, -wal and -shm hold no SQLite header and no inserted word', async () => {
      const key = newKey();
      const { dataDir, sqliteFile, store } = await encryptedDataDir(key);
      const id = await addTextFrame(store, {
        timestamp: 1_750_000_000,
        text: `meeting notes ${SECRET_WORD} budget`,
        app: 'Secretapp',
        title: 'Confidential plan',
      });
      const { candidates } = await store.search.keyword(parseQuery(SECRET_WORD), {}, 'relevance', 10);
      assert.deepEqual(
        candidates.map((c) => c.id),
        [id],
      );

      const files = ['recall.db', 'recall.db-wal', 'recall.db-shm'].map((name) => path.join(dataDir, 'db', name));
      for (const file of files) {
        assert.ok(fs.existsSync(file), `${file} exists while the store is open`);
        const bytes = fs.readFileSync(file);
        for (const needle of ['SQLite format 3', SECRET_WORD, 'Secretapp', 'Confidential', 'CREATE TABLE', 'entries']) {
          assert.equal(bytes.indexOf(needle), -1, `${path.basename(file)} holds "${needle}"`);
        }
      }
      await store.close();
      const after = fs.readFileSync(sqliteFile);
      assert.equal(after.indexOf(SECRET_WORD), -1);
      assert.equal(after.indexOf('SQLite format 3'), -1);

      const reopened = await openStore({ sqliteFile, dataDir, databaseKey: key });
      assert.deepEqual(
        (await reopened.search.keyword(parseQuery(SECRET_WORD), {}, 'relevance', 10)).candidates.map((c) => c.id),
        [id],
      );
      await reopened.close();
    });

    it('a wrong key fails clearly and leaves every byte of the database as it was', async () => {
      const { sqliteFile, dataDir, store } = await encryptedDataDir(newKey());
      await addTextFrame(store, { timestamp: 1_750_000_000, text: 'kept as it was' });
      await store.close();
      const before = fs.readdirSync(path.dirname(sqliteFile)).map((name) => [name, sha256(path.join(path.dirname(sqliteFile), name))]);

      await assert.rejects(openStore({ sqliteFile, dataDir, databaseKey: newKey() }), (error: unknown) => {
        assert.ok(error instanceof DatabaseKeyError);
        assert.match((error as Error).message, /^the key does not open the data dir/);
        return true;
      });
      await assert.rejects(
        openStore({ sqliteFile, dataDir }),
        (error: unknown) => error instanceof StoreOpenError && /is encrypted/.test((error as Error).message),
      );
      const after = fs.readdirSync(path.dirname(sqliteFile)).map((name) => [name, sha256(path.join(path.dirname(sqliteFile), name))]);
      assert.deepEqual(after, before);
    });

    it('a key given for a plain database fails the same way and leaves it plain', async () => {
      const dataDir = tempDir();
      const sqliteFile = path.join(dataDir, 'db', 'recall.db');
      const plain = await openStore({ sqliteFile, dataDir });
      await addTextFrame(plain, { timestamp: 1_750_000_000, text: 'plain words' });
      await plain.close();
      const before = sha256(sqliteFile);
      await assert.rejects(openStore({ sqliteFile, dataDir, databaseKey: newKey() }), DatabaseKeyError);
      assert.equal(sha256(sqliteFile), before);
      assert.equal(fs.readFileSync(sqliteFile).subarray(0, 15).toString(), 'SQLite format 3');
    });
  });

describe('the database cipher, kept per data dir', () => {
  it('a database opens only with the cipher it was made with: the same key with the other one is refused and nothing is written', async () => {
    const [first, second] = DATABASE_CIPHERS as [DatabaseCipher, DatabaseCipher];
    for (const [made, tried] of [
      [first, second],
      [second, first],
    ] as const) {
      const key = crypto.randomBytes(32);
      const { dataDir, sqliteFile, store } = await encryptedDataDir({ key, cipher: made });
      await addTextFrame(store, { timestamp: 1_750_000_000, text: 'made with one cipher' });
      await store.close();
      const before = sha256(sqliteFile);
      await assert.rejects(openStore({ sqliteFile, dataDir, databaseKey: { key, cipher: tried } }), DatabaseKeyError, `${made} opened as ${tried}`);
      assert.equal(sha256(sqliteFile), before);
      await (await openStore({ sqliteFile, dataDir, databaseKey: { key, cipher: made } })).close();
    }
  });

  it('AEGIS-256 authenticates every page: one changed byte in a page of the file is an error when it is read, never other data', () => {
    const dataDir = tempDir();
    const sqliteFile = path.join(dataDir, 'db', 'recall.db');
    const databaseKey: DatabaseKey = { key: crypto.randomBytes(32), cipher: 'aegis-256-raw-key' };
    const db = openDatabase(sqliteFile, { dataDir, databaseKey });
    db.exec('CREATE TABLE t (x BLOB)');
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(1000, i));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();

    // A byte inside a row's blob near the end of a page (before the nonce and tag): unauthenticated, it would read
    // back as another byte with the table intact.
    const bytes = fs.readFileSync(sqliteFile);
    const at = (Math.floor(bytes.length / pageSize) - 2) * pageSize + pageSize - 200;
    bytes[at] = bytes[at]! ^ 1;
    fs.writeFileSync(sqliteFile, bytes);
    const reopened = openDatabase(sqliteFile, { dataDir, databaseKey });
    try {
      assert.throws(
        () => reopened.prepare('SELECT count(*), sum(length(x)) FROM t').get(),
        (error: unknown) => (error as { code?: string }).code === 'SQLITE_CORRUPT',
      );
    } finally {
      reopened.close();
    }
  });

  it('a data dir encrypted before AEGIS (record and database in SQLCipher 4) opens with the keys openEncryption gives it', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'k.key');
    const sqliteFile = path.join(dataDir, 'db', 'recall.db');
    const keysOf = async () => {
      const opened = await openEncryption({ mode: 'on', keyFile }, dataDir);
      assert.ok(opened.encrypted && !opened.locked);
      return opened.keys;
    };
    const created = await keysOf();
    // What the version before AEGIS wrote: its record names SQLCipher, and its database is one.
    await writeKeyRecord(dataDir, { ...readKeyRecord(dataDir)!, database: 'sqlcipher-v4-raw-key' });
    const old = await openStore({ sqliteFile, dataDir, databaseKey: { key: created.databaseKey.key, cipher: 'sqlcipher-v4-raw-key' } });
    const id = await addTextFrame(old, { timestamp: 1_750_000_000, text: `kept from before ${SECRET_WORD}` });
    await old.close();

    const reopened = await openStore({ sqliteFile, dataDir, databaseKey: (await keysOf()).databaseKey });
    assert.deepEqual(
      (await reopened.search.keyword(parseQuery(SECRET_WORD), {}, 'relevance', 10)).candidates.map((c) => c.id),
      [id],
    );
    await reopened.close();
  });
});

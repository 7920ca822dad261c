import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DatabaseKeyError, openStore } from '../../src/store/open-store.js';
import { StoreOpenError } from '../../src/store/ports.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { addTextFrame } from '../helpers/text-frames.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET_WORD = 'zanzibarquokka';

async function encryptedDataDir(databaseKey: Buffer) {
  const dataDir = tempDir();
  const sqliteFile = path.join(dataDir, 'db', 'recall.db');
  const store = await openStore({ sqliteFile, dataDir, databaseKey });
  return { dataDir, sqliteFile, store };
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('the SQLite database with a key', () => {
  it('keeps FTS5 keyword search working, and recall.db, -wal and -shm hold no SQLite header and no inserted word', async () => {
    const key = crypto.randomBytes(32);
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
    const { sqliteFile, dataDir, store } = await encryptedDataDir(crypto.randomBytes(32));
    await addTextFrame(store, { timestamp: 1_750_000_000, text: 'kept as it was' });
    await store.close();
    const before = fs.readdirSync(path.dirname(sqliteFile)).map((name) => [name, sha256(path.join(path.dirname(sqliteFile), name))]);

    await assert.rejects(openStore({ sqliteFile, dataDir, databaseKey: crypto.randomBytes(32) }), (error: unknown) => {
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
    await assert.rejects(openStore({ sqliteFile, dataDir, databaseKey: crypto.randomBytes(32) }), DatabaseKeyError);
    assert.equal(sha256(sqliteFile), before);
    assert.equal(fs.readFileSync(sqliteFile).subarray(0, 15).toString(), 'SQLite format 3');
  });
});

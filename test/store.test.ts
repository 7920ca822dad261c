import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, it } from 'node:test';
import { openDatabase } from '../src/store/sqlite/database.js';
import { migrations } from '../src/store/sqlite/migrations.js';
import { tempDir } from './helpers/temp-dir.js';

describe('SQLite store', () => {
  it('uses WAL mode, recorded in the database file itself', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'db', 'recall.db');
    openDatabase(file, { dataDir }).close();
    // Bytes 18 and 19 of the header are the read/write format versions: 2 means WAL.
    const header = fs.readFileSync(file).subarray(0, 100);
    assert.equal(header.toString('latin1', 0, 15), 'SQLite format 3');
    assert.equal(header[18], 2);
    assert.equal(header[19], 2);
    const other = new Database(file, { readonly: true });
    assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
    other.close();
  });

  it('sets synchronous=NORMAL and a busy timeout on every connection', () => {
    const dataDir = tempDir();
    const db = openDatabase(path.join(dataDir, 'recall.db'), { dataDir });
    assert.equal(db.pragma('synchronous', { simple: true }), 1);
    assert.ok((db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
    db.close();
  });

  it('runs migrations once: reopening is a no-op and the version is recorded', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'recall.db');
    const logs: string[] = [];
    openDatabase(file, { dataDir, log: (m) => logs.push(m) }).close();
    const afterFirst = logs.length;
    assert.ok(afterFirst >= 1);
    const db = openDatabase(file, { dataDir, log: (m) => logs.push(m) });
    assert.equal(logs.length, afterFirst, 'no migration ran the second time');
    assert.equal(db.pragma('user_version', { simple: true }), Math.max(...migrations.map((m) => m.version)));
    db.close();
  });

  it('leaves the database untouched when a migration fails (each runs in a transaction)', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'recall.db');
    const legacy = new Database(file);
    legacy.exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT, title TEXT, text TEXT, timestamp INTEGER UNIQUE, embedding BLOB);
                 INSERT INTO entries (app, title, text, timestamp) VALUES ('a', 't', 'x', 1700000000);
                 CREATE VIEW entries_legacy AS SELECT 1;`); // makes the rename inside the upgrade fail
    legacy.close();
    assert.throws(() => openDatabase(file, { dataDir }));
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), 0);
    assert.deepEqual(check.prepare('SELECT app, timestamp FROM entries').all(), [{ app: 'a', timestamp: 1700000000 }]);
    check.close();
  });

  it('refuses a database of a newer OpenRecall, and leaves it as it was', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'recall.db');
    const newest = Math.max(...migrations.map((m) => m.version));
    const newer = new Database(file);
    newer.exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY, future TEXT); INSERT INTO entries (future) VALUES ('x');`);
    newer.pragma(`user_version = ${newest + 1}`);
    newer.close();
    const before = fs.readFileSync(file);
    assert.throws(
      () => openDatabase(file, { dataDir }),
      new RegExp(`database schema version ${newest + 1} is newer than this OpenRecall \\(knows up to ${newest}\\); upgrade OpenRecall`),
    );
    assert.deepEqual(fs.readFileSync(file), before, 'the file is byte for byte the same');
    assert.equal(fs.existsSync(`${file}-wal`), false, 'not switched to WAL');
  });
});

// A scrub (after `openrecall redact`) in a process of its own, so that SQLITE_TMPDIR (read once, when SQLite starts)
// names the folder its test watches: a store, encrypted or not (argv[2]: "encrypted" | "plain"), holding ~80 MB
// (a database far larger than SQLite’s page cache, so VACUUM's copy leaves memory), a scrub marked due, then run.
//   SQLITE_TMPDIR=<dir> node --import tsx test/helpers/scrub-child.ts encrypted|plain <dataDir>
import crypto from 'node:crypto';
import path from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const [, , kind, dataDir] = process.argv;
const store = (await openStore({
  sqliteFile: path.join(dataDir!, 'db', 'recall.db'),
  dataDir: dataDir!,
  ...(kind === 'encrypted' ? { databaseKey: { key: crypto.randomBytes(32), cipher: 'aegis-256-raw-key' as const } } : {}),
})) as SqliteStore;
store.db.exec('CREATE TABLE scratch (id INTEGER PRIMARY KEY, text TEXT)');
const insert = store.db.prepare('INSERT INTO scratch (text) VALUES (?)');
store.db.transaction(() => {
  for (let i = 0; i < 400_000; i++) insert.run(`Vault window ${i} ${'x'.repeat(180)}`);
})();
store.db.exec('DELETE FROM scratch WHERE id % 2 = 0');
await store.maintenance.markScrubDue();
await store.maintenance.scrub((await store.maintenance.scrubDue())!);
await store.close();
console.log('scrubbed');

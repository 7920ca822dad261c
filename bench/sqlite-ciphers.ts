// What a random page read costs with each authenticated cipher of SQLite3 Multiple Ciphers, against plain SQLite
// (issue 20): a table of 120 000 rows of 480 bytes (as the 8-bit vectors of 384-d embeddings), a page cache of 10
// pages so nearly every read is a miss, random point reads by rowid; CPU per read, median of 12 passes, the
// ciphers interleaved. Raw keys (no KDF), as the server keys its database.
//   node --import tsx bench/sqlite-ciphers.ts
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { tempDir } from '../test/helpers/temp-dir.js';

const CONFIGS: Record<string, string[] | null> = {
  plain: null,
  'sqlcipher 4 (AES-256-CBC, HMAC-SHA512)': [`cipher = 'sqlcipher'`, 'legacy = 4'],
  'sqlcipher 4 with HMAC-SHA256': [`cipher = 'sqlcipher'`, 'legacy = 4', 'hmac_algorithm = 1', 'kdf_algorithm = 1'],
  'chacha20 (ChaCha20-Poly1305)': [`cipher = 'chacha20'`],
  'aegis-256': [`cipher = 'aegis'`, `algorithm = 'aegis-256'`],
};
const ROWS = 120_000;
const dir = tempDir('openrecall-bench-ciphers-');
const key = crypto.randomBytes(32);
const open = (name: string, index: number) => {
  const db = new Database(path.join(dir, `${index}.db`));
  const pragmas = CONFIGS[name];
  if (pragmas) {
    for (const pragma of pragmas) db.pragma(pragma);
    db.key(Buffer.from(`x'${key.toString('hex')}'`));
  }
  return db;
};
const names = Object.keys(CONFIGS);
const reads = names.map((name, index) => {
  const db = open(name, index);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) insert.run(i, crypto.randomBytes(480));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const reopened = open(name, index);
  reopened.pragma('cache_size = 10');
  return reopened.prepare('SELECT v FROM t WHERE id = ?').pluck();
});
const cpu: number[][] = names.map(() => []);
const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').trim();
for (let pass = 0; pass < 12; pass++) {
  names.forEach((_, i) => {
    const ids = Array.from({ length: 5000 }, () => 1 + Math.floor(Math.random() * ROWS));
    const start = process.cpuUsage();
    for (const id of ids) reads[i]!.get(id);
    const used = process.cpuUsage(start);
    cpu[i]!.push((used.user + used.system) / ids.length);
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const plain = median(cpu[0]!);
console.log(
  JSON.stringify(
    {
      benchmark: 'sqlite-ciphers',
      loadavg: [loadBefore, fs.readFileSync('/proc/loadavg', 'utf8').trim()],
      us_cpu_per_random_row_read: Object.fromEntries(
        names.map((name, i) => [name, { median: Number(median(cpu[i]!).toFixed(2)), over_plain: Number((median(cpu[i]!) - plain).toFixed(2)) }]),
      ),
    },
    null,
    2,
  ),
);

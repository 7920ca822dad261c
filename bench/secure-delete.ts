// What PRAGMA secure_delete costs SQLite's writes here: frames inserted PENDING, given their OCR text (the FTS
// triggers index it), then half deleted by retention, with secure_delete off and on, interleaved runs on the real
// schema; then the scrub `openrecall redact` ends with (FTS optimize, VACUUM, WAL truncated) on what is left.
//   node --import tsx bench/secure-delete.ts [--frames 3000] [--rounds 3]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/sqlite/database.js';
import { seededRandom } from '../test/helpers/seeded-random.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { WORDS } from '../test/helpers/words.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' } } });
const frames = Number(values.frames);
const random = seededRandom(1);
const text = () => Array.from({ length: 250 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
const texts = Array.from({ length: frames }, text);

function run(secureDelete: boolean): { insert: number; ocr: number; delete: number; mb: number; scrubMs: number } {
  const dir = tempDir('openrecall-bench-secure-delete-');
  const file = path.join(dir, 'recall.db');
  const db = openDatabase(file, { dataDir: dir });
  db.pragma(`secure_delete = ${secureDelete ? 'ON' : 'OFF'}`);
  const insert = db.prepare(`INSERT INTO entries (timestamp, app, title, status) VALUES (?, 'bench', 'a window', 'PENDING')`);
  const ocr = db.prepare(`UPDATE entries SET text = ?, status = 'COMPLETED' WHERE id = ?`);
  const remove = db.prepare(`DELETE FROM entries WHERE id = ?`);
  const time = (f: () => void) => {
    const t = performance.now();
    f();
    return (performance.now() - t) / frames;
  };
  const result = {
    insert: time(() => {
      for (let i = 0; i < frames; i++) insert.run(i);
    }),
    ocr: time(() => {
      for (let i = 0; i < frames; i++) ocr.run(texts[i], i + 1);
    }),
    delete: time(() => {
      for (let i = 0; i < frames; i += 2) remove.run(i + 1);
    }),
    mb: 0,
    scrubMs: 0,
  };
  db.pragma('wal_checkpoint(TRUNCATE)');
  result.mb = fs.statSync(file).size / 1e6;
  // The scrub after `openrecall redact` (store/sqlite/maintenance-repository.ts), on this database.
  const t = performance.now();
  for (const table of ['entries_fts', 'entries_trigram', 'entries_cjk']) db.exec(`INSERT INTO ${table}(${table}) VALUES ('optimize')`);
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
  result.scrubMs = performance.now() - t;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

const rows: Array<Record<string, unknown>> = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const secure of [false, true]) {
    const r = run(secure);
    rows.push({
      secure_delete: secure,
      insert_ms: r.insert.toFixed(3),
      ocr_update_ms: r.ocr.toFixed(3),
      delete_ms: r.delete.toFixed(3),
      db_mb: r.mb.toFixed(1),
      scrub_ms: Math.round(r.scrubMs),
    });
  }
}
console.table(rows);
console.log(`load average: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);

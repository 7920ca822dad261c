import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import sharp from 'sharp';
import { after, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { renderTextImage, solidPng } from './helpers/images.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

/** A data dir as the Python OpenRecall left it: its schema, its rows, its screenshots/<timestamp>.png|webp. */
async function pythonDataDir(withStatus: boolean) {
  const dataDir = tempDir();
  fs.mkdirSync(path.join(dataDir, 'db'), { recursive: true });
  fs.mkdirSync(path.join(dataDir, 'screenshots'), { recursive: true });
  const db = new Database(path.join(dataDir, 'db', 'recall.db'));
  db.exec(`CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT, title TEXT, text TEXT,
           timestamp INTEGER UNIQUE, embedding BLOB)`);
  db.exec(`CREATE INDEX IF NOT EXISTS idx_timestamp ON entries (timestamp)`);
  if (withStatus) {
    db.exec(`ALTER TABLE entries ADD COLUMN description TEXT`);
    db.exec(`ALTER TABLE entries ADD COLUMN status TEXT DEFAULT 'COMPLETED'`);
  }
  const vector = Buffer.from(new Float32Array([0.1, 0.2, 0.3]).buffer);
  const rows = [
    { ts: 1_690_000_000, app: 'Firefox', title: 'Docs', text: 'old ocr text one', status: 'COMPLETED', ext: 'webp' },
    { ts: 1_690_000_100, app: 'Terminal', title: 'bash', text: 'old ocr text two', status: null, ext: 'png' },
    { ts: 1_690_000_200, app: 'Slack', title: 'general', text: null, status: 'PENDING', ext: 'png' },
    { ts: 1_690_000_300, app: 'Mail', title: 'Inbox', text: null, status: 'PROCESSING', ext: 'png' },
    { ts: 1_690_000_400, app: 'Code', title: 'main.py', text: 'failed before', status: 'FAILED', ext: 'png' },
  ];
  for (const row of rows) {
    const image = await renderTextImage([`legacy frame ${row.app}`, 'Quarterly revenue spreadsheet'], { width: 640, height: 360 });
    const bytes = row.ext === 'webp' ? await sharp(image).webp().toBuffer() : image;
    fs.writeFileSync(path.join(dataDir, 'screenshots', `${row.ts}.${row.ext}`), bytes);
    if (withStatus) {
      db.prepare(`INSERT INTO entries (app, title, text, timestamp, embedding, description, status) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
        row.app,
        row.title,
        row.text,
        row.ts,
        vector,
        row.text ? `a ${row.app} window` : null,
        row.status,
      );
    } else {
      db.prepare(`INSERT INTO entries (app, title, text, timestamp, embedding) VALUES (?, ?, ?, ?, ?)`).run(row.app, row.title, row.text, row.ts, vector);
    }
  }
  db.close();
  return { dataDir, rows };
}

describe('upgrading a Python OpenRecall database in place', () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('keeps every row of the oldest schema (no status column) as COMPLETED, with its image served', async () => {
    const { dataDir, rows } = await pythonDataDir(false);
    const server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_COMPACT_AFTER_MINUTES: '50000000' });
    servers.push(server);
    const { body } = await getJson(`${server.api}/entries?limit=50`);
    assert.equal(body.entries.length, rows.length);
    for (const row of rows) {
      const entry = body.entries.find((e: any) => e.timestamp === row.ts);
      assert.ok(entry, `row ${row.ts} kept`);
      assert.equal(entry.status, 'COMPLETED');
      assert.equal(entry.app, row.app);
      assert.equal(entry.text, row.text);
      assert.equal(entry.image_path, `screenshots/${row.ts}.${row.ext}`);
      const image = await fetch(`${server.url}${entry.image_url}`);
      assert.equal(image.status, 200);
      assert.deepEqual(Buffer.from(await image.arrayBuffer()), fs.readFileSync(path.join(dataDir, 'screenshots', `${row.ts}.${row.ext}`)));
      const thumb = await fetch(`${server.url}${entry.thumbnail_url}`);
      assert.equal(thumb.status, 200);
      assert.equal(thumb.headers.get('content-type'), 'image/webp');
    }
    await server.stop();
  });

  it('keeps statuses, processes legacy PENDING and interrupted frames with real OCR, and lifts timestamp UNIQUE', async () => {
    const { dataDir, rows } = await pythonDataDir(true);
    const server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'tesseract-js', OPENRECALL_COMPACT_AFTER_MINUTES: '50000000' });
    servers.push(server);
    await server.waitFor(/upgraded legacy OpenRecall database: 5 entries kept/);

    const byTs = async () => {
      const { body } = await getJson(`${server.api}/entries?limit=50`);
      return new Map<number, any>(body.entries.map((e: any) => [e.timestamp, e]));
    };
    await waitUntil(
      async () => {
        const entries = await byTs();
        return entries.get(1_690_000_200)?.status === 'COMPLETED' && entries.get(1_690_000_300)?.status === 'COMPLETED';
      },
      { what: 'legacy PENDING frames processed', timeoutMs: 120_000 },
    );
    const entries = await byTs();
    assert.equal(entries.get(1_690_000_000).status, 'COMPLETED');
    assert.equal(entries.get(1_690_000_000).description, 'a Firefox window');
    assert.equal(entries.get(1_690_000_100).status, 'COMPLETED', 'NULL status becomes COMPLETED');
    assert.equal(entries.get(1_690_000_400).status, 'FAILED', 'FAILED is kept');
    assert.match(entries.get(1_690_000_200).text, /Quarterly revenue spreadsheet/, 'legacy PENDING frame OCRed');
    assert.match(entries.get(1_690_000_300).text, /legacy frame Mail/, 'frame left PROCESSING by the old server OCRed');
    for (const row of rows) {
      const image = await fetch(`${server.url}/api/entries/${entries.get(row.ts).id}/image`);
      assert.equal(image.status, 200, `image of ${row.ts} still served`);
    }

    // Two monitors captured in the same second as a legacy row: all three are stored.
    const same = 1_690_000_000;
    const a = await upload(server.api, { image: await solidPng(100, 80, '#111111'), timestamp: same, monitor: 0 });
    const b = await upload(server.api, { image: await solidPng(100, 80, '#222222'), timestamp: same, monitor: 1 });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    const { body } = await getJson(`${server.api}/entries?limit=50`);
    assert.equal(body.entries.filter((e: any) => e.timestamp === same).length, 3);
    await server.stop();

    const db = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true });
    assert.equal(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'entries_legacy'`).pluck().get(), 0);
    assert.equal((db.prepare('SELECT embedding FROM entries WHERE timestamp = 1690000000').pluck().get() as Buffer).length, 12, 'legacy vector kept');
    db.close();
  });
});

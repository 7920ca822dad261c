import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { after, before, describe, it } from 'node:test';
import { decodeGreyscale } from '../src/pipeline/stage.js';
import { TesseractCliEngine } from '../src/pipeline/ocr/tesseract-cli-engine.js';
import { TesseractJsEngine } from '../src/pipeline/ocr/tesseract-js-engine.js';
import { SearchService } from '../src/search/search-service.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import { migrations } from '../src/store/sqlite/migrations.js';
import { SqliteSearchRepository } from '../src/store/sqlite/search-repository.js';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

// A screen of Simplified Chinese (rendered with Debian's Noto CJK fonts): words run together without spaces.
const CHINESE = ['系统设计文档已经更新', '请在星期五之前检查数据库迁移计划', '会议记录：产品路线图讨论'];
const squeeze = (text: string) => text.replace(/\s+/g, '');
const chineseScreen = () => renderTextImage(CHINESE, { width: 900, height: 300, fontSize: 28 });

describe('OCR languages (OPENRECALL_OCR_LANGUAGES)', () => {
  it('tesseract.js reads Simplified Chinese with chi_sim (Debian tesseract-ocr-chi-sim), offline', async () => {
    const engine = await TesseractJsEngine.create(1, 'eng+chi_sim');
    try {
      const text = squeeze(await engine.recognize(await decodeGreyscale(await chineseScreen())));
      assert.ok(text.includes('数据库迁移计划'), text);
      assert.ok(text.includes('系统设计文档'), text);
    } finally {
      await engine.close();
    }
  });

  it('the tesseract CLI engine takes the same setting', async () => {
    const engine = await TesseractCliEngine.create('tesseract', 'chi_sim');
    const text = squeeze(await engine.recognize(await decodeGreyscale(await chineseScreen())));
    assert.ok(text.includes('产品路线图'), text);
  });

  it('a language that is not installed stops the server with one line naming the package', async () => {
    for (const [engine, pattern] of [
      [
        'tesseract-js',
        /no "klingon" model on this machine: install the npm package @tesseract\.js-data\/klingon .* or the Debian package tesseract-ocr-klingon/,
      ],
      ['tesseract-cli', /the tesseract command has no "klingon" model: install the Debian package tesseract-ocr-klingon/],
    ] as const) {
      const cli = runCli(['server'], {
        OPENRECALL_DATA_DIR: tempDir(),
        OPENRECALL_PORT: '0',
        OPENRECALL_OCR_ENGINE: engine,
        OPENRECALL_OCR_LANGUAGES: 'eng+klingon',
      });
      const { code } = await cli.exited;
      assert.equal(code, 2, cli.output());
      const lines = cli.output().trim().split('\n');
      assert.equal(lines.length, 1, cli.output());
      assert.match(lines[0]!, pattern);
    }
    const bad = runCli(['server'], { OPENRECALL_DATA_DIR: tempDir(), OPENRECALL_PORT: '0', OPENRECALL_OCR_LANGUAGES: 'eng+' });
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.output(), /OPENRECALL_OCR_LANGUAGES="eng\+" is not valid/);
  });
});

describe('CJK OCR text is searchable', () => {
  let server: ServerProcess;
  let id: number;
  before(async () => {
    server = await startServerProcess(tempDir(), { OPENRECALL_OCR_ENGINE: 'tesseract-js', OPENRECALL_OCR_LANGUAGES: 'eng+chi_sim' });
    id = (await upload(server.api, { image: await chineseScreen(), app: 'WeChat', title: 'Work chat' })).body.task_id as number;
    await upload(server.api, { image: await renderTextImage(['Quarterly budget review', 'Database migration plan for Friday']), app: 'Mail', title: 'Inbox' });
    await waitUntil(async () => (await queueCounts(server.api)).completed === 2, { what: 'OCR', timeoutMs: 120_000 });
  });
  after(() => server.stop());

  const ids = async (q: string) =>
    ((await getJson(`${server.api}/search?${new URLSearchParams({ q })}`)).body.results as Array<{ id: number }>).map((r) => r.id);

  it('finds a two-character word inside a longer run of characters', async () => {
    assert.deepEqual(await ids('迁移'), [id]);
    assert.deepEqual(await ids('路线'), [id]);
  });

  it('finds longer words and mixed queries, and not words that are not on the screen', async () => {
    assert.deepEqual(await ids('数据库迁移'), [id]);
    assert.deepEqual(await ids('迁移 WeChat'), [id]);
    assert.deepEqual(await ids('天气'), []);
    assert.deepEqual(await ids('迁移 budget'), []);
  });
});

describe('migration 6', () => {
  it("indexes the CJK text of frames OCR'd before it", async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'db', 'recall.db');
    // A database of version 5, as the migrations up to 5 made it: no bigram index.
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    for (const migration of migrations.filter((m) => m.version <= 5)) migration.up(old, { dataDir, log: () => {} });
    old.pragma('user_version = 5');
    old
      .prepare(`INSERT INTO entries (timestamp, status, app, title, text) VALUES (1700000000, 'COMPLETED', 'Notes', 'Notes', '会议记录 产品路线图讨论')`)
      .run();
    old.close();
    const db = openDatabase(file, { dataDir });
    try {
      const search = new SearchService(new SqliteSearchRepository(db));
      const body = await search.search({ q: '路线', limit: 10, offset: 0 });
      assert.equal(body.results.length, 1);
      db.prepare(`DELETE FROM entries`).run();
      assert.equal((await search.search({ q: '路线', limit: 10, offset: 0 })).results.length, 0, 'deleted with its frame');
    } finally {
      db.close();
    }
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import sharp from 'sharp';
import { after, describe, it } from 'node:test';
import { uploadFrame } from '../src/api-client/upload.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import { SqliteStorageRepository } from '../src/store/sqlite/storage-repository.js';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { STORE_KINDS } from './helpers/stores.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { listFilesRecursive, tempDir } from './helpers/temp-dir.js';

type InProcess = Awaited<ReturnType<typeof startInProcessServer>>;
const DAY = 86_400;
const now = () => Date.now() / 1000;

/**
 * Random pixels: incompressible, so each frame is ~700 KB stored and dwarfs the database's growth. Small, because
 * OCR reads noise slowly (800 x 600: ~2.5 s a frame; this: ~1.3 s).
 */
function noisePng(width = 560, height = 420): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i += 4) pixels.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

function dirBytes(dir: string): number {
  return listFilesRecursive(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

const post = (url: string) => getJson(url, { method: 'POST' });
const storage = async (api: string) => (await getJson(`${api}/queue/status`)).body.storage;

for (const kind of STORE_KINDS)
  describe(`retention and storage budget through the server (${kind})`, () => {
    const inProcess: InProcess[] = [];
    const databases: TestDatabase[] = [];
    after(async () => {
      for (const s of inProcess) await s.close();
      for (const database of databases) await database.drop();
    });
    /** Servers after one another on one data dir, and on one PostgreSQL database when the kind says so. */
    const sharedStore = async () => {
      if (kind === 'sqlite') return {};
      const database = await createTestDatabase();
      databases.push(database);
      return { databaseUrl: database.url };
    };

    it('deletes frames older than OPENRECALL_RETENTION_DAYS: rows, full-text entries, embeddings, images and thumbnails; a dry run deletes nothing', async () => {
      const server = await startInProcessServer({ retentionDays: 30 }, { store: kind });
      inProcess.push(server);
      const frames = [
        { title: 'ancientalpha notes', timestamp: now() - 45 * DAY },
        { title: 'ancientbravo notes', timestamp: now() - 40 * DAY },
        { title: 'ancientcharlie notes', timestamp: now() - 31 * DAY },
        { title: 'recentdelta notes', timestamp: now() - 29 * DAY },
        { title: 'recentecho notes', timestamp: now() - 60 },
      ];
      const ids: number[] = [];
      for (const [i, frame] of frames.entries()) {
        const image = await renderTextImage([frame.title], { width: 320, height: 200, seed: i + 1 });
        ids.push((await upload(server.api, { image, ...frame })).body.task_id as number);
      }
      await waitUntil(async () => (await queueCounts(server.api)).completed === 5, { what: 'processing' });
      const entries = await Promise.all(ids.map(async (id) => (await getJson(`${server.api}/entries/${id}`)).body));
      // An embedding for an old frame: it must go with its row (ON DELETE CASCADE).
      await server.store.embeddings.save(ids[0]!, 'test-model', new Float32Array([0.6, 0.8]));
      assert.equal(await server.store.embeddings.has(ids[0]!, 'test-model'), true);
      const files = (id: number, i: number) => [path.join(server.dataDir, entries[i].image_path), path.join(server.dataDir, 'thumbnails', `${id}.webp`)];
      for (const [i, id] of ids.entries()) for (const f of files(id, i)) assert.ok(fs.existsSync(f), `${f} exists before`);

      const dry = (await post(`${server.api}/storage/prune?dry_run=true`)).body;
      assert.equal(dry.dry_run, true);
      assert.equal(dry.frames, 3);
      assert.deepEqual(dry.by_age.frames, 3);
      assert.equal(dry.by_budget.frames, 0);
      assert.equal(dry.oldest_timestamp, frames[0]!.timestamp);
      assert.equal(dry.newest_timestamp, frames[2]!.timestamp);
      assert.ok(dry.bytes >= entries.slice(0, 3).reduce((s: number, e: any) => s + e.bytes, 0), 'bytes count the images at least');
      assert.equal((await getJson(`${server.api}/entries?limit=10`)).body.entries.length, 5, 'a dry run deletes no row');
      for (const [i, id] of ids.entries()) for (const f of files(id, i)) assert.ok(fs.existsSync(f), `${f} still exists after the dry run`);

      const done = (await post(`${server.api}/storage/prune`)).body;
      assert.equal(done.dry_run, false);
      assert.equal(done.frames, 3);
      for (const [i, id] of ids.entries()) {
        const gone = i < 3;
        assert.equal((await getJson(`${server.api}/entries/${id}`)).status, gone ? 404 : 200, `entry ${i}`);
        for (const f of files(id, i)) assert.equal(fs.existsSync(f), !gone, `${f} ${gone ? 'removed' : 'kept'}`);
      }
      assert.equal(await server.store.embeddings.has(ids[0]!, 'test-model'), false, 'embedding gone');
      const found = async (q: string) => (await getJson(`${server.api}/search?${new URLSearchParams({ q })}`)).body.results.map((r: { id: number }) => r.id);
      assert.deepEqual(await found('ancientalpha'), [], 'word index entry gone');
      assert.deepEqual(await found('ientbrav'), [], 'substring (trigram) entry gone');
      assert.deepEqual(await found('recentdelta'), [ids[3]], 'kept frame still indexed');
      assert.deepEqual(await found('centdel'), [ids[3]], 'kept frame still in the substring index');
      if (kind === 'sqlite') {
        // The index rows themselves (search above hides rows without an entry; these would not).
        assert.equal(server.db.prepare(`SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'ancientalpha'`).pluck().get(), 0);
        assert.equal(server.db.prepare(`SELECT count(*) FROM entries_trigram WHERE entries_trigram MATCH 'ancientbravo'`).pluck().get(), 0);
      }
      const search = (await getJson(`${server.api}/search?q=ancientcharlie`)).body;
      assert.equal(search.results?.length ?? search.hits?.length ?? 0, 0, 'search finds nothing of a deleted frame');
      assert.ok(!fs.existsSync(path.join(server.dataDir, 'retention.journal')), 'no journal left behind');

      const figures = await storage(server.api);
      assert.equal(figures.retention_days, 30);
      assert.equal(figures.budget_bytes, null);
      assert.equal(figures.deleted_frames, 3);
      assert.equal(figures.deleted_bytes, done.bytes);
      assert.equal(figures.oldest_frame_timestamp, frames[3]!.timestamp);
      assert.ok(figures.last_run_at > now() - 600);
      // The running figures against the files really on disk (no frame is waiting, so they are exact).
      assert.equal(figures.images_bytes, dirBytes(path.join(server.dataDir, 'screenshots')));
      assert.equal(figures.thumbnails_bytes, dirBytes(path.join(server.dataDir, 'thumbnails')));
      assert.equal(figures.used_bytes, figures.images_bytes + figures.thumbnails_bytes + figures.database_bytes);
      // PostgreSQL keeps its files outside the data dir: only a SQLite file counts towards the budget.
      if (kind === 'sqlite') assert.ok(figures.database_bytes >= fs.statSync(path.join(server.dataDir, 'db', 'recall.db')).size);
    });

    it('keeps within OPENRECALL_MAX_STORAGE_GB: the oldest captures go first at start, and again after uploads cross the budget', async () => {
      const dataDir = tempDir();
      const store = await sharedStore();
      const first = await startInProcessServer({ dataDir, ...store });
      // Captured in an order unlike their ids: retention goes by capture time.
      const hoursAgo = [5, 2, 6, 1, 4, 3];
      const ids: number[] = [];
      for (const h of hoursAgo) ids.push((await upload(first.api, { image: await noisePng(), timestamp: now() - h * 3600 })).body.task_id as number);
      await waitUntil(async () => (await queueCounts(first.api)).completed === 6, { what: 'processing' });
      const perFrame = (await storage(first.api)).images_bytes / 6;
      await first.close();
      // Measure in the state the budgeted server will find: after a clean close (the WAL checkpointed away).
      const measuring = await startInProcessServer({ dataDir, ...store });
      const measured = (await post(`${measuring.api}/storage/prune?dry_run=true`)).body;
      await measuring.close();

      const budget = Math.floor(measured.used_bytes_before - 2.5 * perFrame);
      const server = await startInProcessServer({ dataDir, ...store, maxStorageBytes: budget });
      inProcess.push(server);
      const afterStart = await waitUntil(
        async () => {
          const s = await storage(server.api);
          return s.last_run_at !== null ? s : undefined;
        },
        { what: 'the start-up retention run' },
      );
      assert.equal(afterStart.budget_bytes, budget);
      assert.equal(afterStart.deleted_frames, 3, 'three frames free more than 2.5 frames of space');
      assert.ok(afterStart.used_bytes <= budget, `${afterStart.used_bytes} <= ${budget}`);
      const oldestFirst = ids.map((id, i) => ({ id, h: hoursAgo[i]! })).sort((a, b) => b.h - a.h);
      for (const [rank, { id }] of oldestFirst.entries()) {
        assert.equal((await getJson(`${server.api}/entries/${id}`)).status, rank < 3 ? 404 : 200, `frame captured ${oldestFirst[rank]!.h} h ago`);
      }

      // New captures push it over again: the uploads themselves schedule a check.
      const fresh: number[] = [];
      for (let i = 0; i < 2; i++) fresh.push((await upload(server.api, { image: await noisePng(), timestamp: now() - 60 + i })).body.task_id as number);
      const settled = await waitUntil(
        async () => {
          const s = await storage(server.api);
          const counts = await queueCounts(server.api);
          return s.deleted_frames >= 5 && counts.pending === 0 && counts.processing === 0 && s.used_bytes <= budget ? s : undefined;
        },
        { what: 'the after-upload check', timeoutMs: 180_000, intervalMs: 500 },
      );
      assert.ok(settled.used_bytes <= budget);
      for (const id of fresh) assert.equal((await getJson(`${server.api}/entries/${id}`)).status, 200, 'the newest frames stay');
      const left = (await getJson(`${server.api}/entries?limit=50`)).body.entries.length;
      assert.equal(left, 8 - settled.deleted_frames);
    });
  });

// These open the SQLite file itself (a crash between rows and files, the query plans) or a server process that
// holds the data dir alone.
describe('retention and storage budget (sqlite)', () => {
  const processes: ServerProcess[] = [];
  after(async () => {
    await Promise.all(processes.map((s) => s.stop()));
  });

  it('openrecall prune on a data dir without a server: never touches frames waiting for processing; a crash between rows and files is finished by the next run', async () => {
    const dataDir = tempDir();
    const seed = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_COMPACT_AFTER_MINUTES: '50000000' });
    processes.push(seed);
    for (let i = 0; i < 4; i++)
      await upload(seed.api, { image: await renderTextImage([`frame ${i}`], { width: 320, height: 200, seed: i + 7 }), timestamp: now() - (10 - i) * DAY });
    await waitUntil(async () => (await queueCounts(seed.api)).completed === 4, { what: 'processing' });
    const entries = (await getJson(`${seed.api}/entries?limit=10`)).body.entries.sort((a: any, b: any) => a.timestamp - b.timestamp);
    await seed.stop();

    // The two oldest look like frames still waiting (as after a crash): they must survive any budget.
    const db = new Database(path.join(dataDir, 'db', 'recall.db'));
    db.prepare(`UPDATE entries SET status = 'PENDING' WHERE id IN (?, ?)`).run(entries[0].id, entries[1].id);
    db.close();
    const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_MAX_STORAGE_GB: '0.000001', OPENRECALL_API_URL: 'http://127.0.0.1:9/api' };
    const fileOf = (e: any) => path.join(dataDir, e.image_path);
    const thumbOf = (e: any) => path.join(dataDir, 'thumbnails', `${e.id}.webp`);

    const dry = runCli(['prune', '--dry-run', '--json'], env);
    assert.equal((await dry.exited).code, 0, dry.output());
    const report = JSON.parse(dry.output().slice(dry.output().indexOf('{')));
    assert.equal(report.frames, 2, 'only the two finished frames');
    assert.equal(report.by_budget.frames, 2);
    assert.equal(report.over_budget, true, 'still over budget with only waiting frames left');
    assert.match(report.where, /no server running/);
    for (const e of entries) assert.ok(fs.existsSync(fileOf(e)), 'dry run removes no file');

    // A process killed for real between the rows and the files of a batch (the two finished frames).
    const crashed = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'helpers', 'retention-crash-child.ts'), dataDir], {
      encoding: 'utf8',
    });
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
    assert.match(crashed.stdout, /deleted 2 row\(s\)/);
    const check = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true });
    const remaining = check.prepare(`SELECT id FROM entries ORDER BY id`).pluck().all();
    check.close();
    assert.deepEqual(remaining.sort(), [entries[0].id, entries[1].id].sort(), 'rows of the finished frames are gone');
    for (const e of entries.slice(2)) assert.ok(fs.existsSync(fileOf(e)) && fs.existsSync(thumbOf(e)), 'their files are still there after the crash');
    assert.ok(fs.existsSync(path.join(dataDir, 'retention.journal')), 'the journal records them');
    assert.ok(
      !fs.existsSync(path.join(dataDir, 'server.lock')) || !isAlive(Number(fs.readFileSync(path.join(dataDir, 'server.lock'), 'utf8'))),
      'the lock is stale',
    );

    // The next run (here: a server start, retention off) finishes the job.
    const server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_COMPACT_AFTER_MINUTES: '50000000' });
    processes.push(server);
    await waitUntil(() => !fs.existsSync(path.join(dataDir, 'retention.journal')), { what: 'the journal to be swept' });
    for (const e of entries.slice(2)) assert.ok(!fs.existsSync(fileOf(e)) && !fs.existsSync(thumbOf(e)), 'orphan files removed');
    for (const e of entries.slice(0, 2)) assert.ok(fs.existsSync(fileOf(e)), 'waiting frames keep their files');
    assert.match(server.output(), /removed 4 file\(s\) left by an interrupted run/);
  });

  it('openrecall prune asks the running server (which holds the data dir, with its token) and says what it would delete, then deletes it', async () => {
    const dataDir = tempDir();
    const token = 'retention-test-token-0123456789';
    const server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_RETENTION_DAYS: '7', OPENRECALL_API_TOKEN: token });
    processes.push(server);
    const authorization = { authorization: `Bearer ${token}` };
    const get = (url: string) => getJson(url, { headers: authorization });
    for (const [i, days] of [20, 9, 1].entries()) {
      const response = await uploadFrame(
        server.api,
        {
          image: await renderTextImage([`frame ${i}`], { width: 320, height: 200, seed: i + 20 }),
          contentType: 'image/png',
          timestamp: now() - days * DAY,
          app: 'TestApp',
          title: `frame ${i}`,
        },
        { token },
      );
      assert.equal(response.status, 202);
    }
    await waitUntil(async () => (await get(`${server.api}/queue/status`)).body.queue.completed === 3, { what: 'processing' });

    const refused = runCli(['prune', '--dry-run'], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: '' });
    assert.equal((await refused.exited).code, 1);
    assert.match(refused.output(), /token missing or wrong/);

    const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: token };

    const dry = runCli(['prune', '--dry-run'], env);
    assert.equal((await dry.exited).code, 0, dry.output());
    assert.match(dry.output(), /keep 7 day\(s\)/);
    assert.match(dry.output(), /the server at/);
    assert.match(dry.output(), /would delete 2 frame\(s\)/);
    assert.match(dry.output(), /captured from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to /);
    assert.equal((await get(`${server.api}/entries?limit=10`)).body.entries.length, 3);

    const real = runCli(['prune'], env);
    assert.equal((await real.exited).code, 0, real.output());
    assert.match(real.output(), /deleted 2 frame\(s\)/);
    assert.equal((await get(`${server.api}/entries?limit=10`)).body.entries.length, 1);
    assert.equal((await get(`${server.api}/queue/status`)).body.storage.deleted_frames, 2);
    const status = runCli(['status'], env);
    assert.equal((await status.exited).code, 0, status.output());
    assert.match(
      status.output(),
      /storage +[\d.]+ MB used \(images [\d.]+ MB, thumbnails [\d.]+ MB, database [\d.]+ MB\), keeping 7 day\(s\), oldest frame \d{4}-\d\d-\d\d \d\d:\d\d UTC, 2 frame\(s\) deleted since start/,
    );
    const openapi = (await get(`${server.api}/openapi.json`)).body;
    assert.ok(openapi.paths['/api/storage/prune']?.post, 'the prune route is documented');
  });

  it('the storage figures read an index, never every row (the server runs them on its request thread)', () => {
    const dir = tempDir();
    const db = openDatabase(path.join(dir, 'db', 'recall.db'), { dataDir: dir });
    const repo = new SqliteStorageRepository(db);
    const statements = (repo as unknown as { stmt: Record<string, { source: string }> }).stmt;
    const parameters: Record<string, unknown[]> = { totals: [], withoutBytes: [1], deletable: [{ before: 0, afterTimestamp: 0, afterId: 0, limit: 1 }] };
    for (const [name, args] of Object.entries(parameters)) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${statements[name]!.source}`).all(...args) as Array<{ detail: string }>;
      const details = plan.map((p) => p.detail).join('; ');
      assert.doesNotMatch(details, /SCAN entries(?! USING)/, `${name}: ${details}`);
    }
    db.close();
  });

  it('a bad retention setting stops start-up with one line', async () => {
    const cli = runCli(['server'], { OPENRECALL_DATA_DIR: tempDir(), OPENRECALL_PORT: '0', OPENRECALL_MAX_STORAGE_GB: 'lots' });
    const { code } = await cli.exited;
    assert.equal(code, 2);
    assert.equal(cli.output().trim(), 'openrecall: OPENRECALL_MAX_STORAGE_GB="lots" is not valid: use a number from 0 to 1000000');
    const days = runCli(['prune'], { OPENRECALL_DATA_DIR: tempDir(), OPENRECALL_RETENTION_DAYS: '-1' });
    assert.equal((await days.exited).code, 2);
    assert.match(days.output(), /OPENRECALL_RETENTION_DAYS="-1" is not valid/);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { after, describe, it } from 'node:test';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { listFilesRecursive, tempDir } from './helpers/temp-dir.js';
import { pickWords } from './helpers/words.js';
import { incomingUploads } from './helpers/upload-reserve.js';

const servers: ServerProcess[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
});

async function start(dataDir: string, env: Record<string, string> = {}) {
  // Frames here stay as their own files (compaction is tested in compaction*.test.ts): the checks below list them.
  const server = await startServerProcess(dataDir, { OPENRECALL_COMPACT_AFTER_MINUTES: '50000000', ...env });
  servers.push(server);
  return server;
}

/** Frames with one unique marker word each, big enough that OCR takes a noticeable time. */
async function uploadFrames(api: string, count: number, tag: string) {
  const frames: Array<{ captureId: string; marker: string }> = [];
  for (let i = 0; i < count; i++) {
    const marker = pickWords(1, i * 13 + 5)[0]!;
    const image = await renderTextImage([`frame ${marker} ${marker}`, ...Array.from({ length: 14 }, (_, j) => pickWords(9, i + j * 3).join(' '))], {
      width: 1920,
      height: 1080,
      fontSize: 18,
      seed: i + 1,
    });
    const captureId = `${tag}-${i}`;
    const response = await upload(api, { image, captureId, timestamp: 1_750_000_000 + i });
    assert.equal(response.status, 202);
    frames.push({ captureId, marker });
  }
  return frames;
}

function readRows(dataDir: string) {
  const db = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, capture_id, status, text, attempts, image_path FROM entries ORDER BY id').all() as Array<{
      id: number;
      capture_id: string;
      status: string;
      text: string | null;
      attempts: number;
      image_path: string;
    }>;
  } finally {
    db.close();
  }
}

describe('server process', () => {
  it('recovers from SIGKILL mid-OCR: after a restart every frame is COMPLETED exactly once, none stuck', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir, { OPENRECALL_WORKERS: '1' });
    const frames = await uploadFrames(first.api, 4, 'crash');
    await waitUntil(
      async () => {
        const q = await queueCounts(first.api);
        return q.completed >= 1 && q.processing >= 1;
      },
      { what: 'a frame mid-OCR', timeoutMs: 60_000, intervalMs: 20 },
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const interrupted = readRows(dataDir).filter((r) => r.status === 'PROCESSING').length;
    assert.ok(interrupted >= 1, 'the kill really interrupted processing');

    const second = await start(dataDir, { OPENRECALL_WORKERS: '1' });
    const recovered = await second.waitFor(/recovered (\d+) interrupted frame/);
    assert.equal(Number(recovered[1]), interrupted);
    await waitUntil(async () => (await queueCounts(second.api)).completed === frames.length, {
      what: 'all frames completed',
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    await second.stop();

    const rows = readRows(dataDir);
    assert.equal(rows.length, frames.length, 'one row per frame, none lost or doubled');
    for (const frame of frames) {
      const row = rows.find((r) => r.capture_id === frame.captureId);
      assert.ok(row, `${frame.captureId} stored`);
      assert.equal(row.status, 'COMPLETED');
      assert.match(row.text ?? '', new RegExp(`frame ${frame.marker}`), `OCR text of ${frame.captureId}`);
      assert.ok(row.attempts <= 2, 'an interrupted frame is retried once, not again and again');
    }
    assert.deepEqual(incomingUploads(dataDir), [], 'no upload left unprocessed');
    const stored = listFilesRecursive(path.join(dataDir, 'screenshots')).map((f) => `screenshots/${f}`);
    assert.deepEqual(stored.sort(), rows.map((r) => r.image_path).sort(), 'exactly one stored image per frame, no orphans');
    assert.equal(listFilesRecursive(path.join(dataDir, 'thumbnails')).length, frames.length);
  });

  it('survives the processor being killed mid-OCR: the server keeps serving, a new processor finishes every frame', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir, { OPENRECALL_WORKERS: '1' });
    const frames = await uploadFrames(server.api, 3, 'proc');
    await waitUntil(async () => (await queueCounts(server.api)).processing >= 1, { what: 'processing', intervalMs: 20 });
    const children = fs.readFileSync(`/proc/${server.child.pid}/task/${server.child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(children.length, 1, 'one processor child');
    process.kill(children[0]!, 'SIGKILL');
    await server.waitFor(/processor died \(SIGKILL\)/);
    assert.equal((await getJson(`${server.api}/health`)).status, 200, 'the HTTP server is unaffected');
    const accepted = await upload(server.api, { image: await renderTextImage(['arrived while the processor was down']), captureId: 'proc-late' });
    assert.equal(accepted.status, 202);
    await server.waitFor(/processor restarted/);
    await waitUntil(async () => (await queueCounts(server.api)).completed === frames.length + 1, {
      what: 'all completed after the restart',
      timeoutMs: 180_000,
    });
    const rows = readRows(dataDir);
    assert.equal(rows.length, frames.length + 1);
    assert.ok(rows.every((r) => r.status === 'COMPLETED'));
  });

  it('shuts down gracefully on SIGTERM: in-flight work finishes, exit 0, nothing left PROCESSING', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir, { OPENRECALL_WORKERS: '1', OPENRECALL_SHUTDOWN_GRACE_SECONDS: '30' });
    await uploadFrames(server.api, 2, 'term');
    await waitUntil(async () => (await queueCounts(server.api)).processing >= 1, { what: 'processing', intervalMs: 20 });
    const { code } = await server.stop('SIGTERM');
    assert.equal(code, 0);
    assert.match(server.output(), /shutdown: [1-9]\d* frame\(s\) finished, 0 returned to PENDING/);
    const rows = readRows(dataDir);
    assert.equal(rows.filter((r) => r.status === 'PROCESSING').length, 0);
    assert.ok(rows.some((r) => r.status === 'COMPLETED'));
    assert.equal(fs.existsSync(path.join(dataDir, 'server.lock')), false, 'lock released');
  });

  it('returns unfinished frames to PENDING when the grace period runs out (SIGINT), without counting the attempt', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir, { OPENRECALL_WORKERS: '1', OPENRECALL_SHUTDOWN_GRACE_SECONDS: '0' });
    await uploadFrames(server.api, 2, 'int');
    await waitUntil(async () => (await queueCounts(server.api)).processing >= 1, { what: 'processing', intervalMs: 20 });
    const { code } = await server.stop('SIGINT');
    assert.equal(code, 0, server.output());
    assert.match(server.output(), /shutdown: \d+ frame\(s\) finished, [1-9]\d* returned to PENDING/);
    const rows = readRows(dataDir);
    assert.equal(rows.filter((r) => r.status === 'PROCESSING').length, 0);
    for (const row of rows.filter((r) => r.status === 'PENDING'))
      assert.equal(row.attempts, 0, JSON.stringify(rows.map(({ text: _t, ...r }) => r)) + server.output());
  });

  it('refuses a second server on the same data dir with a clear message', async () => {
    const dataDir = tempDir();
    await start(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
    const second = runCli(['server'], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_PORT: '0', OPENRECALL_OCR_ENGINE: 'none' });
    const { code } = await second.exited;
    assert.notEqual(code, 0);
    assert.match(second.output(), /another OpenRecall server \(pid \d+\) is using/);
  });

  describe('configuration is validated at start: one line naming the variable and the accepted values', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ OPENRECALL_PORT: 'eighty' }, /OPENRECALL_PORT="eighty" is not valid: use an integer from 0 to 65535/],
      [{ OPENRECALL_PORT: '70000' }, /OPENRECALL_PORT="70000"/],
      [{ OPENRECALL_OCR_ENGINE: 'easyocr' }, /OPENRECALL_OCR_ENGINE="easyocr" is not valid: use one of tesseract-js, tesseract-cli, none/],
      [{ OPENRECALL_DEBUG: 'maybe' }, /OPENRECALL_DEBUG="maybe" is not valid: use true or false/],
      [{ OPENRECALL_WORKERS: '0' }, /OPENRECALL_WORKERS="0" is not valid: use an integer from 1 to 64/],
      [{ OPENRECALL_PROCESSING_LIFO_THRESHOLD: '-1' }, /OPENRECALL_PROCESSING_LIFO_THRESHOLD="-1"/],
      [{ OPENRECALL_MAX_UPLOAD_MB: 'lots' }, /OPENRECALL_MAX_UPLOAD_MB="lots" is not valid: use a number/],
      [{ OPENRECALL_MAX_ATTEMPTS: '1.5' }, /OPENRECALL_MAX_ATTEMPTS="1.5"/],
    ];
    for (const [env, message] of cases) {
      it(Object.keys(env)[0]!, async () => {
        const cli = runCli(['server'], { OPENRECALL_DATA_DIR: tempDir(), ...env });
        const { code } = await cli.exited;
        assert.equal(code, 2);
        const lines = cli.output().trim().split('\n');
        assert.equal(lines.length, 1, cli.output());
        assert.match(lines[0]!, message);
      });
    }
  });

  it('serves on 127.0.0.1 by default and creates the data dir layout', async () => {
    const dataDir = path.join(tempDir(), 'fresh');
    const server = await start(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const dir of ['screenshots', 'db', 'buffer', 'models']) assert.ok(fs.statSync(path.join(dataDir, dir)).isDirectory(), dir);
    assert.ok(fs.existsSync(path.join(dataDir, 'db', 'recall.db')));
    assert.equal((await getJson(`${server.api}/health`)).body.status, 'ok');
  });
});

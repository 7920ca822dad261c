import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queueCounts, upload, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { runCli, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bufferItems, startClientProcess } from '../client/helpers/client-process.js';
import { startXSession, type XSession } from '../client/helpers/x-session.js';

// A screen memory is everything its user saw: no other local user may read any of it. The server, the
// processor, the capture client and the CLI create folders 0700 and files 0600, whatever umask they were
// started with; a data dir an older version left open is tightened at start; doctor fails on an open one.

/** Every folder and file under `dir` (itself included) whose mode is not owner-only: 0700 folders, 0600 files. */
function notOwnerOnly(dir: string): string[] {
  const wrong: string[] = [];
  const visit = (target: string) => {
    const stat = fs.lstatSync(target);
    const mode = stat.mode & 0o777;
    const name = path.relative(dir, target) || '.';
    if (stat.isDirectory()) {
      if (mode !== 0o700) wrong.push(`${name}/ ${mode.toString(8)}`);
      for (const entry of fs.readdirSync(target)) visit(path.join(target, entry));
    } else if (stat.isFile()) {
      if (mode !== 0o600) wrong.push(`${name} ${mode.toString(8)}`);
    } else if (mode & 0o077) {
      wrong.push(`${name} (socket or link) ${mode.toString(8)}`); // the client's control socket
    }
  };
  visit(dir);
  return wrong;
}

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

async function doctor(dataDir: string, api: string) {
  const run = runCli(['doctor', '--json'], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: api, DISPLAY: '', WAYLAND_DISPLAY: '' });
  const { code } = await run.exited;
  const parsed = JSON.parse(run.output().slice(run.output().indexOf('{'))) as { checks: { check: string; status: string; message: string }[] };
  return { code, dataDir: parsed.checks.find((c) => c.check === 'data dir')! };
}

describe('owner-only files (issue 18, item 3)', () => {
  const previousUmask = process.umask(0o022); // the test's own files are 0644: the processes must not inherit that
  let x: XSession | undefined;
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
    await x?.close();
    process.umask(previousUmask);
  });

  describe('after a real run: server, processed frames, a client buffer and an export', () => {
    const dataDir = path.join(tempDir(), 'data'); // the server creates it
    const exportFile = path.join(tempDir(), 'history.zip');
    before(async () => {
      server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
      for (const color of ['#112233', '#445566']) assert.equal((await upload(server.api, { image: await solidPng(320, 200, color) })).status, 202);
      await waitUntil(async () => (await queueCounts(server!.api)).completed === 2, { what: 'both frames processed' });

      // The capture client, sharing the data dir, with no server to send to: its frames stay in buffer/.
      x = await startXSession();
      const client = await startClientProcess(x, dataDir, 'http://127.0.0.1:9/api');
      await waitUntil(() => bufferItems(client.bufferDir).length > 0, { timeoutMs: 30_000, what: 'a frame in the client buffer' });
      await client.stop();

      const exported = runCli(['export', exportFile], { OPENRECALL_DATA_DIR: dataDir });
      assert.equal((await exported.exited).code, 0, exported.output());
    });

    it('every folder is 0700 and every file 0600: database, WAL, SHM, lock, uploads, frames, thumbnails, buffer', () => {
      const files = filesUnder(dataDir);
      for (const expected of [
        /^db\/recall\.db$/,
        /^db\/recall\.db-wal$/,
        /^db\/recall\.db-shm$/,
        /^server\.lock$/,
        /^screenshots\/\d{4}\/\d\d\/\d\d\/\d+\.webp$/,
        /^thumbnails\/\d+\.webp$/,
        /^buffer\/.+\.orf$/,
      ]) {
        assert.ok(
          files.some((f) => expected.test(f)),
          `${expected} among ${files.join(', ')}`,
        );
      }
      assert.deepEqual(notOwnerOnly(dataDir), []);
    });

    it('the export is 0600', () => {
      assert.equal(fs.statSync(exportFile).mode & 0o777, 0o600);
    });
  });

  describe('a data dir an older version left open', () => {
    const dataDir = path.join(tempDir(), 'open');
    before(async () => {
      await server?.stop();
      for (const dir of ['', 'db', 'thumbnails', 'screenshots/2026/01/02']) fs.mkdirSync(path.join(dataDir, dir), { recursive: true, mode: 0o755 });
      for (const dir of ['', 'db', 'thumbnails', 'screenshots', 'screenshots/2026', 'screenshots/2026/01', 'screenshots/2026/01/02']) {
        fs.chmodSync(path.join(dataDir, dir), 0o755);
      }
      fs.writeFileSync(path.join(dataDir, 'db', 'recall.db'), ''); // an empty file is an empty SQLite database
      fs.writeFileSync(path.join(dataDir, 'thumbnails', '7.webp'), 'old thumbnail');
      fs.writeFileSync(path.join(dataDir, 'screenshots', '2026', '01', '02', '7.webp'), 'old frame');
      for (const file of filesUnder(dataDir)) fs.chmodSync(path.join(dataDir, file), 0o644);
      assert.notDeepEqual(notOwnerOnly(dataDir), [], 'the set-up is open to other users');
    });

    it('doctor fails on it and says how to fix it', async () => {
      const found = await doctor(dataDir, 'http://127.0.0.1:9/api');
      assert.equal(found.code, 1);
      assert.equal(found.dataDir.status, 'fail');
      assert.match(found.dataDir.message, /can be read by other users: .*\(mode 755\).*db\/recall\.db \(mode 644\).*chmod -R go-rwx /);
    });

    it('the server tightens it at start with a log line: the top at once, the tree below in the background', async () => {
      server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
      assert.match(
        server.output(),
        /data dir was readable by other users: made owner-only \(0700 folders, 0600 files\): \. \(was 755\), .*db\/recall\.db \(was 644\)/,
      );
      await server.waitFor(/data dir tightened: \d+ more folder\(s\) and file\(s\) made owner-only/);
      assert.deepEqual(notOwnerOnly(dataDir), []);
      assert.equal(fs.readFileSync(path.join(dataDir, 'screenshots', '2026', '01', '02', '7.webp'), 'utf8'), 'old frame', 'only modes change');
    });

    it('doctor then passes the data dir check', async () => {
      const found = await doctor(dataDir, server!.api);
      assert.equal(found.dataDir.status, 'ok', found.dataDir.message);
      assert.match(found.dataDir.message, /owner-only \(mode 700\)/);
    });

    it('a database file made readable later is found by doctor, even inside a private data dir', async () => {
      fs.chmodSync(path.join(dataDir, 'db', 'recall.db'), 0o640);
      const found = await doctor(dataDir, server!.api);
      assert.equal(found.code, 1);
      assert.equal(found.dataDir.status, 'fail');
      assert.match(found.dataDir.message, /db\/recall\.db \(mode 640\)/);
    });
  });
});

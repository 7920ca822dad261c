// Nothing is lost when the server or network is down, when the client is killed, or when the server rejects
// a frame. The built `openrecall client` on a real X server, the real server started and stopped around it.
import { freePort } from '../helpers/free-port.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { decodeItem, encodeItem } from '../../src/client/buffer.js';
import { newCaptureId } from '../../src/client/client.js';
import { waitUntil } from '../helpers/api.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bufferItems, entries, sleep, startClientProcess, waitForEntry, type ClientProcess } from './helpers/client-process.js';
import { openWindowForTest, startXSession, type XSession } from './helpers/x-session.js';

let session: XSession;
before(async () => {
  session = await startXSession();
});
after(() => session?.close());

async function client(t: TestContext, dataDir: string, api: string, extra: Record<string, string> = {}): Promise<ClientProcess> {
  const c = await startClientProcess(session, dataDir, api, extra);
  t.after(() => c.stop('SIGKILL'));
  return c;
}

async function server(t: TestContext, port = 0) {
  const s = await startInProcessServer({ port });
  t.after(() => s.close());
  return s;
}

const window = (t: TestContext, title: string) => openWindowForTest(t, session, title);

test('offline: 20 frames captured while the server is down are all stored exactly once when it comes up', async (t) => {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api`;
  const win = await window(t, 'Offline frame 0');
  const c = await client(t, tempDir(), api, { OPENRECALL_CAPTURE_INTERVAL: '0.1', OPENRECALL_CLIENT_IMAGE_FORMAT: 'png' });
  for (let i = 0; i < 20; i++) {
    if (i > 0) await win.setTitle(`Offline frame ${i}`);
    await waitUntil(async () => (await c.status()).frames.captured === i + 1, { timeoutMs: 20_000, intervalMs: 30, what: `frame ${i}` });
  }
  const buffered = bufferItems(c.bufferDir);
  assert.equal(buffered.length, 20);
  const status = await c.status();
  assert.equal(status.uploader.state, 'retrying');
  assert.match(status.uploader.lastError, /server unreachable/);
  assert.match(c.output(), /upload failed: server unreachable .* 1 frame\(s\) kept in the buffer/);

  const s = await server(t, port); // the same address the client keeps trying
  await waitUntil(async () => (await c.status()).buffer.items === 0, { timeoutMs: 20_000, what: 'the backlog to drain' });
  const stored = (await entries(s.api)).filter((e) => e.title.startsWith('Offline frame '));
  assert.equal(stored.length, 20);
  assert.deepEqual(
    stored.map((e) => e.capture_id).sort(),
    buffered.map((n) => n.replace(/\.orf$/, '')),
  );
  assert.deepEqual(new Set(stored.map((e) => e.title)).size, 20);
  assert.equal((await c.status()).uploader.duplicates, 0);
  assert.match(c.output(), /upload works again after \d+ failed attempt/);
});

test('SIGTERM while the server is down exits 0 within seconds; the next start delivers the backlog', async (t) => {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api`;
  await window(t, 'Backlog after restart');
  const dataDir = tempDir();
  const first = await client(t, dataDir, api, { OPENRECALL_UPLOAD_BACKOFF_MAX_SECONDS: '60' });
  await waitUntil(async () => (await first.status()).frames.captured === 1, { timeoutMs: 20_000, what: 'a frame' });
  await waitUntil(async () => (await first.status()).uploader.state === 'retrying', { timeoutMs: 20_000, what: 'a failed upload' });
  const exit = await first.stop('SIGTERM');
  assert.equal(exit.code, 0);
  assert.ok(exit.ms < 10_000, `took ${exit.ms} ms: the 60 s back-off wait must be interrupted at shutdown`);
  assert.match(first.output(), /stopped; 1 frame\(s\) left in the buffer for the next start/);
  const [item] = bufferItems(first.bufferDir);
  assert.ok(item);

  const s = await server(t, port);
  const second = await client(t, dataDir, api);
  assert.match(second.output(), /resuming 1 frame\(s\)/);
  const entry = await waitForEntry(s.api, (e) => e.title === 'Backlog after restart', 'the buffered frame');
  assert.equal(entry.capture_id, item.replace(/\.orf$/, ''));
});

test('SIGKILL at any moment leaves complete items or nothing; after a restart every complete item is delivered', async (t) => {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api`;
  const dataDir = tempDir();
  const win = await window(t, 'Kill test 0');
  // PNG frames, a fast interval and a title changing all the time: the client is writing most of the time.
  const env = { OPENRECALL_CLIENT_IMAGE_FORMAT: 'png', OPENRECALL_CAPTURE_INTERVAL: '0.1' };
  let n = 0;
  let changing = true;
  const changer = (async () => {
    while (changing) await win.setTitle(`Kill test ${++n}`).catch(() => {});
  })();
  t.after(async () => {
    changing = false;
    await changer;
  });
  const bufferDir = path.join(dataDir, 'buffer');
  fs.mkdirSync(bufferDir, { recursive: true });
  for (let round = 0; round < 4; round++) {
    // Even rounds: writes pause halfway (a test-only knob) and the kill lands while the temp file is half
    // written. Odd rounds: killed at a random moment.
    const midWrite = round % 2 === 0;
    const c = await client(t, dataDir, api, midWrite ? { ...env, OPENRECALL_TEST_BUFFER_WRITE_DELAY_MS: '500' } : env);
    const killAt = bufferItems(bufferDir).length + 2;
    const seen = new Set<string>();
    const watcher = fs.watch(bufferDir, (_event, name) => {
      const file = String(name);
      if (!file.startsWith('.tmp-') || seen.has(file)) return; // a temp file's second event is its rename
      seen.add(file);
      if (midWrite && bufferItems(bufferDir).length >= killAt) c.child.kill('SIGKILL');
    });
    if (!midWrite) {
      await waitUntil(() => bufferItems(bufferDir).length >= killAt, { timeoutMs: 20_000, intervalMs: 20, what: 'frames being written' });
      await sleep(Math.floor(Math.random() * 150));
      c.child.kill('SIGKILL');
    }
    const exit = await Promise.race([c.exited, sleep(20_000).then(() => ({ signal: 'timeout' }))]);
    watcher.close();
    assert.equal(exit.signal, 'SIGKILL');
  }
  changing = false;
  await changer;

  // Every item under its final name is complete and intact. A kill during a write leaves only a temp file;
  // each restart moved those to quarantine ("incomplete write"), the last round's are still here.
  const complete = bufferItems(bufferDir);
  assert.ok(complete.length >= 6, `${complete.length} items`);
  for (const name of complete) decodeItem(fs.readFileSync(path.join(bufferDir, name)));
  const quarantineDir = path.join(bufferDir, 'quarantine');
  const interrupted = () => fs.readdirSync(quarantineDir).filter((f) => !f.endsWith('.reason.txt'));
  const temps = fs.readdirSync(bufferDir).filter((f) => f.startsWith('.tmp-'));
  t.diagnostic(`${complete.length} complete items, ${interrupted().length + temps.length} interrupted writes`);
  assert.ok(interrupted().length + temps.length >= 2, 'the mid-write kills left (only) temp files');

  const s = await server(t, port);
  const c = await client(t, dataDir, api, env);
  await waitUntil(async () => (await entries(s.api)).length >= complete.length, { timeoutMs: 30_000, what: 'the backlog to be delivered' });
  const delivered = new Set((await entries(s.api)).map((e) => e.capture_id));
  for (const name of complete) assert.ok(delivered.has(name.replace(/\.orf$/, '')), `${name} was not delivered`);
  // Interrupted writes are in quarantine with the reason, none of them sent. The mid-write kills left partial
  // files; a random kill may land between the last byte and the rename, leaving a whole file that was never
  // committed to the buffer (quarantined all the same).
  const quarantined = interrupted();
  assert.ok(quarantined.length >= 2);
  let partial = 0;
  for (const name of quarantined) {
    assert.match(fs.readFileSync(path.join(quarantineDir, `${name}.reason.txt`), 'utf8'), /incomplete write/);
    try {
      decodeItem(fs.readFileSync(path.join(quarantineDir, name)));
    } catch (error) {
      assert.match(String(error), /truncated|unreadable|image is|checksum|magic/);
      partial++;
    }
    const id = /^tmp-(.+)-\d+$/.exec(name)?.[1];
    assert.ok(id && !delivered.has(id), `${name} must not reach the server`);
  }
  assert.ok(partial >= 2, `${partial} of the quarantined writes are partial: the mid-write kills left partial files`);
  assert.equal((await c.status()).uploader.quarantined, 0);
});

test('a frame the server rejects (4xx) is quarantined with its message; the frames behind it still upload', async (t) => {
  const s = await server(t);
  const dataDir = tempDir();
  const bufferDir = path.join(dataDir, 'buffer');
  fs.mkdirSync(bufferDir, { recursive: true });
  // The oldest item in the queue holds bytes that are not an image.
  const badId = newCaptureId(Date.now() - 60_000, 0);
  fs.writeFileSync(
    path.join(bufferDir, `${badId}.orf`),
    encodeItem(
      { captureId: badId, timestamp: Date.now() / 1000 - 60, app: 'Broken', title: 'not an image', monitor: 0, contentType: 'image/png' },
      Buffer.from('garbage, not a PNG'),
    ),
  );
  await window(t, 'After the rejected one');
  const c = await client(t, dataDir, s.api);
  await waitForEntry(s.api, (e) => e.title === 'After the rejected one', 'the next frame');
  const reason = fs.readFileSync(path.join(bufferDir, 'quarantine', `${badId}.orf.reason.txt`), 'utf8');
  assert.match(reason, /rejected by the server: HTTP 4\d\d: \S+/);
  assert.ok(fs.existsSync(path.join(bufferDir, 'quarantine', `${badId}.orf`)));
  assert.equal((await entries(s.api)).filter((e) => e.capture_id === badId).length, 0);
  const status = await c.status();
  assert.equal(status.uploader.quarantined, 1);
  assert.equal(status.buffer.quarantined, 1);
  assert.match(c.output(), new RegExp(`quarantined ${badId}\\.orf: rejected by the server`));
});

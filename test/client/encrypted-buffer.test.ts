// The capture client's buffer with OPENRECALL_ENCRYPTION=on: the built `openrecall client` on a real X server,
// the real server started after it. What a stolen disk of the client's machine shows, that every frame still
// arrives, that frames buffered plain before encryption was on are sealed and sent, and that a wrong key or a
// plain start refuses in one line without touching the buffer.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { decodeItem, encodeItem, type FrameMeta } from '../../src/client/buffer.js';
import { openBufferCipher } from '../../src/client/buffer-cipher.js';
import { newCaptureId } from '../../src/client/client.js';
import { openDataDir } from '../../src/files/open-data-dir.js';
import { waitUntil } from '../helpers/api.js';
import { freePort } from '../helpers/free-port.js';
import { renderTextImage } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { runCli } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bufferItems, clientEnv, entries, startClientProcess, type ClientProcess, type Entry } from './helpers/client-process.js';
import { openWindowForTest, startXSession, type XSession } from './helpers/x-session.js';

let session: XSession;
before(async () => {
  session = await startXSession();
});
after(() => session?.close());

/** A word only the window titles hold: no file of the buffer may show it. */
const SECRET = 'marmalade';
const HEADERS: Array<[string, Buffer]> = [
  ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47])],
  ['WebP', Buffer.from('WEBP')],
  ['RIFF', Buffer.from('RIFF')],
  ['frame header', Buffer.from('OPENRECALL-FRAME')],
];

function everyFile(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? everyFile(full) : entry.isFile() ? [full] : [];
  });
}

/** What a stolen disk shows of the buffer: every file, raw. */
function plaintextFound(bufferDir: string): string[] {
  const found: string[] = [];
  for (const file of everyFile(bufferDir)) {
    const bytes = fs.readFileSync(file);
    for (const [name, header] of HEADERS) if (bytes.includes(header)) found.push(`${path.relative(bufferDir, file)}: ${name}`);
    if (bytes.toString('latin1').toLowerCase().includes(SECRET)) found.push(`${path.relative(bufferDir, file)}: "${SECRET}"`);
  }
  return found;
}

const hashes = (dir: string) =>
  new Map(everyFile(dir).map((f) => [path.relative(dir, f), crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex')]));

/** The buffered frames, opened with the key file as the client opens them. */
async function openedItems(bufferDir: string, keyFile: string): Promise<Map<string, { meta: FrameMeta; image: Buffer }>> {
  const files = openDataDir(bufferDir, await openBufferCipher({ mode: 'on', keyFile }, bufferDir));
  return new Map(bufferItems(bufferDir).map((name) => [name.replace(/\.orf$/, ''), decodeItem(files.readFileSync(name))]));
}

const pixels = async (image: Buffer) => (await sharp(image).removeAlpha().raw().toBuffer()).toString('base64');

/** Every frame the server stores shows exactly the pixels the client buffered. */
async function assertArrivedIntact(api: string, stored: Entry[], buffered: Map<string, { image: Buffer }>) {
  assert.deepEqual(stored.map((e) => e.capture_id).sort(), [...buffered.keys()].sort());
  for (const entry of stored) {
    const response = await fetch(`${api}/entries/${entry.id}/image`);
    assert.equal(response.status, 200, `frame ${entry.id}`);
    const served = Buffer.from(await response.arrayBuffer());
    assert.equal(await pixels(served), await pixels(buffered.get(entry.capture_id)!.image), `frame ${entry.capture_id} differs`);
  }
}

async function client(t: TestContext, dataDir: string, api: string, extra: Record<string, string>): Promise<ClientProcess> {
  const c = await startClientProcess(session, dataDir, api, extra);
  t.after(() => c.stop('SIGKILL'));
  return c;
}

async function server(t: TestContext, port: number) {
  const s = await startInProcessServer({ port });
  t.after(() => s.close());
  return s;
}

const encryptedEnv = (keyFile: string) => ({ OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile, OPENRECALL_CLIENT_IMAGE_FORMAT: 'png' });

test('frames buffered while the server is down show no image header and no title on the disk; all arrive intact', async (t) => {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api`;
  const keyFile = path.join(tempDir(), 'client.key');
  const win = await openWindowForTest(t, session, `Sealed ${SECRET} 0`);
  const c = await client(t, tempDir(), api, { ...encryptedEnv(keyFile), OPENRECALL_CAPTURE_INTERVAL: '0.1' });
  for (let i = 0; i < 5; i++) {
    if (i > 0) await win.setTitle(`Sealed ${SECRET} ${i}`);
    await waitUntil(async () => (await c.status()).frames.captured === i + 1, { timeoutMs: 20_000, intervalMs: 30, what: `frame ${i}` });
  }
  assert.equal(bufferItems(c.bufferDir).length, 5);
  assert.ok(fs.existsSync(path.join(c.bufferDir, 'encryption.json')), 'the buffer has its own key record');
  assert.equal(fs.statSync(keyFile).size, 32, 'the key file was made at the first start');
  assert.deepEqual(plaintextFound(c.bufferDir), []);
  // The same items, opened with the key: PNG screenshots with the titles (so the check above looked at real frames).
  const buffered = await openedItems(c.bufferDir, keyFile);
  assert.deepEqual(
    [...buffered.values()].map((f) => f.meta.title).sort(),
    [0, 1, 2, 3, 4].map((i) => `Sealed ${SECRET} ${i}`),
  );
  for (const { image } of buffered.values()) assert.ok(image.subarray(0, 4).equals(HEADERS[0]![1]));

  const s = await server(t, port);
  await waitUntil(async () => (await c.status()).buffer.items === 0, { timeoutMs: 30_000, what: 'the backlog to drain' });
  const stored = (await entries(s.api)).filter((e) => e.title.startsWith(`Sealed ${SECRET}`));
  await assertArrivedIntact(s.api, stored, buffered);
  const status = await c.status();
  assert.equal(status.buffer.quarantined, 0);
  assert.equal(status.uploader.quarantined, 0);
});

test('frames left plain in the buffer before encryption was switched on are sealed at start, then all delivered', async (t) => {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api`;
  const dataDir = tempDir();
  const bufferDir = path.join(dataDir, 'buffer');
  fs.mkdirSync(path.join(bufferDir, 'quarantine'), { recursive: true });
  const plain = new Map<string, { meta: FrameMeta; image: Buffer }>();
  for (let i = 0; i < 3; i++) {
    const captureId = newCaptureId(Date.now() - 60_000 + i, 0);
    const meta = { captureId, timestamp: Date.now() / 1000 - 60 + i, app: 'Editor', title: `Plain ${SECRET} ${i}`, monitor: 0, contentType: 'image/png' };
    const image = await renderTextImage([`plain frame ${i}`]);
    plain.set(captureId, { meta, image });
    fs.writeFileSync(path.join(bufferDir, `${captureId}.orf`), encodeItem(meta, image));
  }
  // A quarantined item from the plain days (a write cut short), with its reason.
  const [first] = plain.values();
  fs.writeFileSync(path.join(bufferDir, 'quarantine', 'tmp-cut-1.orf'), encodeItem(first!.meta, first!.image).subarray(0, 300));
  fs.writeFileSync(path.join(bufferDir, 'quarantine', 'tmp-cut-1.orf.reason.txt'), 'incomplete write\n');
  assert.ok(plaintextFound(bufferDir).length >= 4, 'the plain buffer shows its frames');

  const keyFile = path.join(tempDir(), 'client.key');
  await openWindowForTest(t, session, 'After encryption on');
  const c = await client(t, dataDir, api, encryptedEnv(keyFile));
  assert.match(c.output(), /buffer: sealed 3 frame\(s\) left unencrypted from before encryption was switched on/);
  assert.deepEqual(plaintextFound(bufferDir), []);
  const sealed = await openedItems(bufferDir, keyFile);
  for (const [id, frame] of plain) assert.ok(sealed.get(id)?.image.equals(frame.image), `${id} sealed whole`);

  const s = await server(t, port);
  await waitUntil(async () => (await entries(s.api)).filter((e) => e.title.startsWith(`Plain ${SECRET}`)).length === 3, {
    timeoutMs: 30_000,
    what: 'the three plain frames',
  });
  await assertArrivedIntact(
    s.api,
    (await entries(s.api)).filter((e) => e.title.startsWith(`Plain ${SECRET}`)),
    plain,
  );
});

test('a key that does not open the buffer, or a start with encryption off, stops in one line and leaves the buffer as it was', async (t) => {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api`;
  const dataDir = tempDir();
  const keyFile = path.join(tempDir(), 'client.key');
  await openWindowForTest(t, session, `Kept ${SECRET}`);
  const first = await client(t, dataDir, api, encryptedEnv(keyFile));
  await waitUntil(async () => (await first.status()).frames.captured >= 1, { timeoutMs: 20_000, what: 'a frame' });
  assert.equal((await first.stop('SIGTERM')).code, 0);
  const [item] = bufferItems(first.bufferDir);
  assert.ok(item);
  const before = hashes(dataDir);

  const otherKey = path.join(tempDir(), 'other.key');
  fs.writeFileSync(otherKey, crypto.randomBytes(32), { mode: 0o600 });
  const refusals: Array<{ env: Record<string, string>; says: RegExp }> = [
    {
      env: { OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: otherKey },
      says: /^openrecall: the key in .*other\.key does not open the data dir .*buffer$/,
    },
    { env: { OPENRECALL_ENCRYPTION: 'off' }, says: /^openrecall: .*buffer is encrypted: start with OPENRECALL_ENCRYPTION=on/ },
  ];
  for (const { env, says } of refusals) {
    const cli = runCli(['client'], clientEnv(session, dataDir, api, env));
    const exit = await cli.exited;
    assert.equal(exit.code, 2, cli.output());
    const lines = cli.output().trim().split('\n');
    assert.equal(lines.length, 1, cli.output());
    assert.match(lines[0]!, says);
    assert.deepEqual(hashes(dataDir), before, 'the buffer is untouched');
  }

  // The right key again: the frame is still there and arrives.
  const s = await server(t, port);
  const again = await client(t, dataDir, api, encryptedEnv(keyFile));
  await waitUntil(async () => (await entries(s.api)).some((e) => e.capture_id === item.replace(/\.orf$/, '')), { timeoutMs: 30_000, what: 'the kept frame' });
  assert.equal((await again.status()).buffer.quarantined, 0);
});

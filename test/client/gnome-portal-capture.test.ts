// The capture client on GNOME, portal backend, for real: headless mutter, PipeWire, xdg-desktop-portal with
// xdg-desktop-portal-gnome. The user approves the "Screen Share" dialog once (keys pressed through mutter's
// RemoteDesktop API); frames come from the ScreenCast PipeWire stream and reach the real server, where real OCR
// reads the window; the restore token is kept owner-only, and the next start is silent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { restoreTokenPath } from '../../src/client/capture/portal.js';
import { waitUntil } from '../helpers/api.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startClientProcess, waitForEntry, type ClientProcess } from './helpers/client-process.js';
import { startGnomeSession, type GnomeSession } from './helpers/gnome-session.js';

let gnome: GnomeSession;
let api: string;
let closeServer: () => Promise<void>;
const clients: ClientProcess[] = [];

before(async () => {
  gnome = await startGnomeSession({ width: 1280, height: 720 });
  const server = await startInProcessServer({ ocrEngine: 'tesseract-js' });
  api = server.api;
  closeServer = server.close;
});
after(async () => {
  for (const c of clients) await c.stop('SIGKILL');
  await closeServer?.();
  await gnome?.close();
});

/** A data dir of the session's user: the client runs as that user (the portal serves its own user only), as on a desktop. */
function userDataDir(): string {
  const dir = tempDir();
  fs.chownSync(dir, gnome.user.uid, gnome.user.gid);
  return dir;
}

async function client(t: TestContext, dataDir: string, extra: Record<string, string> = {}) {
  const c = await startClientProcess(gnome, dataDir, api, { OPENRECALL_IDLE_SECONDS: '0', ...extra }, gnome.user);
  clients.push(c);
  t.after(() => c.stop('SIGKILL'));
  return c;
}

async function window(t: TestContext, title: string, words: string) {
  const w = await gnome.openWindow(title, words);
  t.after(() => w.close());
}

const words = (text: string | null | undefined) => (text ?? '').toUpperCase();
const withLogs = (error: Error) => {
  throw new Error(`${error.message}\n${gnome.logs()}`);
};

test('GNOME: the user shares the screen once; frames of the ScreenCast stream reach the server with the words; the next start restores the permission without asking', async (t) => {
  await window(t, 'Ledger - foot', 'COBALT WALRUS MERIDIAN');
  const dataDir = userDataDir();
  const first = await client(t, dataDir);
  // Chosen from the session: a Wayland GNOME desktop gets the portal backend.
  await first.waitFor(/capture backend: portal \(Wayland session \(XDG_CURRENT_DESKTOP=GNOME\): screen capture through xdg-desktop-portal\)/);
  await first.waitFor(/asking the desktop for permission to record the screen \(screen-cast portal\)/);
  await gnome.answerScreenShare('share').catch(withLogs);
  await first.waitFor(/screen-cast session started: 1 screen\(s\); permission kept for the next start/, 30_000).catch(withLogs);
  assert.doesNotMatch(first.output(), /Screenshot portal/, 'frames come from the ScreenCast stream, not the Screenshot fallback');

  const frame = await waitForEntry(api, (e) => /WALRUS/.test(words(e.text)), 'a frame from the ScreenCast stream, OCR done', 90_000);
  assert.match(words(frame.text), /COBALT/);
  assert.match(words(frame.text), /MERIDIAN/);
  assert.equal((frame as unknown as { width: number }).width, 1280, 'the whole virtual monitor');
  assert.equal((frame as unknown as { height: number }).height, 720);
  // GNOME tells no other program the active window (without a shell extension): no app, no title, and said so.
  assert.equal(frame.app, '');
  assert.equal(frame.title, '');
  assert.match(first.output(), /GNOME on Wayland tells no other program the active window without a shell extension/);

  // The permission is kept in the client's state dir, for this user only.
  const tokenFile = restoreTokenPath(dataDir);
  const token = fs.readFileSync(tokenFile, 'utf8').trim();
  assert.ok(token.length >= 8, `a restore token (${token})`);
  const stat = fs.statSync(tokenFile);
  assert.equal(stat.mode & 0o777, 0o600);
  assert.equal(stat.uid, gnome.user.uid);
  assert.equal(fs.statSync(path.dirname(tokenFile)).mode & 0o777, 0o700);
  assert.equal((await first.stop()).code, 0);

  // Second start: nobody answers any dialog, and it captures all the same.
  await window(t, 'Second - foot', 'QUARTZ PELICAN ORCHARD');
  const second = await client(t, dataDir, { OPENRECALL_CAPTURE_BACKEND: 'portal' });
  await second.waitFor(/restoring the screen-cast permission given before/);
  await second.waitFor(/screen-cast session started: 1 screen\(s\)/, 30_000).catch(withLogs);
  assert.doesNotMatch(second.output(), /asking the desktop for permission/);
  assert.equal(await gnome.dialogShown(), false, 'no "Screen Share" dialog on screen');
  const later = await waitForEntry(api, (e) => /PELICAN/.test(words(e.text)), 'a frame after the silent restart, OCR done', 90_000);
  assert.match(words(later.text), /QUARTZ/);
  assert.equal((await second.stop()).code, 0);
});

for (const answer of ['cancel', 'close'] as const) {
  const how = answer === 'cancel' ? 'clicks Cancel in' : 'closes (Escape)';
  test(`GNOME: when the user ${how} the "Screen Share" dialog, the client says what to click and does not ask again`, async (t) => {
    const c = await client(t, userDataDir());
    await c.waitFor(/asking the desktop for permission to record the screen/);
    await gnome.answerScreenShare(answer).catch(withLogs);
    await c
      .waitFor(/capture failed: screen sharing was not allowed\. Start the client again and, in the "Share screen" dialog .* click "Share"/, 30_000)
      .catch(withLogs);
    await waitUntil(async () => (await c.status()).frames.captureErrors >= 3, { timeoutMs: 20_000, what: 'rounds after the refusal' });
    assert.equal(c.output().match(/asking the desktop for permission/g)?.length, 1, 'asked once, not every round');
    assert.equal((await c.status()).frames.captured, 0);
    assert.equal(await gnome.dialogShown(), false, 'the dialog is gone');
    assert.equal((await c.stop()).code, 0);
  });
}

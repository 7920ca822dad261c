// The capture client on Wayland, wlroots backend: a real headless sway with real foot windows, frames through
// grim, the active window from sway's IPC, idle and lock from logind's D-Bus interface, uploading to the real
// server with real OCR.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test, type TestContext } from 'node:test';
import { waitUntil } from '../helpers/api.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { runCli } from '../helpers/server-process.js';
import { clientEnv, entries, startClientProcess, waitForEntry, type ClientProcess } from './helpers/client-process.js';
import { startFakeLogind, type FakeLogind } from './helpers/fake-logind.js';
import { startPortalStack, type PortalStack } from './helpers/portal-stack.js';
import { openSwayWindow, startSwaySession, type SwaySession } from './helpers/sway-session.js';

let sway: SwaySession;
let portal: PortalStack;
let logind: FakeLogind;
let api: string;
let closeServer: () => Promise<void>;
const clients: ClientProcess[] = [];

before(async () => {
  sway = await startSwaySession();
  portal = await startPortalStack(sway);
  logind = await startFakeLogind();
  const server = await startInProcessServer({ ocrEngine: 'tesseract-js' });
  api = server.api;
  closeServer = server.close;
});
after(async () => {
  for (const c of clients) await c.stop('SIGKILL');
  await closeServer?.();
  await logind?.close();
  await sway?.close();
});

/** The real `openrecall client` in the sway session (as root: it reaches the user's sockets), killed when the test ends. */
async function client(t: TestContext, extra: Record<string, string> = {}) {
  const c = await startClientProcess(sway, tempDir(), api, { DBUS_SYSTEM_BUS_ADDRESS: logind.address, OPENRECALL_IDLE_SECONDS: '300', ...extra });
  clients.push(c);
  t.after(() => c.stop('SIGKILL'));
  return c;
}

const words = (text: string | null | undefined) => (text ?? '').toUpperCase();

test('sway: frames of the focused foot window reach the server with its app and title, and OCR reads its words; a new window is a new frame', async (t) => {
  await openSwayWindow(t, sway, 'Harbor notes - foot', 'PELICAN HARBOR SUNRISE');
  const c = await client(t);
  await c.waitFor(/capture backend: wlroots \(Wayland session of sway/);
  // A window can be focused a moment before foot has drawn its words; the client captures again once they appear.
  const first = await waitForEntry(
    api,
    (e) => e.title === 'Harbor notes - foot' && /PELICAN/.test(words(e.text)),
    'a frame of the window with its words, OCR done',
    60_000,
  );
  assert.equal(first.app, 'openrecall-foot');
  assert.match(words(first.text), /PELICAN/);
  assert.match(words(first.text), /HARBOR/);
  assert.match(words(first.text), /SUNRISE/);

  await openSwayWindow(t, sway, 'Second window - foot', 'QUARTZ LANTERN');
  const second = await waitForEntry(
    api,
    (e) => e.title === 'Second window - foot' && /QUARTZ/.test(words(e.text)),
    'a frame of the second window with its words, OCR done',
    60_000,
  );
  assert.match(words(second.text), /QUARTZ/);
  assert.match(words(second.text), /LANTERN/);
  assert.ok(second.capture_id > first.capture_id);
  assert.equal((await c.stop()).code, 0);
});

test('sway: an excluded title is not captured; while logind reports the session locked nothing is, and capture resumes on unlock', async (t) => {
  await openSwayWindow(t, sway, 'Payroll secrets - foot', 'CONFIDENTIAL NUMBERS');
  const excluded = await client(t, { OPENRECALL_EXCLUDE_TITLES: 'payroll' });
  await waitUntil(async () => (await excluded.status()).frames.skippedExcluded >= 3, { timeoutMs: 20_000, what: 'rounds skipped as excluded' });
  const status = await excluded.status();
  assert.equal(status.state, 'excluded');
  assert.equal(status.state_detail, 'title matches "payroll"');
  assert.equal(status.frames.captured, 0);
  await excluded.stop();

  logind.setLocked(true);
  t.after(() => logind.setLocked(false));
  await openSwayWindow(t, sway, 'Locked screen - foot', 'WHILE LOCKED');
  const c = await client(t);
  await waitUntil(async () => (await c.status()).frames.skippedIdle >= 3, { timeoutMs: 20_000, what: 'rounds skipped as locked' });
  assert.equal((await c.status()).state, 'locked');
  assert.equal((await c.status()).frames.captured, 0);
  assert.match(c.output(), /screen locked or screen saver on: not capturing/);

  logind.setLocked(false);
  await waitForEntry(api, (e) => e.title === 'Locked screen - foot', 'a frame after unlock');
  assert.equal((await entries(api)).filter((e) => /Payroll/.test(e.title)).length, 0, 'the excluded window never reached the server');
  await c.stop();
});

test('sway: `openrecall doctor` says the wlroots backend runs and why, and reads the active window from sway and idle from logind', async (t) => {
  await openSwayWindow(t, sway, 'Doctor check - foot', 'DOCTOR');
  const cli = runCli(['doctor', '--json'], {
    ...clientEnv(sway, tempDir(), api),
    DBUS_SYSTEM_BUS_ADDRESS: logind.address,
    OPENRECALL_OCR_ENGINE: 'none',
  });
  await cli.exited;
  const { checks } = JSON.parse(cli.output().slice(cli.output().indexOf('{'))) as { checks: Array<{ check: string; status: string; message: string }> };
  const check = (name: string) => checks.find((c) => c.check === name)!;
  assert.equal(check('display').status, 'ok');
  assert.match(check('display').message, /wlroots backend: frames through grim \(Wayland session of sway \(SWAYSOCK is set\)\)/);
  assert.equal(check('window').status, 'ok');
  assert.match(check('window').message, /active window readable from sway: openrecall-foot - "Doctor check - foot"/);
  assert.equal(check('idle').status, 'ok');
  assert.match(check('idle').message, /idle and lock readable from logind/);

  // GNOME: the portal backend, and the doctor says the window title is not to be had there.
  const gnome = runCli(['doctor', '--json'], {
    ...clientEnv(sway, tempDir(), api),
    ...portal.env,
    SWAYSOCK: '',
    XDG_CURRENT_DESKTOP: 'GNOME',
    DBUS_SYSTEM_BUS_ADDRESS: logind.address,
    OPENRECALL_OCR_ENGINE: 'none',
  });
  await gnome.exited;
  const gnomeChecks = JSON.parse(gnome.output().slice(gnome.output().indexOf('{'))).checks as Array<{ check: string; status: string; message: string }>;
  const gnomeCheck = (name: string) => gnomeChecks.find((c) => c.check === name)!;
  assert.match(
    gnomeCheck('display').message,
    /portal backend: .* \(Wayland session \(XDG_CURRENT_DESKTOP=GNOME\): screen capture through xdg-desktop-portal\)/,
  );
  assert.equal(gnomeCheck('window').status, 'warn');
  assert.match(gnomeCheck('window').message, /GNOME on Wayland tells no other program the active window without a shell extension/);
});

test('portal backend: the client asks the ScreenCast portal, and where it cannot stream falls back to the Screenshot portal; frames carry the words', async (t) => {
  await openSwayWindow(t, sway, 'Portal notes - foot', 'MARBLE COMPASS');
  // The portal's session bus admits its own user only: the client runs as the session's user, as a desktop user would.
  const dataDir = tempDir();
  fs.chownSync(dataDir, sway.user.uid, sway.user.gid);
  const c = await startClientProcess(sway, dataDir, api, { ...portal.env, OPENRECALL_CAPTURE_BACKEND: 'portal', OPENRECALL_IDLE_SECONDS: '0' }, sway.user);
  clients.push(c);
  t.after(() => c.stop('SIGKILL'));
  await c.waitFor(/capture backend: portal \(OPENRECALL_CAPTURE_BACKEND=portal\)/);
  await c.waitFor(/asking the desktop for permission to record the screen \(screen-cast portal\)/);
  // xdg-desktop-portal-wlr 0.7 cannot negotiate a stream without a GPU render node (none here): Start fails, and
  // the client says so and carries on with the Screenshot portal.
  await c.waitFor(/the screen-cast portal failed \(.*Start, response 2.*\): using the Screenshot portal/, 30_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${portal.logs()}`);
  });
  const frame = await waitForEntry(
    api,
    (e) => e.title === 'Portal notes - foot' && /MARBLE/.test(words(e.text)),
    'a frame through the portal with the words of the window, OCR done',
    60_000,
  );
  assert.equal(frame.app, 'openrecall-foot', 'the app comes from the compositor IPC when there is one');
  assert.match(words(frame.text), /MARBLE/);
  assert.match(words(frame.text), /COMPASS/);
  assert.equal((await c.stop()).code, 0);
});

test('portal backend: when the user refuses screen sharing, the client says what to click and does not ask again', async (t) => {
  portal.answerDialog(false);
  t.after(() => portal.answerDialog(true));
  const dataDir = tempDir();
  fs.chownSync(dataDir, sway.user.uid, sway.user.gid);
  const c = await startClientProcess(sway, dataDir, api, { ...portal.env, OPENRECALL_CAPTURE_BACKEND: 'portal', OPENRECALL_IDLE_SECONDS: '0' }, sway.user);
  clients.push(c);
  t.after(() => c.stop('SIGKILL'));
  await c
    .waitFor(/capture failed: screen sharing was not allowed\. Start the client again and, in the "Share screen" dialog .* click "Share"/, 30_000)
    .catch((error: Error) => {
      throw new Error(`${error.message}\n${portal.logs()}`);
    });
  await waitUntil(async () => (await c.status()).frames.captureErrors >= 3, { timeoutMs: 20_000, what: 'rounds after the refusal' });
  assert.equal(c.output().match(/asking the desktop for permission/g)?.length, 1, 'asked once, not every round');
  assert.equal((await c.status()).frames.captured, 0);
  assert.equal((await c.stop()).code, 0);
});

// The capture client as a user runs it (`openrecall client`, the built CLI) on a real X server (Xvfb +
// openbox) with a real window (xmessage), uploading to the real server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { waitUntil } from '../helpers/api.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { runCli } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { clientEnv, entries, sleep, startClientProcess, waitForEntry, type ClientProcess } from './helpers/client-process.js';
import { openWindowForTest, startXSession, type XSession } from './helpers/x-session.js';

let session: XSession;
let api: string;
let closeServer: () => Promise<void>;
const clients: ClientProcess[] = [];

before(async () => {
  session = await startXSession();
  const server = await startInProcessServer();
  api = server.api;
  closeServer = server.close;
});
after(async () => {
  for (const c of clients) await c.stop('SIGKILL');
  await closeServer?.();
  await session?.close();
});

/** A client for this test only: killed when the test ends, even if it fails. */
async function client(t: TestContext, extra: Record<string, string> = {}, dataDir = tempDir()) {
  const c = await startClientProcess(session, dataDir, api, extra);
  clients.push(c);
  t.after(() => c.stop('SIGKILL'));
  return c;
}

const window = (t: TestContext, title: string) => openWindowForTest(t, session, title);

test('frames reach the server with the active app and window title; a title change is a new frame; SIGTERM exits 0 promptly', async (t) => {
  const win = await window(t, 'Quarterly report - Editor A');
  const c = await client(t);
  const first = await waitForEntry(api, (e) => e.title === 'Quarterly report - Editor A', 'the first frame');
  assert.equal(first.app, 'Xmessage');
  assert.equal(first.monitor, 0);
  assert.match(first.capture_id, /^[0-9a-z]{9}-0-[0-9a-f]{10}$/);
  assert.ok(Math.abs(first.timestamp - Date.now() / 1000) < 30, 'capture time is now');

  await win.setTitle('Budget 2027 - Editor A');
  const second = await waitForEntry(api, (e) => e.title === 'Budget 2027 - Editor A', 'a frame with the new title');
  assert.ok(second.capture_id > first.capture_id, 'capture ids are time-ordered');

  const exit = await c.stop('SIGTERM');
  assert.equal(exit.code, 0);
  assert.ok(exit.ms < 5000, `exit took ${exit.ms} ms`);
  assert.match(c.output(), /SIGTERM received: stopping capture/);
});

test('an unchanged screen yields no new frames; a large change of the same window does', async (t) => {
  const win = await window(t, 'Unchanged screen B');
  const c = await client(t);
  await waitForEntry(api, (e) => e.title === 'Unchanged screen B', 'the first frame');
  const before = await c.status();
  // At least 5 more capture rounds (each one looks at the screen and finds it unchanged).
  await waitUntil(async () => (await c.status()).frames.skippedSimilar >= before.frames.skippedSimilar + 5, { timeoutMs: 15_000, what: '5 rounds' });
  await sleep(300); // let any upload of a (wrongly) kept frame land
  assert.equal((await entries(api)).filter((e) => e.title === 'Unchanged screen B').length, 1, 'no frame for an unchanged screen');
  assert.equal((await c.status()).frames.captured, 1);

  // A change of what is on screen, same window and title: a new frame.
  await session.xdotool('windowsize', win.id, '1500', '900');
  await waitUntil(async () => (await entries(api)).filter((e) => e.title === 'Unchanged screen B').length === 2, {
    timeoutMs: 20_000,
    what: 'a frame after the window grew',
  });
  await c.stop();
});

test('an excluded title (user rule, or a private browsing window by default) is never captured and nothing is written', async (t) => {
  const win = await window(t, 'secret-project plans C');
  const dataDir = tempDir();
  const bufferDir = path.join(dataDir, 'buffer');
  fs.mkdirSync(bufferDir, { recursive: true });
  const events: string[] = [];
  const watcher = fs.watch(bufferDir, (_event, name) => {
    if (name && name !== 'quarantine') events.push(String(name));
  });
  after(() => watcher.close());
  const c = await client(t, { OPENRECALL_EXCLUDE_TITLES: 'Secret-Project' }, dataDir);
  await waitUntil(async () => (await c.status()).frames.skippedExcluded >= 4, { timeoutMs: 20_000, what: 'rounds skipped as excluded' });
  let status = await c.status();
  assert.equal(status.state, 'excluded');
  assert.equal(status.state_detail, 'title matches "secret-project"');

  await win.setTitle('Mozilla Firefox Private Browsing');
  const skipped = status.frames.skippedExcluded;
  await waitUntil(async () => (await c.status()).frames.skippedExcluded >= skipped + 3, { timeoutMs: 20_000, what: 'private window skipped' });
  status = await c.status();
  assert.equal(status.state_detail, 'title matches "private browsing"');
  assert.equal(status.frames.captured, 0);
  assert.deepEqual(events, [], 'nothing touched the buffer');
  assert.deepEqual(fs.readdirSync(bufferDir), ['quarantine']);
  assert.deepEqual(fs.readdirSync(path.join(bufferDir, 'quarantine')), []);
  assert.equal((await entries(api)).filter((e) => /secret-project|Private Browsing/.test(e.title)).length, 0);
  assert.match(c.output(), /excluded window \(title matches "secret-project"\)/);
  assert.doesNotMatch(c.output(), /secret-project plans/, 'the excluded title itself is not logged');

  // The rule, not anything else, was what stopped it.
  await win.setTitle('Harmless page C');
  await waitForEntry(api, (e) => e.title === 'Harmless page C', 'a frame once the window is no longer excluded');
  await c.stop();
});

test('pause and resume through `openrecall pause|resume` without stopping the client; the pause survives a restart', async (t) => {
  const win = await window(t, 'Pause test D1');
  const c = await client(t);
  await waitForEntry(api, (e) => e.title === 'Pause test D1', 'the first frame');
  const env = clientEnv(session, c.dataDir, api);

  const pause = runCli(['pause'], env);
  assert.equal((await pause.exited).code, 0);
  assert.match(pause.output(), /capture paused/);
  await c.waitFor(/paused by the user/);
  await win.setTitle('Pause test D2');
  const before = (await c.status()).frames.skippedPaused;
  await waitUntil(async () => (await c.status()).frames.skippedPaused >= before + 4, { timeoutMs: 20_000, what: 'paused rounds' });
  assert.equal((await entries(api)).filter((e) => e.title === 'Pause test D2').length, 0, 'nothing captured while paused');
  const status = runCli(['client', 'status'], env);
  assert.equal((await status.exited).code, 0);
  assert.match(status.output(), /state\s+paused since/);

  // A restart does not silently resume.
  assert.equal((await c.stop()).code, 0);
  const again = await client(t, {}, c.dataDir);
  await again.waitFor(/paused since .* \(run "openrecall resume"/);
  await sleep(1000);
  assert.equal((await entries(api)).filter((e) => e.title === 'Pause test D2').length, 0);

  const resume = runCli(['resume'], env);
  assert.equal((await resume.exited).code, 0);
  assert.match(resume.output(), /capture resumed/);
  await again.waitFor(/resumed by the user/);
  await waitForEntry(api, (e) => e.title === 'Pause test D2', 'a frame after resume');
  assert.equal((await again.status()).paused, false);
  await again.stop();
});

test('idle (no input, screen unchanged) keeps no frame; a screen that changes without input is still captured', async (t) => {
  const win = await window(t, 'Idle test E1');
  await sleep(1200); // no input for longer than the idle limit
  const c = await client(t, { OPENRECALL_IDLE_SECONDS: '1' });
  await waitForEntry(api, (e) => e.title === 'Idle test E1', 'the first frame of the screen');
  await waitUntil(async () => (await c.status()).frames.skippedIdle >= 3, { timeoutMs: 20_000, what: 'idle rounds' });
  assert.equal((await c.status()).state, 'idle');
  assert.equal((await c.status()).frames.captured, 1);
  assert.match(c.output(), /user idle and screen unchanged: keeping only frames that change/);

  // Still no input at all (resizing a window is no keyboard or mouse event): the new screen is kept.
  await session.xdotool('windowsize', win.id, '1500', '900');
  await waitUntil(async () => (await entries(api)).filter((e) => e.title === 'Idle test E1').length === 2, {
    timeoutMs: 20_000,
    what: 'a frame of the changed screen without input',
  });
  assert.equal((await c.status()).frames.captured, 2);
  await c.stop();
});

// `openrecall client`, `openrecall start`, `pause`/`resume` as commands: where there is no display, on
// Wayland, a second client, and the server and client running together.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FrameBuffer } from '../../src/client/buffer.js';
import { runCli } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { clientEnv, startClientProcess, waitForEntry } from './helpers/client-process.js';
import { startXSession, type XSession } from './helpers/x-session.js';

let session: XSession;
before(async () => {
  session = await startXSession();
});
after(() => session?.close());

const headless = (extra: Record<string, string> = {}) => ({
  DISPLAY: '',
  WAYLAND_DISPLAY: '',
  XDG_SESSION_TYPE: '',
  OPENRECALL_DATA_DIR: tempDir(),
  OPENRECALL_PORT: '0',
  OPENRECALL_OCR_ENGINE: 'none',
  OPENRECALL_WORKERS: '1',
  ...extra,
});

test('`openrecall client` exits with a clear message when there is no display, on Wayland, or when the display is unreachable', async () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [headless(), /openrecall client: cannot capture the screen: no display: DISPLAY is not set/],
    [
      headless({ WAYLAND_DISPLAY: 'wayland-0', DISPLAY: ':0', XDG_CURRENT_DESKTOP: 'sway', XDG_RUNTIME_DIR: tempDir() }),
      /Wayland session of a wlroots compositor \(XDG_CURRENT_DESKTOP=sway\), but no Wayland socket at .*wayland-0/,
    ],
    [
      headless({ XDG_SESSION_TYPE: 'wayland', XDG_CURRENT_DESKTOP: 'GNOME' }),
      /Wayland session \(XDG_CURRENT_DESKTOP=GNOME\): screen capture through xdg-desktop-portal/,
    ],
    [headless({ DISPLAY: ':0', OPENRECALL_CAPTURE_BACKEND: 'mir' }), /OPENRECALL_CAPTURE_BACKEND="mir" is not valid: use one of auto, x11, wlroots, portal/],
    [headless({ DISPLAY: ':4242' }), /cannot use display :4242: cannot connect to X display :4242/],
  ];
  await Promise.all(
    cases.map(async ([env, message]) => {
      const cli = runCli(['client'], env);
      const exit = await cli.exited;
      assert.equal(exit.code, 1, cli.output());
      assert.match(cli.output(), message);
      assert.ok(!fs.existsSync(path.join(env.OPENRECALL_DATA_DIR!, 'buffer')), 'nothing created');
    }),
  );
});

test('`openrecall start` without a display runs the server alone and says why', async () => {
  const cli = runCli(['start'], headless());
  await cli.waitFor(/running the server without the capture client: no display: DISPLAY is not set/);
  const [, url] = await cli.waitFor(/listening on (http:\/\/\S+)/);
  assert.equal((await fetch(`${url}/api/health`)).status, 200);
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exited).code, 0);
  assert.doesNotMatch(cli.output(), /\[client\]/);
});

test('`openrecall start` with a display runs the server and the client together: frames arrive; SIGTERM stops both', async () => {
  const win = await session.openWindow('Started together');
  after(() => win.close());
  const dataDir = tempDir();
  const cli = runCli(['start'], {
    ...clientEnv(session, dataDir, 'http://127.0.0.1:9/api-unused'),
    OPENRECALL_API_URL: '',
    OPENRECALL_PORT: '0',
    OPENRECALL_OCR_ENGINE: 'none',
    OPENRECALL_WORKERS: '1',
  });
  after(() => cli.child.kill('SIGKILL'));
  const [, url] = await cli.waitFor(/listening on (http:\/\/\S+)/);
  await cli.waitFor(/\[client\] capturing the primary monitor/);
  const entry = await waitForEntry(`${url}/api`, (e) => e.title === 'Started together', 'a frame from the built-in client');
  assert.equal(entry.app, 'Xmessage');
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exited).code, 0);
  assert.match(cli.output(), /stopping the capture client, then the server/);
  // The client's own stop finished (start gives up on it after a deadline, and then this line is missing), and what it
  // had not sent is on the disk for the next start: the count it logs is what the buffer holds.
  const [, left] = cli.output().match(/\[client\] stopped; (\d+) frame\(s\) left in the buffer/) ?? [];
  assert.ok(left !== undefined, cli.output());
  const buffer = new FrameBuffer(path.join(dataDir, 'buffer'), 50 * 1024 * 1024, () => {});
  buffer.open();
  assert.equal(buffer.stats().items, Number(left), 'the frames not sent are kept in the buffer');
});

test('a second client for the same data dir refuses to start; `pause` with no client running makes the next one start paused', async () => {
  const dataDir = tempDir();
  const api = 'http://127.0.0.1:9/api';
  const env = clientEnv(session, dataDir, api);
  const pause = runCli(['pause'], env);
  assert.equal((await pause.exited).code, 0);
  assert.match(pause.output(), /no capture client is running .*; it will start paused/);

  const first = await startClientProcess(session, dataDir, api);
  after(() => first.stop('SIGKILL'));
  await first.waitFor(/paused since/);
  assert.equal((await first.status()).state, 'paused');

  const second = runCli(['client'], env);
  assert.equal((await second.exited).code, 1);
  assert.match(second.output(), new RegExp(`another capture client is already running for this data dir \\(pid ${first.child.pid}\\)`));
  assert.equal((await first.status()).pid, first.child.pid, 'the first one is unaffected');

  const status = runCli(['client', 'status', '--json'], env);
  assert.equal((await status.exited).code, 0);
  assert.equal(JSON.parse(status.output()).paused, true);
  assert.equal((await first.stop()).code, 0);

  const noClient = runCli(['client', 'status'], env);
  assert.equal((await noClient.exited).code, 1);
  assert.match(noClient.output(), /no capture client is running/);
});

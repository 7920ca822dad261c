// KDE Plasma on Wayland tells the active window only to KWin scripts: the client loads one over D-Bus (no
// extension to install) and it reports the window as it changes. A real kwin_wayland with real windows.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { waitUntil } from '../helpers/api.js';
import { runCli } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startKdeSession, type KdeSession } from './helpers/kde-session.js';

let kde: KdeSession;

before(async () => {
  kde = await startKdeSession();
});
after(async () => {
  await kde?.close();
});

test('KDE: the active window (app and title) comes from a KWin script, and follows the focus to a new window', async (t) => {
  const first = await kde.openWindow('Quarterly report - zenity', 'first window');
  t.after(() => first.close());
  // KWinWindowInfo in a process of the desktop's user, as in the client.
  const probe = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers/kwin-probe.ts', import.meta.url))], {
    uid: kde.user.uid,
    gid: kde.user.gid,
    env: { PATH: process.env.PATH, HOME: '/nonexistent', ...kde.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => probe.kill('SIGKILL'));
  let out = '';
  probe.stdout.on('data', (c: Buffer) => (out += c.toString()));
  probe.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const last = () => JSON.parse(out.trim().split('\n').pop() || '{}') as { app?: string; title?: string; appNames?: string[]; error?: string };
  const sees = (title: string) =>
    waitUntil(() => last().title === title, { timeoutMs: 20_000, what: `the active window "${title}"` }).catch((error: Error) => {
      throw new Error(`${error.message}; the probe said:\n${out.slice(-2000)}\n${kde.logs()}`);
    });
  await sees('Quarterly report - zenity');
  assert.deepEqual(last(), { app: 'zenity', title: 'Quarterly report - zenity', appNames: ['zenity'] });

  const second = await kde.openWindow('Second window - zenity', 'second window');
  t.after(() => second.close());
  await sees('Second window - zenity');
  await second.close();
  await sees('Quarterly report - zenity');
  probe.kill('SIGTERM');
  await new Promise((r) => probe.once('exit', r));
});

test('KDE: `openrecall doctor` reads the active window from KWin', async (t) => {
  const w = await kde.openWindow('Doctor check - zenity', 'doctor');
  t.after(() => w.close());
  const cli = runCli(
    ['doctor', '--json'],
    { ...kde.env, OPENRECALL_DATA_DIR: tempDir(), OPENRECALL_API_URL: 'http://127.0.0.1:9/api', OPENRECALL_OCR_ENGINE: 'none', DISPLAY: '' },
    kde.user,
  );
  await cli.exited;
  const { checks } = JSON.parse(cli.output().slice(cli.output().indexOf('{'))) as { checks: Array<{ check: string; status: string; message: string }> };
  const check = (name: string) => checks.find((c) => c.check === name)!;
  assert.match(check('display').message, /portal backend: .*XDG_CURRENT_DESKTOP=KDE/);
  assert.equal(check('window').status, 'ok', check('window').message);
  assert.equal(check('window').message, 'active window readable from KWin (through a KWin script): zenity - "Doctor check - zenity"');
});

// A real wlroots compositor for the Wayland capture tests: headless sway (pixman renderer, no input devices)
// running as an unprivileged user (sway refuses root), with foot terminals as the windows.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { focusedNode, SwayMessage, swayRequest, type SwayNode } from '../../../src/client/capture/sway-ipc.js';
import { waitUntil } from '../../helpers/api.js';
import { ensureTestUser, userDir, type TestUser } from './unprivileged-user.js';

export interface SwaySession {
  user: TestUser;
  runtimeDir: string;
  /** WAYLAND_DISPLAY, XDG_RUNTIME_DIR, SWAYSOCK and the session type, for the client and other session programs. */
  env: Record<string, string>;
  /** A foot terminal showing these words in a large font; resolves once sway has focused it. */
  openWindow(title: string, words: string, appId?: string): Promise<{ close(): Promise<void> }>;
  /** Runs a program of the session as the session's user (killed on close). */
  spawnAsUser(command: string, args: string[], env?: Record<string, string>): ChildProcess;
  close(): Promise<void>;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  });
}

/** Starts headless sway on a 1920x1080 output. Close it in an `after` hook of the file. */
export async function startSwaySession(): Promise<SwaySession> {
  const user = ensureTestUser();
  const runtimeDir = userDir(user, 'openrecall-wl-');
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: runtimeDir,
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_CONFIG_HOME: path.join(runtimeDir, 'config'),
    LANG: 'C.UTF-8',
  };
  const spawnAsUser = (command: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(command, args, { uid: user.uid, gid: user.gid, cwd: runtimeDir, env: { ...baseEnv, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', () => {}); // drained; shown on failure below
    children.push(child);
    return child;
  };
  const config = path.join(runtimeDir, 'sway.conf');
  fs.writeFileSync(config, 'output HEADLESS-1 resolution 1920x1080 position 0 0\nxwayland disable\ndefault_border none\nfocus_on_window_activation focus\n');
  fs.chownSync(config, user.uid, user.gid);
  const sway = spawnAsUser('sway', ['-c', config], { WLR_BACKENDS: 'headless', WLR_RENDERER: 'pixman', WLR_LIBINPUT_NO_DEVICES: '1' });
  let swayLog = '';
  sway.stderr!.on('data', (c: Buffer) => (swayLog = (swayLog + c.toString()).slice(-4000)));
  const close = async () => {
    for (const child of [...children].reverse()) await stop(child);
    process.off('exit', killAll);
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  };
  try {
    const sockets = (await waitUntil(
      () => {
        if (sway.exitCode !== null) throw new Error(`sway exited (${sway.exitCode}): ${swayLog}`);
        const names = fs.readdirSync(runtimeDir);
        const wayland = names.find((n) => /^wayland-\d+$/.test(n));
        const ipc = names.find((n) => n.startsWith('sway-ipc.'));
        return wayland && ipc ? { wayland, ipc: path.join(runtimeDir, ipc) } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'sway to open its sockets' },
    ))!;
    await waitUntil(async () => swayRequest(sockets.ipc, SwayMessage.GET_OUTPUTS).catch(() => undefined), { timeoutMs: 15_000, what: 'sway IPC' });
    const env = {
      WAYLAND_DISPLAY: sockets.wayland,
      XDG_RUNTIME_DIR: runtimeDir,
      SWAYSOCK: sockets.ipc,
      XDG_SESSION_TYPE: 'wayland',
      XDG_CURRENT_DESKTOP: 'sway',
    };
    const focusedTitle = async () => focusedNode((await swayRequest(sockets.ipc, SwayMessage.GET_TREE)) as SwayNode)?.name;
    return {
      user,
      runtimeDir,
      env,
      spawnAsUser: (command, args, extra = {}) => spawnAsUser(command, args, { ...env, ...extra }),
      async openWindow(title, words, appId = 'openrecall-foot') {
        const foot = spawnAsUser(
          'foot',
          [
            '-a',
            appId,
            '-T',
            title,
            '-f',
            'DejaVu Sans Mono:size=40',
            '-o',
            'colors.background=ffffff',
            '-o',
            'colors.foreground=000000',
            'sh',
            '-c',
            `printf '%s\\n\\n' '${words}'; exec sleep 100000`,
          ],
          env,
        );
        await waitUntil(
          async () => {
            if (foot.exitCode !== null) throw new Error(`foot exited (${foot.exitCode})`);
            return (await focusedTitle()) === title;
          },
          { timeoutMs: 20_000, what: `foot window "${title}" to be focused` },
        );
        return { close: () => stop(foot) };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A window for one test: closed when the test ends, even if it fails. */
export async function openSwayWindow(t: TestContext, session: SwaySession, title: string, words: string) {
  const w = await session.openWindow(title, words);
  t.after(() => w.close());
  return w;
}

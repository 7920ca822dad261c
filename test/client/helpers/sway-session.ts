// A real wlroots compositor for the Wayland capture tests: headless sway (pixman renderer, no input devices)
// running as an unprivileged user (sway refuses root), with foot terminals as the windows.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { focusedNode, SwayMessage, swayRequest, type SwayNode } from '../../../src/client/capture/sway-ipc.js';
import { waitUntil } from '../../helpers/api.js';
import type { TestUser } from './unprivileged-user.js';
import { footArgs, type SessionBase, startingSession, startSessionBase, stopChild } from './wayland-session-base.js';

export interface SwaySession {
  user: TestUser;
  runtimeDir: string;
  /** WAYLAND_DISPLAY, XDG_RUNTIME_DIR, SWAYSOCK and the session type, for the client and other session programs. */
  env: Record<string, string>;
  /** A foot terminal showing these words in a large font; resolves once sway has focused it. */
  openWindow(title: string, words: string, appId?: string): Promise<{ close(): Promise<void> }>;
  /** Runs a program of the session as the session's user, with the session's variables plus `env` (stopped on close). */
  spawnAsUser(name: string, command: string, args: string[], env?: Record<string, string>): ChildProcess;
  /** A private session bus of the session's user, its services in the session (stopped on close); resolves with its address. */
  startSessionBus: SessionBase['startSessionBus'];
  whileRunning: SessionBase['whileRunning'];
  /** The last lines each program wrote: for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

/** Starts headless sway on a 1920x1080 output. Close it in an `after` hook of the file. */
export async function startSwaySession(): Promise<SwaySession> {
  const base = startSessionBase('openrecall-wl-');
  const { runtimeDir } = base;
  return startingSession(base, async () => {
    const config = path.join(runtimeDir, 'sway.conf');
    fs.writeFileSync(config, 'output HEADLESS-1 resolution 1920x1080 position 0 0\nxwayland disable\ndefault_border none\nfocus_on_window_activation focus\n');
    fs.chownSync(config, base.user.uid, base.user.gid);
    const sway = base.spawnAsUser('sway', 'sway', ['-c', config], {
      env: { WLR_BACKENDS: 'headless', WLR_RENDERER: 'pixman', WLR_LIBINPUT_NO_DEVICES: '1' },
    });
    let sockets: { wayland: string; ipc: string } | undefined;
    await base.whileRunning(
      'sway',
      sway,
      () => {
        const names = fs.readdirSync(runtimeDir);
        const wayland = names.find((n) => /^wayland-\d+$/.test(n));
        const ipc = names.find((n) => n.startsWith('sway-ipc.'));
        sockets = wayland && ipc ? { wayland, ipc: path.join(runtimeDir, ipc) } : undefined;
        return sockets;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'sway to open its sockets' },
    );
    const { wayland, ipc } = sockets!;
    await waitUntil(async () => swayRequest(ipc, SwayMessage.GET_OUTPUTS).catch(() => undefined), { timeoutMs: 15_000, what: 'sway IPC' });
    const env = {
      WAYLAND_DISPLAY: wayland,
      XDG_RUNTIME_DIR: runtimeDir,
      SWAYSOCK: ipc,
      XDG_SESSION_TYPE: 'wayland',
      XDG_CURRENT_DESKTOP: 'sway',
    };
    const focusedTitle = async () => focusedNode((await swayRequest(ipc, SwayMessage.GET_TREE)) as SwayNode)?.name;
    const session: SwaySession = {
      user: base.user,
      runtimeDir,
      env,
      spawnAsUser: (name, command, args, extra = {}) => base.spawnAsUser(name, command, args, { env: { ...env, ...extra } }),
      startSessionBus: (extra = {}) => base.startSessionBus({ ...env, ...extra }),
      whileRunning: (...args) => base.whileRunning(...args),
      logs: () => base.logs(),
      async openWindow(title, words, appId = 'openrecall-foot') {
        const foot = session.spawnAsUser('foot', 'foot', ['-a', appId, ...footArgs(title, words, 40)]);
        await base.whileRunning('foot', foot, async () => (await focusedTitle()) === title, {
          timeoutMs: 20_000,
          what: `foot window "${title}" to be focused`,
        });
        return { close: () => stopChild(foot) };
      },
      close: () => base.close(),
    };
    return session;
  });
}

/** A window for one test: closed when the test ends, even if it fails. */
export async function openSwayWindow(t: TestContext, session: SwaySession, title: string, words: string) {
  const w = await session.openWindow(title, words);
  t.after(() => w.close());
  return w;
}

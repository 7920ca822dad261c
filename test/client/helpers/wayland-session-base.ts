// What every Wayland test session (sway, GNOME, KDE) shares: the unprivileged test user with a fresh
// XDG_RUNTIME_DIR (also its HOME), the programs of the session started as that user and stopped in reverse order,
// the last lines each one wrote (for failure messages), a private session bus, and the foot window the tests read.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitUntil } from '../../helpers/api.js';
import { ensureTestUser, userDir, type TestUser } from './unprivileged-user.js';

export interface SessionBase {
  user: TestUser;
  runtimeDir: string;
  /**
   * Starts a program of the session as its user, in its runtime dir, with the session's environment plus `env`;
   * the tail of its stderr is kept under `name`. close() stops it.
   */
  spawnAsUser(name: string, command: string, args: string[], options?: { env?: Record<string, string>; stdout?: 'ignore' | 'pipe' }): ChildProcess;
  /** Waits until `ready` holds; fails at once, with the program's last lines, if the program exits first. */
  whileRunning(name: string, child: ChildProcess, ready: () => unknown, options: { what: string; timeoutMs?: number; intervalMs?: number }): Promise<void>;
  /** The last lines a program wrote. */
  log(name: string): string;
  /** The last lines of every program: for failure messages. */
  logs(): string;
  /**
   * A private session bus at `<runtimeDir>/bus`, admitting the session's user and root (tests talk to it as root);
   * resolves with its address once it listens. `env`: more variables for the bus and the services it starts.
   */
  startSessionBus(env?: Record<string, string>): Promise<string>;
  /** Stops every program (the last started first) and removes the runtime dir. */
  close(): Promise<void>;
}

/** SIGTERM, then SIGKILL after 2 s; resolves once the process has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  });
}

/**
 * A session for the test user: `prefix` names its runtime dir, `env` (of the runtime dir) is added to every
 * program's environment (besides PATH, HOME and XDG_RUNTIME_DIR, both the runtime dir, XDG_CONFIG_HOME below it,
 * and LANG).
 */
export function startSessionBase(prefix: string, env: (runtimeDir: string) => Record<string, string> = () => ({})): SessionBase {
  const user = ensureTestUser();
  const runtimeDir = userDir(user, prefix);
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: runtimeDir,
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_CONFIG_HOME: path.join(runtimeDir, 'config'),
    LANG: 'C.UTF-8',
    ...env(runtimeDir),
  };
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const logs = new Map<string, string>();
  const log = (name: string) => logs.get(name) ?? '';

  const base: SessionBase = {
    user,
    runtimeDir,
    spawnAsUser(name, command, args, { env: extra = {}, stdout = 'ignore' } = {}) {
      const child = spawn(command, args, { uid: user.uid, gid: user.gid, cwd: runtimeDir, env: { ...baseEnv, ...extra }, stdio: ['ignore', stdout, 'pipe'] });
      child.stderr!.on('data', (c: Buffer) => logs.set(name, (log(name) + c.toString()).slice(-3000)));
      children.push(child);
      return child;
    },
    async whileRunning(name, child, ready, { what, timeoutMs = 30_000, intervalMs = 100 }) {
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${log(name)}`);
          return await ready();
        },
        { timeoutMs, intervalMs, what },
      );
    },
    log,
    logs: () => [...logs].map(([name, text]) => `--- ${name}\n${text}`).join('\n'),
    async startSessionBus(env = {}) {
      const socket = path.join(runtimeDir, 'bus');
      const address = `unix:path=${socket}`;
      const config = path.join(runtimeDir, 'session-bus.conf');
      fs.writeFileSync(
        config,
        `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth><standard_session_servicedirs/>
<policy context="default"><allow user="${user.name}"/><allow user="root"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
      );
      const bus = base.spawnAsUser('dbus-daemon', 'dbus-daemon', ['--config-file', config, '--nofork', '--nopidfile'], {
        env: { ...env, DBUS_SESSION_BUS_ADDRESS: address },
      });
      await base.whileRunning('dbus-daemon', bus, () => fs.existsSync(socket), { what: 'the session bus', timeoutMs: 15_000, intervalMs: 50 });
      return address;
    },
    async close() {
      for (const child of [...children].reverse()) await stopChild(child);
      process.off('exit', killAll);
      fs.rmSync(runtimeDir, { recursive: true, force: true });
    },
  };
  return base;
}

/**
 * A desktop's session (GNOME, KDE) on the Wayland display wayland-0 with its session bus at `<runtimeDir>/bus`:
 * `env` is what the client is given; its programs also get data and cache dirs below the runtime dir, no
 * accessibility bus, and `extra`.
 */
export function startDesktopSession(desktop: string, extra: Record<string, string>): { base: SessionBase; env: Record<string, string> } {
  let env: Record<string, string> = {};
  const base = startSessionBase(`openrecall-${desktop.toLowerCase()}-`, (runtimeDir) => {
    env = {
      XDG_RUNTIME_DIR: runtimeDir,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(runtimeDir, 'bus')}`,
      XDG_CURRENT_DESKTOP: desktop,
      XDG_SESSION_TYPE: 'wayland',
      WAYLAND_DISPLAY: 'wayland-0',
    };
    return { XDG_DATA_HOME: path.join(runtimeDir, 'data'), XDG_CACHE_HOME: path.join(runtimeDir, 'cache'), NO_AT_BRIDGE: '1', ...extra, ...env };
  });
  return { base, env };
}

/** Runs `start` on a new session; if it fails, the session is closed before the error goes on. */
export async function startingSession<T>(base: SessionBase, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    await base.close();
    throw error;
  }
}

/** The arguments of a foot terminal titled `title` showing `words` black on white, in DejaVu Sans Mono of this size. */
export function footArgs(title: string, words: string, fontSize: number): string[] {
  return [
    '-T',
    title,
    '-f',
    `DejaVu Sans Mono:size=${fontSize}`,
    '-o',
    'colors.background=ffffff',
    '-o',
    'colors.foreground=000000',
    'sh',
    '-c',
    `printf '%s\\n\\n' '${words}'; exec sleep 100000`,
  ];
}

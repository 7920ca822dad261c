// A real KWin for the KDE window-title tests: kwin_wayland --virtual (software rendering, no GPU) on a private
// session bus, as the unprivileged test user with its own XDG_RUNTIME_DIR, and zenity dialogs as the windows
// (foot dies of a division by zero on KWin's virtual output). Debian's kwin_wayland carries a file capability
// (cap_sys_resource) that a non-root exec in a container is refused: the session runs a plain copy of it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitUntil } from '../../helpers/api.js';
import { ensureTestUser, userDir, type TestUser } from './unprivileged-user.js';

export interface KdeSession {
  user: TestUser;
  /** For the client or doctor: the Wayland display, the session bus, the desktop's name. */
  env: Record<string, string>;
  /** A zenity window with this title; resolves once KWin has it. */
  openWindow(title: string, text: string): Promise<{ close(): Promise<void> }>;
  logs(): string;
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

export async function startKdeSession(): Promise<KdeSession> {
  const user = ensureTestUser();
  const runtimeDir = userDir(user, 'openrecall-kde-');
  const busSocket = path.join(runtimeDir, 'bus');
  const env: Record<string, string> = {
    XDG_RUNTIME_DIR: runtimeDir,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${busSocket}`,
    XDG_CURRENT_DESKTOP: 'KDE',
    XDG_SESSION_TYPE: 'wayland',
    WAYLAND_DISPLAY: 'wayland-0',
  };
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: runtimeDir,
    XDG_CONFIG_HOME: path.join(runtimeDir, 'config'),
    XDG_DATA_HOME: path.join(runtimeDir, 'data'),
    XDG_CACHE_HOME: path.join(runtimeDir, 'cache'),
    LANG: 'C.UTF-8',
    NO_AT_BRIDGE: '1',
    GDK_BACKEND: 'wayland',
    ...env,
  };
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const logs = new Map<string, string>();
  const spawnAsUser = (name: string, command: string, args: string[]) => {
    const child = spawn(command, args, { uid: user.uid, gid: user.gid, cwd: runtimeDir, env: baseEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => logs.set(name, ((logs.get(name) ?? '') + c.toString()).slice(-3000)));
    children.push(child);
    return child;
  };
  const close = async () => {
    for (const child of [...children].reverse()) await stop(child);
    process.off('exit', killAll);
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  };
  try {
    // The session bus admits the session's user and root (the test reads the active window from here too).
    const busConfig = path.join(runtimeDir, 'session-bus.conf');
    fs.writeFileSync(
      busConfig,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${busSocket}</listen><auth>EXTERNAL</auth><standard_session_servicedirs/>
<policy context="default"><allow user="${user.name}"/><allow user="root"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
    );
    const bus = spawnAsUser('dbus-daemon', 'dbus-daemon', ['--config-file', busConfig, '--nofork', '--nopidfile']);
    await waitUntil(
      () => {
        if (bus.exitCode !== null) throw new Error(`dbus-daemon exited: ${logs.get('dbus-daemon') ?? ''}`);
        return fs.existsSync(busSocket);
      },
      { timeoutMs: 15_000, intervalMs: 50, what: 'the session bus' },
    );
    const kwinCopy = path.join(runtimeDir, 'kwin_wayland');
    fs.copyFileSync('/usr/bin/kwin_wayland', kwinCopy);
    fs.chmodSync(kwinCopy, 0o755);
    const kwin = spawnAsUser('kwin_wayland', kwinCopy, [
      '--virtual',
      '--no-lockscreen',
      '--no-global-shortcuts',
      '--socket',
      'wayland-0',
      '--width',
      '1280',
      '--height',
      '720',
    ]);
    await waitUntil(
      () => {
        if (kwin.exitCode !== null) throw new Error(`kwin_wayland exited (${kwin.exitCode}): ${logs.get('kwin_wayland') ?? ''}`);
        return fs.existsSync(path.join(runtimeDir, 'wayland-0'));
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'KWin' },
    );
    return {
      user,
      env,
      async openWindow(title, text) {
        const zenity = spawnAsUser('zenity', 'zenity', ['--info', '--title', title, '--text', text]);
        await new Promise((r) => setTimeout(r, 2000)); // mapped and activated
        if (zenity.exitCode !== null) throw new Error(`zenity exited (${zenity.exitCode}): ${logs.get('zenity') ?? ''}`);
        return { close: () => stop(zenity) };
      },
      logs: () => [...logs].map(([name, log]) => `--- ${name}\n${log}`).join('\n'),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

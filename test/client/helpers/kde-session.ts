// A real KWin for the KDE window-title tests: kwin_wayland --virtual (software rendering, no GPU) on a private
// session bus, as the unprivileged test user with its own XDG_RUNTIME_DIR, and zenity dialogs as the windows
// (foot dies of a division by zero on KWin's virtual output). Debian's kwin_wayland carries a file capability
// (cap_sys_resource) that a non-root exec in a container is refused: the session runs a plain copy of it.
import fs from 'node:fs';
import path from 'node:path';
import type { TestUser } from './unprivileged-user.js';
import { startDesktopSession, startingSession, stopChild } from './wayland-session-base.js';

export interface KdeSession {
  user: TestUser;
  /** For the client or doctor: the Wayland display, the session bus, the desktop's name. */
  env: Record<string, string>;
  /** A zenity window with this title; resolves once KWin has it. */
  openWindow(title: string, text: string): Promise<{ close(): Promise<void> }>;
  logs(): string;
  close(): Promise<void>;
}

export async function startKdeSession(): Promise<KdeSession> {
  const { base, env } = startDesktopSession('KDE', { GDK_BACKEND: 'wayland' });
  return startingSession(base, async () => {
    // The session bus admits the session's user and root (the test reads the active window from here too).
    await base.startSessionBus();
    const kwinCopy = path.join(base.runtimeDir, 'kwin_wayland');
    fs.copyFileSync('/usr/bin/kwin_wayland', kwinCopy);
    fs.chmodSync(kwinCopy, 0o755);
    const kwin = base.spawnAsUser('kwin_wayland', kwinCopy, [
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
    await base.whileRunning('kwin_wayland', kwin, () => fs.existsSync(path.join(base.runtimeDir, 'wayland-0')), { timeoutMs: 30_000, what: 'KWin' });
    return {
      user: base.user,
      env,
      async openWindow(title, text) {
        const zenity = base.spawnAsUser('zenity', 'zenity', ['--info', '--title', title, '--text', text]);
        await new Promise((r) => setTimeout(r, 2000)); // mapped and activated
        if (zenity.exitCode !== null) throw new Error(`zenity exited (${zenity.exitCode}): ${base.log('zenity')}`);
        return { close: () => stopChild(zenity) };
      },
      logs: () => base.logs(),
      close: () => base.close(),
    };
  });
}

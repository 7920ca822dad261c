import fs from 'node:fs';
import type { Logger } from '../../log.js';
import { LazyX11Connection, type X11Connection } from './x11-connection.js';

/** What the user is looking at: recorded with each frame and checked against the exclusion rules. */
export interface ActiveWindow {
  /** Application name (X11: the WM_CLASS class, e.g. "firefox"; else the process name). */
  app: string;
  title: string;
  /** Every name the application goes by (class, instance, process name): exclusion rules match any of them. */
  appNames: string[];
  pid?: number;
}

export interface WindowInfoSource {
  /** The focused window; app and title are '' when nothing is focused or it cannot be told. */
  active(): Promise<ActiveWindow>;
  close(): void;
}

export const NO_WINDOW: ActiveWindow = { app: '', title: '', appNames: [] };

function processName(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * X11 (EWMH): _NET_ACTIVE_WINDOW on the root window, then the window's _NET_WM_NAME (or WM_NAME),
 * WM_CLASS and _NET_WM_PID, over one persistent connection (reconnected when it drops).
 */
export class X11WindowInfo implements WindowInfoSource {
  private readonly connection: LazyX11Connection;

  constructor(
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly log: Logger = () => {},
  ) {
    this.connection = new LazyX11Connection(env);
  }

  async active(): Promise<ActiveWindow> {
    const x = await this.connection.get();
    let window = 0;
    const net = await x.getProperty(x.root, '_NET_ACTIVE_WINDOW');
    if (net && net.format === 32 && net.data.length >= 4) window = net.data.readUInt32LE(0);
    if (window === 0) {
      const focus = await x.getInputFocus();
      window = focus > 1 ? focus : 0; // 0 = None, 1 = PointerRoot
    }
    if (window === 0 || window === x.root) return NO_WINDOW;
    try {
      return await this.describe(x, window);
    } catch (error) {
      // The window vanished between the two requests (BadWindow): nothing is focused right now.
      this.log(`could not read the active window: ${(error as Error).message}`);
      return NO_WINDOW;
    }
  }

  private async describe(x: X11Connection, window: number): Promise<ActiveWindow> {
    const [netName, wmName, wmClass, wmPid] = await Promise.all([
      x.getProperty(window, '_NET_WM_NAME', 8192),
      x.getProperty(window, 'WM_NAME', 8192),
      x.getProperty(window, 'WM_CLASS'),
      x.getProperty(window, '_NET_WM_PID'),
    ]);
    const title = netName?.data.length ? netName.data.toString('utf8') : wmName ? wmName.data.toString('latin1') : '';
    const [instance = '', klass = ''] = wmClass ? wmClass.data.toString('latin1').split('\0') : [];
    const pid = wmPid && wmPid.format === 32 && wmPid.data.length >= 4 ? wmPid.data.readUInt32LE(0) : undefined;
    const proc = pid ? processName(pid) : undefined;
    const app = klass || instance || proc || '';
    const appNames = [...new Set([klass, instance, proc].filter((n): n is string => !!n))];
    return { app, title: title.replace(/\0+$/, ''), appNames, ...(pid ? { pid } : {}) };
  }

  close(): void {
    this.connection.close();
  }
}

/**
 * macOS and Windows: the focused window as node-screenshots (xcap) reports it. On macOS the process needs the
 * Screen Recording permission for titles to be readable.
 */
export class ScreenshotsWindowInfo implements WindowInfoSource {
  async active(): Promise<ActiveWindow> {
    const { Window } = await import('node-screenshots');
    for (const window of Window.all()) {
      let focused = false;
      try {
        focused = window.isFocused();
      } catch {
        continue;
      }
      if (!focused) continue;
      const safe = <T>(read: () => T, fallback: T): T => {
        try {
          return read();
        } catch {
          return fallback;
        }
      };
      const app = safe(() => window.appName(), '');
      const title = safe(() => window.title(), '');
      const pid = safe(() => window.pid(), 0);
      return { app, title, appNames: app ? [app] : [], ...(pid ? { pid } : {}) };
    }
    return NO_WINDOW;
  }

  close(): void {}
}

export function createWindowInfo(env: Record<string, string | undefined>, log: Logger): WindowInfoSource {
  return process.platform === 'linux' ? new X11WindowInfo(env, log) : new ScreenshotsWindowInfo();
}

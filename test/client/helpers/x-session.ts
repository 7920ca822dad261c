import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { X11Connection } from '../../../src/client/capture/x11-connection.js';

const execFileAsync = promisify(execFile);

export interface TestWindow {
  id: string;
  pid: number;
  /** Renames the window (its _NET_WM_NAME and WM_NAME), like a browser switching tabs. */
  setTitle(title: string): Promise<void>;
  activate(): Promise<void>;
  close(): Promise<void>;
}

export interface XSession {
  display: string;
  env: Record<string, string>;
  /** Runs xdotool on this display. */
  xdotool(...args: string[]): Promise<string>;
  /** Opens a real X window (xmessage from x11-utils) with this title and text, focused. */
  openWindow(title: string, text?: string): Promise<TestWindow>;
  /** A little mouse movement: the user is no longer idle. */
  userInput(): Promise<void>;
  close(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  });
}

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A private X server (Xvfb 1920x1080x24 on a display number it picks itself, so parallel test files do not
 * collide) with the openbox window manager. Close it in an `after` hook of the file (a hook registered inside
 * `before` would run right after it).
 */
export async function startXSession(): Promise<XSession> {
  const children: ChildProcess[] = [];
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1920x1080x24', '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  children.push(xvfb);
  let stderr = '';
  xvfb.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const number = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start: ${stderr}`)), 15_000);
    (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.trim());
      }
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${stderr}`)));
  });
  const display = `:${number}`;
  const env: Record<string, string> = { DISPLAY: display };
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, XAUTHORITY: '/dev/null' };
  delete childEnv.WAYLAND_DISPLAY;
  delete childEnv.XDG_SESSION_TYPE;

  const openbox = spawn('openbox', ['--sm-disable'], { env: childEnv, stdio: 'ignore' });
  children.push(openbox);
  const x = await X11Connection.connect(env);
  await until(async () => ((await x.getProperty(x.root, '_NET_SUPPORTING_WM_CHECK')) ? true : undefined), 'openbox to manage the display');

  const xdotool = async (...args: string[]) => (await execFileAsync('xdotool', args, { env: childEnv, timeout: 10_000 })).stdout.trim();

  const session: XSession = {
    display,
    env,
    xdotool,
    async openWindow(title, text = 'OpenRecall test window') {
      const child = spawn('xmessage', ['-title', title, '-center', text], { env: childEnv, stdio: 'ignore' });
      children.push(child);
      // xmessage sets no _NET_WM_PID: find its top-level window by its (unique) title.
      const pattern = `^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
      const id = await until(async () => (await xdotool('search', '--name', pattern).catch(() => '')).split('\n').filter(Boolean).pop(), `window "${title}"`);
      const window: TestWindow = {
        id,
        pid: child.pid!,
        setTitle: async (t) => {
          await xdotool('set_window', '--name', t, id);
        },
        activate: async () => {
          await xdotool('windowactivate', '--sync', id);
          await until(async () => ((await xdotool('getactivewindow')) === id ? true : undefined), `window ${id} to be active`);
        },
        close: () => stopChild(child),
      };
      await window.activate();
      return window;
    },
    async userInput() {
      await xdotool('mousemove_relative', '--', '3', '3');
      await xdotool('mousemove_relative', '--', '-3', '-3');
    },
    async close() {
      x.close();
      for (const child of children.reverse()) await stopChild(child);
    },
  };
  return session;
}

/** A window for one test: closed when the test ends, even if it fails. */
export async function openWindowForTest(t: TestContext, session: XSession, title: string): Promise<TestWindow> {
  const w = await session.openWindow(title);
  t.after(() => w.close());
  return w;
}

// A real GNOME screen-sharing stack for the portal tests: headless mutter (its own Wayland display, a virtual
// monitor, software rendering), PipeWire with WirePlumber, xdg-desktop-portal with its GNOME backend
// (xdg-desktop-portal-gnome: the "Screen Share" dialog, streams through mutter's ScreenCast API), on a private
// session bus, all as the unprivileged test user with its own XDG_RUNTIME_DIR and HOME (so the portal's
// permission store starts empty: the first ScreenCast asks). No gnome-shell: the window list, the Screenshot
// portal and the active window are not there, as on GNOME without a shell extension.
//
// The "user" in front of the screen is mutter's RemoteDesktop API: it sees the screen through a ScreenCast
// stream of its own and presses keys on a virtual keyboard, as someone at the keyboard would.
import fs from 'node:fs';
import path from 'node:path';
import dbus, { type MessageBus } from 'dbus-next';
import { decodeRgba } from '../../../src/images/codec.js';
import { waitUntil } from '../../helpers/api.js';
import type { TestUser } from './unprivileged-user.js';
import { footArgs, startDesktopSession, startingSession, stopChild } from './wayland-session-base.js';

export interface GnomeSession {
  user: TestUser;
  runtimeDir: string;
  /** For the client: the Wayland display, the session bus, the desktop's name. */
  env: Record<string, string>;
  /** A foot terminal showing these words in a large font, black on white; maximized: the whole screen, as on sway. */
  openWindow(title: string, words: string, options?: { maximized?: boolean }): Promise<{ close(): Promise<void> }>;
  /**
   * The user at the screen: waits for the "Screen Share" dialog, then picks the screen and clicks Share, clicks
   * Cancel, or closes the dialog (Escape).
   */
  answerScreenShare(answer: 'share' | 'cancel' | 'close'): Promise<void>;
  /** Whether the "Screen Share" dialog is on screen now. */
  dialogShown(): Promise<boolean>;
  /** The last lines each program wrote: for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

const MUTTER_RD = 'org.gnome.Mutter.RemoteDesktop';
const MUTTER_SC = 'org.gnome.Mutter.ScreenCast';
const KEY = { Tab: 0xff09, Escape: 0xff1b, Alt: 0xffe9, Shift: 0xffe1, c: 0x63, s: 0x73 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pixels of Adwaita's accent blue (#3584e4): the ticked "Remember this selection" box alone is a few hundred, the
 * enabled "Share" button adds a few thousand (disabled, it is paler and not counted).
 */
function accentPixels(rgba: Buffer): number {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (Math.abs(rgba[i]! - 0x35) < 6 && Math.abs(rgba[i + 1]! - 0x84) < 6 && Math.abs(rgba[i + 2]! - 0xe4) < 6) n++;
  }
  return n;
}

/** Starts the stack on a virtual monitor of this size. Close it in an `after` hook of the file. */
export async function startGnomeSession(size = { width: 1280, height: 720 }): Promise<GnomeSession> {
  const { base, env } = startDesktopSession('GNOME', { GTK_A11Y: 'none' }); // no accessibility bus (GTK would start one)
  const { runtimeDir } = base;
  let bus: MessageBus | undefined;
  const close = async () => {
    bus?.disconnect();
    await base.close();
  };
  return startingSession({ ...base, close }, async () => {
    // The session bus admits the session's user and root (the test drives mutter's RemoteDesktop API from here).
    await base.startSessionBus();

    bus = dbus.sessionBus({ busAddress: env.DBUS_SESSION_BUS_ADDRESS });
    bus.on('error', () => {});
    const { Message, Variant } = dbus;
    const call = async (destination: string, objectPath: string, iface: string, member: string, signature = '', body: unknown[] = []) =>
      (await bus!.call(new Message({ destination, path: objectPath, interface: iface, member, signature, body })))?.body ?? [];
    const owned = async (name: string) => (await call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameHasOwner', 's', [name]))[0];
    /** Starts a program of the session and waits until it owns this name on the session bus. */
    const startOwner = async (name: string, command: string, args: string[], busName: string) =>
      base.whileRunning(name, base.spawnAsUser(name, command, args), () => owned(busName), { what: `${name} on the session bus` });
    const monitor = `${size.width}x${size.height}`;
    await startOwner('mutter', 'mutter', ['--headless', '--wayland', '--no-x11', '--wayland-display', 'wayland-0', '--virtual-monitor', monitor], MUTTER_SC);

    const pipewire = base.spawnAsUser('pipewire', 'pipewire', []);
    await base.whileRunning('pipewire', pipewire, () => fs.existsSync(path.join(runtimeDir, 'pipewire-0')), {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'PipeWire',
    });
    base.spawnAsUser('wireplumber', 'wireplumber', []);
    await startOwner('xdg-desktop-portal-gnome', '/usr/libexec/xdg-desktop-portal-gnome', [], 'org.freedesktop.impl.portal.desktop.gnome');
    await startOwner('xdg-desktop-portal', '/usr/libexec/xdg-desktop-portal', ['-r'], 'org.freedesktop.portal.Desktop');

    // The person at the screen: a RemoteDesktop session (virtual keyboard) with a ScreenCast stream to look at.
    const [rdPath] = (await call(MUTTER_RD, '/org/gnome/Mutter/RemoteDesktop', MUTTER_RD, 'CreateSession')) as [string];
    const [sessionId] = (await call(MUTTER_RD, rdPath, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [`${MUTTER_RD}.Session`, 'SessionId'])) as [
      { value: string },
    ];
    const [scPath] = (await call(MUTTER_SC, '/org/gnome/Mutter/ScreenCast', MUTTER_SC, 'CreateSession', 'a{sv}', [
      { 'remote-desktop-session-id': new Variant('s', sessionId.value) },
    ])) as [string];
    const [streamPath] = (await call(MUTTER_SC, scPath, `${MUTTER_SC}.Session`, 'RecordMonitor', 'sa{sv}', ['', {}])) as [string];
    await call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [`type='signal',path='${streamPath}'`]);
    const streamNode = new Promise<number>((resolve) =>
      bus!.on('message', (m) => {
        if (m.path === streamPath && m.member === 'PipeWireStreamAdded') resolve(m.body[0] as number);
      }),
    );
    await call(MUTTER_RD, rdPath, `${MUTTER_RD}.Session`, 'Start');
    const node = await streamNode;

    const key = async (...keysyms: number[]) => {
      for (const k of keysyms) await call(MUTTER_RD, rdPath, `${MUTTER_RD}.Session`, 'NotifyKeyboardKeysym', 'ub', [k, true]);
      await sleep(80);
      for (const k of [...keysyms].reverse()) await call(MUTTER_RD, rdPath, `${MUTTER_RD}.Session`, 'NotifyKeyboardKeysym', 'ub', [k, false]);
      await sleep(300);
    };
    // One frame of the screen, read the way the client reads the portal's stream.
    const look = async () => {
      const gst = base.spawnAsUser(
        'gst-launch-1.0',
        'gst-launch-1.0',
        `-q pipewiresrc path=${node} num-buffers=1 always-copy=true ! videoconvert ! pngenc compression-level=0 ! fdsink fd=1`.split(' '),
        { stdout: 'pipe' },
      );
      const out: Buffer[] = [];
      gst.stdout!.on('data', (c: Buffer) => out.push(c));
      const timer = setTimeout(() => gst.kill('SIGKILL'), 15_000);
      const code = await new Promise<number | null>((resolve) => gst.once('exit', resolve));
      clearTimeout(timer);
      if (code !== 0) throw new Error(`gst-launch-1.0 exited (${code}): ${base.log('gst-launch-1.0')}`);
      return accentPixels((await decodeRgba(Buffer.concat(out))).data);
    };
    // A keyboard appears to mutter a moment after Start; a first key press pressed too early is lost.
    await sleep(500);
    await key(KEY.Shift);

    return {
      user: base.user,
      runtimeDir,
      env,
      async openWindow(title, words, options = {}) {
        const foot = base.spawnAsUser('foot', 'foot', [...(options.maximized ? ['--maximized'] : []), ...footArgs(title, words, 28)]);
        await sleep(1500); // mapped and drawn (mutter tells no window list without gnome-shell)
        if (foot.exitCode !== null) throw new Error(`foot exited (${foot.exitCode}): ${base.log('foot')}`);
        return { close: () => stopChild(foot) };
      },
      async dialogShown() {
        const blue = await look();
        return blue > 100;
      },
      async answerScreenShare(answer) {
        // The dialog is up once the ticked "Remember this selection" box is on screen.
        await waitUntil(async () => (await look()) > 100, { timeoutMs: 30_000, intervalMs: 200, what: 'the "Screen Share" dialog' });
        if (answer === 'cancel') return key(KEY.Alt, KEY.c); // _Cancel
        if (answer === 'close') return key(KEY.Escape);
        // Tab to the screen in the list (focusing it selects it, and enables Share), then Alt+S: _Share.
        await waitUntil(
          async () => {
            await key(KEY.Tab);
            return (await look()) > 1500;
          },
          { timeoutMs: 20_000, intervalMs: 0, what: 'the screen to be selected in the dialog (Share enabled)' },
        );
        await key(KEY.Alt, KEY.s);
      },
      logs: () => base.logs(),
      close,
    };
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Message, MessageBus } from 'dbus-next';
import { callMethod, connectBus } from './dbus.js';
import { NO_WINDOW, type ActiveWindow, type WindowInfoSource } from './window-info.js';

type Env = Record<string, string | undefined>;

const CALLBACK = 'org.openrecall.KWinActiveWindow';

/**
 * A KWin script that tells this connection the active window (resource class and caption) now and whenever it
 * changes: KDE on Wayland tells the active window only to KWin scripts. KWin 5 names it activeClient, KWin 6
 * activeWindow.
 */
function script(target: string): string {
  return `
var ws = workspace;
function current() { return ws.activeWindow !== undefined ? ws.activeWindow : ws.activeClient; }
function report() {
  var w = current();
  callDBus(${JSON.stringify(target)}, "/", "${CALLBACK}", "Active", w ? String(w.resourceClass || "") : "", w ? String(w.caption || "") : "");
}
var watched = null;
function activated(w) {
  if (watched) watched.captionChanged.disconnect(report);
  watched = w || null;
  if (watched) watched.captionChanged.connect(report);
  report();
}
(ws.windowActivated || ws.clientActivated).connect(activated);
activated(current());
`;
}

/** The active window on KDE Plasma (Wayland), from a KWin script loaded over D-Bus; no extension to install. */
export class KWinWindowInfo implements WindowInfoSource {
  private started: Promise<MessageBus> | undefined;
  private latest: ActiveWindow | undefined;
  // One per process: a doctor run beside the client must not unload the client's script.
  private readonly pluginName = `openrecall-active-window-${process.pid}`;

  constructor(private readonly env: Env) {}

  private async start(): Promise<MessageBus> {
    const bus = await connectBus('session', this.env);
    try {
      const { Message: Msg } = (await import('dbus-next')).default;
      bus.addMethodHandler((msg: Message) => {
        if (msg.interface !== CALLBACK || msg.member !== 'Active') return false;
        const [app, title] = msg.body as [string, string];
        this.latest = { app, title, appNames: app ? [app] : [] };
        bus.send(Msg.newMethodReturn(msg, '', []));
        return true;
      });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrecall-kwin-'));
      const file = path.join(dir, 'active-window.js');
      fs.writeFileSync(file, script((bus as MessageBus & { name: string }).name));
      try {
        const kwin = { destination: 'org.kde.KWin', interface: 'org.kde.kwin.Scripting' };
        const [id] = await callMethod(bus, { ...kwin, path: '/Scripting', member: 'loadScript', signature: 'ss', body: [file, this.pluginName] });
        if (typeof id !== 'number' || id < 0) throw new Error('KWin did not load the script');
        // KWin 5 serves the script at /<id>, KWin 6 at /Scripting/Script<id>.
        await callMethod(bus, { destination: 'org.kde.KWin', path: `/Scripting/Script${id}`, interface: 'org.kde.kwin.Script', member: 'run' }).catch(() =>
          callMethod(bus, { destination: 'org.kde.KWin', path: `/${id}`, interface: 'org.kde.kwin.Script', member: 'run' }),
        );
        const deadline = Date.now() + 3000;
        while (!this.latest && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (!this.latest) throw new Error('the KWin script did not report the active window');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return bus;
    } catch (error) {
      bus.disconnect();
      throw new Error(`cannot read the active window from KWin: ${(error as Error).message}`);
    }
  }

  async active(): Promise<ActiveWindow> {
    this.started ??= this.start().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    await this.started;
    return this.latest ?? NO_WINDOW;
  }

  close(): void {
    const started = this.started;
    this.started = undefined;
    void started
      ?.then(async (bus) => {
        await callMethod(bus, {
          destination: 'org.kde.KWin',
          path: '/Scripting',
          interface: 'org.kde.kwin.Scripting',
          member: 'unloadScript',
          signature: 's',
          body: [this.pluginName],
        }).catch(() => []);
        bus.disconnect();
      })
      .catch(() => {});
  }
}

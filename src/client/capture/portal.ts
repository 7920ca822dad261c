import fs from 'node:fs';
import path from 'node:path';
import type { MessageBus } from 'dbus-next';
import { decodeRgba } from '../../images/codec.js';
import type { Logger } from '../../log.js';
import { captureStdout } from './capture-process.js';
import { KWinWindowInfo } from './kwin-window.js';
import { connectBus } from './dbus.js';
import { PortalRefusedError, portalScreenshot, screenCastVersion, startScreenCast, type PortalStream } from './portal-session.js';
import { orderMonitors, type MonitorInfo, type RawFrame, type ScreenSource } from './screen.js';
import { NO_WINDOW, type WindowInfoSource } from './window-info.js';
import { compositorIpc, WlrootsWindowInfo } from './wlroots.js';

type Env = Record<string, string | undefined>;

/** What to click when the desktop asked and the answer was no (or nobody answered). */
const HOW_TO_ALLOW =
  'screen sharing was not allowed. Start the client again and, in the "Share screen" dialog the desktop shows, choose the screen, ' +
  'keep "Remember this selection" / "Allow restoring" ticked and click "Share" (GNOME: Share; KDE: OK). It is asked once: later starts reuse the permission';

/** The restore token lives next to the buffer, readable by this user only. */
export function restoreTokenPath(dataDir: string): string {
  return path.join(dataDir, 'client-state', 'portal-restore-token');
}

function readToken(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function writeToken(file: string, token: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, token, { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}

/** Runs a GStreamer pipeline and collects its stdout (one PNG). */
function runGst(args: string[], env: Env, timeoutMs = 15_000): Promise<Buffer> {
  return captureStdout('gst-launch-1.0', ['-q', ...args], env, { timeoutMs, install: 'install gstreamer1.0-tools and gstreamer1.0-pipewire' });
}

interface Grant {
  bus: MessageBus;
  /** Stream per monitor key; empty when only the Screenshot portal is there. */
  streams: Map<string, PortalStream>;
  monitors: MonitorInfo[];
}

/**
 * GNOME, KDE and other desktops through xdg-desktop-portal: a ScreenCast session (asked once, then restored
 * silently from the saved restore token), each capture one frame of its PipeWire stream through GStreamer.
 * Where the desktop has no ScreenCast portal, the Screenshot portal.
 */
export class PortalScreenSource implements ScreenSource {
  private grant: Promise<Grant> | undefined;
  private refused: Error | undefined;

  constructor(
    private readonly env: Env,
    private readonly options: { dataDir: string; primaryMonitorOnly: boolean },
    private readonly log: Logger,
  ) {}

  private async open(): Promise<Grant> {
    const bus = await connectBus('session', this.env);
    try {
      bus.on('error', () => {
        this.grant = undefined; // the bus (and with it the session) is gone: start afresh next round
      });
      const version = await screenCastVersion(bus);
      const screenshots = {
        bus,
        streams: new Map(),
        monitors: orderMonitors([{ key: 'portal:screenshot', name: 'screenshot', x: 0, y: 0, width: 0, height: 0, primary: true }]),
      };
      if (version === 0) {
        this.log('no ScreenCast portal on this desktop: using the Screenshot portal (one still image per capture)');
        return screenshots;
      }
      const tokenFile = restoreTokenPath(this.options.dataDir);
      const saved = version >= 4 ? readToken(tokenFile) : undefined;
      this.log(saved ? 'restoring the screen-cast permission given before' : 'asking the desktop for permission to record the screen (screen-cast portal)');
      let grant: Awaited<ReturnType<typeof startScreenCast>>;
      try {
        grant = await startScreenCast(bus, { multiple: !this.options.primaryMonitorOnly, ...(saved ? { restoreToken: saved } : {}) });
      } catch (error) {
        if (error instanceof PortalRefusedError) throw error;
        // e.g. xdg-desktop-portal-wlr without a GPU render node cannot negotiate a stream format.
        this.log(`the screen-cast portal failed (${(error as Error).message}): using the Screenshot portal (one still image per capture)`);
        return screenshots;
      }
      if (grant.restoreToken) writeToken(tokenFile, grant.restoreToken);
      const streams = new Map<string, PortalStream>();
      const list = grant.streams.map((s, i) => {
        const key = `portal:${s.x ?? 0},${s.y ?? 0}:${s.width ?? 0}x${s.height ?? 0}:${i}`;
        streams.set(key, s);
        return { key, name: `screen ${i + 1}`, x: s.x ?? 0, y: s.y ?? 0, width: s.width ?? 0, height: s.height ?? 0, primary: i === 0 };
      });
      this.log(`screen-cast session started: ${list.length} screen(s)${grant.restoreToken ? '; permission kept for the next start' : ''}`);
      return { bus, streams, monitors: orderMonitors(list) };
    } catch (error) {
      bus.disconnect();
      if (error instanceof PortalRefusedError) this.refused = new Error(HOW_TO_ALLOW);
      throw this.refused ?? error;
    }
  }

  private session(): Promise<Grant> {
    // Refused once: not asked again every round (each ask is a dialog); a restart asks again.
    if (this.refused) return Promise.reject(this.refused);
    this.grant ??= this.open().catch((error: unknown) => {
      this.grant = undefined;
      throw error;
    });
    return this.grant;
  }

  async monitors(): Promise<MonitorInfo[]> {
    return (await this.session()).monitors;
  }

  async capture(monitor: MonitorInfo): Promise<RawFrame> {
    const { bus, streams } = await this.session();
    const stream = streams.get(monitor.key);
    if (!stream) {
      const file = await portalScreenshot(bus);
      try {
        return await decodeRgba(fs.readFileSync(file));
      } finally {
        fs.rmSync(file, { force: true });
      }
    }
    if (stream.width && stream.height) {
      // One buffer of the stream as raw RGBA, scaled to the size the portal announced (so the byte count is known
      // even if the stream renegotiates): no PNG to write and read back.
      const { width, height } = stream;
      const data = await runGst(
        `pipewiresrc path=${stream.nodeId} num-buffers=1 always-copy=true ! videoconvert ! videoscale ! video/x-raw,format=RGBA,width=${width},height=${height} ! fdsink fd=1`.split(
          ' ',
        ),
        this.env,
      );
      if (data.length !== width * height * 4) throw new Error(`the screen-cast stream gave ${data.length} bytes, not a ${width}x${height} RGBA frame`);
      return { width, height, data };
    }
    // A stream of unknown size: one buffer as PNG without compression (cheap to write and to read back).
    const png = await runGst(
      `pipewiresrc path=${stream.nodeId} num-buffers=1 always-copy=true ! videoconvert ! pngenc compression-level=0 ! fdsink fd=1`.split(' '),
      this.env,
    );
    return decodeRgba(png);
  }

  close(): void {
    this.grant?.then((g) => g.bus.disconnect()).catch(() => {});
    this.grant = undefined;
  }
}

/**
 * The active window where a portal desktop tells it: GNOME does not (not without a shell extension), KWin to its
 * own scripts (one is loaded over D-Bus); a wlroots compositor run with the portal still answers over its IPC.
 */
export function portalWindowInfo(env: Env, log: Logger): WindowInfoSource {
  const ipc = compositorIpc(env);
  if (ipc) return new WlrootsWindowInfo(ipc, log);
  if (isKde(env)) return kdeWindowInfo(env, log);
  log(`${noWindowReason(env)}: frames get no app or window title, and app/title exclusion rules cannot apply (pause with "openrecall pause")`);
  return { active: async () => NO_WINDOW, close: () => {} };
}

const isKde = (env: Env) => (env.XDG_CURRENT_DESKTOP ?? '').toLowerCase().includes('kde');

/** KDE: the active window from a KWin script; where KWin will not run it, frames go without (said once). */
function kdeWindowInfo(env: Env, log: Logger): WindowInfoSource {
  const kwin = new KWinWindowInfo(env);
  let failed = false;
  return {
    active: async () => {
      if (failed) return NO_WINDOW;
      return kwin.active().catch((error: Error) => {
        failed = true;
        log(`${error.message}: frames get no app or window title, and app/title exclusion rules cannot apply (pause with "openrecall pause")`);
        return NO_WINDOW;
      });
    },
    close: () => kwin.close(),
  };
}

/** Why a portal desktop gives no active window (said at start and by doctor). */
export function noWindowReason(env: Env): string {
  const desktop = (env.XDG_CURRENT_DESKTOP ?? '').toLowerCase();
  if (desktop.includes('gnome')) {
    return 'GNOME on Wayland tells no other program the active window without a shell extension (org.gnome.Shell.Eval is disabled since GNOME 41)';
  }
  return 'this desktop tells no other program the active window';
}

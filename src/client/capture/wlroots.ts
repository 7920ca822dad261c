import fs from 'node:fs';
import type { Logger } from '../../log.js';
import { captureStdout } from './capture-process.js';
import { hyprlandRequest, hyprlandSocket, type HyprlandMonitor, type HyprlandWindow } from './hyprland-ipc.js';
import { ppmToRgba } from './ppm.js';
import { orderMonitors, type MonitorInfo, type RawFrame, type ScreenSource } from './screen.js';
import { focusedNode, SwayMessage, swayRequest, type SwayNode, type SwayOutput } from './sway-ipc.js';
import { NO_WINDOW, type ActiveWindow, type WindowInfoSource } from './window-info.js';

type Env = Record<string, string | undefined>;

function processName(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function windowOf(app: string, title: string, names: Array<string | null | undefined>, pid?: number): ActiveWindow {
  const proc = pid ? processName(pid) : undefined;
  const appNames = [...new Set([...names, proc].filter((n): n is string => !!n))];
  return { app: app || proc || '', title, appNames, ...(pid ? { pid } : {}) };
}

/** What a wlroots compositor tells about its outputs and focused window (sway IPC or Hyprland's socket). */
export interface CompositorIpc {
  name: 'sway' | 'Hyprland';
  outputs(): Promise<Omit<MonitorInfo, 'index'>[]>;
  active(): Promise<ActiveWindow>;
}

class SwayIpc implements CompositorIpc {
  readonly name = 'sway';
  constructor(private readonly socket: string) {}

  async outputs(): Promise<Omit<MonitorInfo, 'index'>[]> {
    const outputs = (await swayRequest(this.socket, SwayMessage.GET_OUTPUTS)) as SwayOutput[];
    return outputs
      .filter((o) => o.active)
      .map((o) => ({ key: `${o.name}@${o.rect.x},${o.rect.y}:${o.rect.width}x${o.rect.height}`, name: o.name, ...o.rect, primary: !!o.primary }));
  }

  async active(): Promise<ActiveWindow> {
    const node = focusedNode((await swayRequest(this.socket, SwayMessage.GET_TREE)) as SwayNode);
    if (!node || (node.type !== 'con' && node.type !== 'floating_con')) return NO_WINDOW;
    const props = node.window_properties;
    const app = node.app_id || props?.class || props?.instance || '';
    return windowOf(app, node.name ?? '', [node.app_id, props?.class, props?.instance], node.pid);
  }
}

class HyprlandIpc implements CompositorIpc {
  readonly name = 'Hyprland';
  constructor(private readonly socket: string) {}

  async outputs(): Promise<Omit<MonitorInfo, 'index'>[]> {
    const monitors = (await hyprlandRequest(this.socket, 'j/monitors')) as HyprlandMonitor[];
    return monitors.map((m) => ({
      key: `${m.name}@${m.x},${m.y}:${m.width}x${m.height}`,
      name: m.name,
      x: m.x,
      y: m.y,
      width: m.width,
      height: m.height,
      primary: false,
    }));
  }

  async active(): Promise<ActiveWindow> {
    const w = (await hyprlandRequest(this.socket, 'j/activewindow')) as HyprlandWindow | null;
    if (!w || (!w.class && !w.title)) return NO_WINDOW;
    return windowOf(w.class || w.initialClass || '', w.title ?? '', [w.class, w.initialClass], w.pid);
  }
}

/** sway (SWAYSOCK) or Hyprland (HYPRLAND_INSTANCE_SIGNATURE); undefined for other compositors (river, labwc, ...). */
export function compositorIpc(env: Env): CompositorIpc | undefined {
  if (env.SWAYSOCK && fs.existsSync(env.SWAYSOCK)) return new SwayIpc(env.SWAYSOCK);
  const hypr = hyprlandSocket(env);
  return hypr ? new HyprlandIpc(hypr) : undefined;
}

/** The whole layout in one image, for compositors whose outputs cannot be listed. */
const ALL_OUTPUTS: Omit<MonitorInfo, 'index'> = { key: 'wayland:all-outputs', name: 'all outputs', x: 0, y: 0, width: 0, height: 0, primary: true };

/** Runs grim and collects its stdout (a PPM: no compression to spend CPU on, on either side). */
function runGrim(args: string[], env: Env, timeoutMs = 10_000): Promise<Buffer> {
  return captureStdout('grim', args, env, { timeoutMs, install: 'install it (Debian/Ubuntu: apt install grim)' });
}

/** Frames through wlr-screencopy, with grim as a child process: one output (`-o NAME`) or all of them. */
export class GrimScreenSource implements ScreenSource {
  constructor(
    private readonly env: Env,
    private readonly ipc: CompositorIpc | undefined,
  ) {}

  async monitors(): Promise<MonitorInfo[]> {
    return orderMonitors(this.ipc ? await this.ipc.outputs() : [ALL_OUTPUTS]);
  }

  async capture(monitor: MonitorInfo): Promise<RawFrame> {
    const output = monitor.key === ALL_OUTPUTS.key ? [] : ['-o', monitor.name];
    return ppmToRgba(await runGrim(['-t', 'ppm', ...output, '-'], this.env));
  }
}

/** The focused window from the compositor; on one without sway's or Hyprland's IPC, none (app and title stay empty). */
export class WlrootsWindowInfo implements WindowInfoSource {
  constructor(
    private readonly ipc: CompositorIpc | undefined,
    log: Logger = () => {},
  ) {
    if (!ipc) log('this compositor has neither sway IPC nor Hyprland socket: frames get no app or window title, and exclusion rules cannot apply');
  }

  async active(): Promise<ActiveWindow> {
    return this.ipc ? this.ipc.active() : NO_WINDOW;
  }

  close(): void {}
}

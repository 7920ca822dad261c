/** One monitor as the capture loop sees it. */
export interface MonitorInfo {
  /** Stable while the monitor stays plugged in with the same geometry; keys the per-monitor change detection. */
  key: string;
  /** Position in the list (primary first, then left to right, top to bottom): sent as `monitor`. */
  index: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  primary: boolean;
}

/** An uncompressed RGBA capture. */
export interface RawFrame {
  width: number;
  height: number;
  /** width * height * 4 bytes, RGBA. */
  data: Buffer;
}

export interface ScreenSource {
  monitors(): Promise<MonitorInfo[]>;
  /** Throws when the monitor is gone (unplugged since it was listed). */
  capture(monitor: MonitorInfo): Promise<RawFrame>;
  /** Ends what the source keeps running (a portal session, a GStreamer child). */
  close?(): void;
}

/** The primary monitor; when the platform names none (e.g. Xvfb), the one at the origin, else the first. */
export function primaryMonitor(monitors: MonitorInfo[]): MonitorInfo | undefined {
  return monitors.find((m) => m.primary) ?? monitors.find((m) => m.x === 0 && m.y === 0) ?? monitors[0];
}

/** Orders monitors primary first, then by position, and numbers them. */
export function orderMonitors(monitors: Omit<MonitorInfo, 'index'>[]): MonitorInfo[] {
  return [...monitors]
    .sort((a, b) => Number(b.primary) - Number(a.primary) || a.x - b.x || a.y - b.y || a.key.localeCompare(b.key))
    .map((m, index) => ({ ...m, index }));
}

type NativeMonitor = import('node-screenshots').Monitor;

/** Screens through node-screenshots (xcap: X11 on Linux, CoreGraphics on macOS, DXGI/GDI on Windows). */
export class NodeScreenshotsSource implements ScreenSource {
  private native = new Map<string, NativeMonitor>();
  private module: typeof import('node-screenshots') | undefined;

  private async lib(): Promise<typeof import('node-screenshots')> {
    this.module ??= await import('node-screenshots');
    return this.module;
  }

  async monitors(): Promise<MonitorInfo[]> {
    const { Monitor } = await this.lib();
    const found = new Map<string, NativeMonitor>();
    const list: Omit<MonitorInfo, 'index'>[] = [];
    for (const m of Monitor.all()) {
      const info = { name: m.name(), x: m.x(), y: m.y(), width: m.width(), height: m.height(), primary: m.isPrimary() };
      const key = `${m.id()}:${info.name}@${info.x},${info.y}:${info.width}x${info.height}`;
      found.set(key, m);
      list.push({ key, ...info });
    }
    this.native = found;
    return orderMonitors(list);
  }

  async capture(monitor: MonitorInfo): Promise<RawFrame> {
    const native = this.native.get(monitor.key);
    if (!native) throw new Error(`monitor ${monitor.name} is no longer connected`);
    const image = await native.captureImage();
    const data = await image.toRaw(false);
    if (data.length !== image.width * image.height * 4) {
      throw new Error(`unexpected capture size ${data.length} bytes for ${image.width}x${image.height}`);
    }
    return { width: image.width, height: image.height, data };
  }
}

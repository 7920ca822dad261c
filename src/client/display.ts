import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../env.js';
import { backendSetting, chooseBackend, type BackendSetting } from './capture/backend.js';
import { X11Connection } from './capture/x11-connection.js';

export type DisplayKind = 'x11' | 'wlroots' | 'portal' | 'macos' | 'windows';
export type DisplayCheck = { ok: true; kind: DisplayKind; reason: string } | { ok: false; reason: string };

type Env = Record<string, string | undefined>;

/** A program on PATH. */
export function onPath(program: string, env: Env): boolean {
  return (env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, program)));
}

/** The Wayland socket WAYLAND_DISPLAY names (a path, or a name in XDG_RUNTIME_DIR). */
function waylandSocket(env: Env): string | undefined {
  const name = env.WAYLAND_DISPLAY || 'wayland-0';
  if (path.isAbsolute(name)) return name;
  return env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, name) : undefined;
}

/**
 * Whether this session has a screen the client can capture, and through which backend: X11, a wlroots
 * compositor (grim), or xdg-desktop-portal (GNOME, KDE); macOS and Windows through node-screenshots.
 */
export async function checkDisplay(env: Env = process.env): Promise<DisplayCheck> {
  if (process.platform === 'darwin') return { ok: true, kind: 'macos', reason: 'macOS' };
  if (process.platform === 'win32') return { ok: true, kind: 'windows', reason: 'Windows' };
  if (process.platform !== 'linux') return { ok: false, reason: `screen capture is not supported on ${process.platform}` };
  let setting: BackendSetting;
  try {
    setting = backendSetting(env);
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, reason: error.message };
    throw error;
  }
  const { backend, reason } = chooseBackend(env, setting);
  if (backend === 'wlroots') {
    const socket = waylandSocket(env);
    if (!socket || !fs.existsSync(socket)) return { ok: false, reason: `${reason}, but no Wayland socket at ${socket ?? '$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY'}` };
    if (!onPath('grim', env)) return { ok: false, reason: `${reason}, but grim is not installed (Debian/Ubuntu: apt install grim)` };
    return { ok: true, kind: 'wlroots', reason };
  }
  if (backend === 'portal') {
    if (!env.DBUS_SESSION_BUS_ADDRESS && !(env.XDG_RUNTIME_DIR && fs.existsSync(path.join(env.XDG_RUNTIME_DIR, 'bus')))) {
      return { ok: false, reason: `${reason}, but there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)` };
    }
    if (!onPath('gst-launch-1.0', env)) {
      return { ok: false, reason: `${reason}, but GStreamer is missing (Debian/Ubuntu: apt install gstreamer1.0-tools gstreamer1.0-pipewire)` };
    }
    return { ok: true, kind: 'portal', reason };
  }
  if (!env.DISPLAY) return { ok: false, reason: 'no display: DISPLAY is not set (no graphical X11 or Wayland session here)' };
  try {
    const connection = await X11Connection.connect(env, 3000);
    connection.close();
  } catch (error) {
    return { ok: false, reason: `cannot use display ${env.DISPLAY}: ${(error as Error).message}` };
  }
  return { ok: true, kind: 'x11', reason };
}

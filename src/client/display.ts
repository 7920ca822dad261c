import { X11Connection } from './capture/x11-connection.js';

export type DisplayCheck = { ok: true; kind: 'x11' | 'macos' | 'windows' } | { ok: false; reason: string };

/**
 * Whether this session has a screen the client can capture. Linux needs an X11 session: on Wayland, X11 capture
 * sees only XWayland windows and no active-window or idle information, so the client refuses rather than
 * record black or partial frames.
 */
export async function checkDisplay(env: Record<string, string | undefined> = process.env): Promise<DisplayCheck> {
  if (process.platform === 'darwin') return { ok: true, kind: 'macos' };
  if (process.platform === 'win32') return { ok: true, kind: 'windows' };
  if (process.platform !== 'linux') return { ok: false, reason: `screen capture is not supported on ${process.platform}` };
  if (env.XDG_SESSION_TYPE === 'wayland' || env.WAYLAND_DISPLAY) {
    return {
      ok: false,
      reason: 'this is a Wayland session: screen capture needs X11 on Linux (choose an "Xorg"/"X11" session at login)',
    };
  }
  if (!env.DISPLAY) return { ok: false, reason: 'no display: DISPLAY is not set (no graphical X11 session here)' };
  try {
    const connection = await X11Connection.connect(env, 3000);
    connection.close();
  } catch (error) {
    return { ok: false, reason: `cannot use display ${env.DISPLAY}: ${(error as Error).message}` };
  }
  return { ok: true, kind: 'x11' };
}

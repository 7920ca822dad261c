import { readChoice } from '../../env.js';

export type BackendSetting = 'auto' | 'x11' | 'wlroots' | 'portal';
export type LinuxBackend = Exclude<BackendSetting, 'auto'>;

export const BACKEND_SETTINGS: BackendSetting[] = ['auto', 'x11', 'wlroots', 'portal'];

export function backendSetting(env: Record<string, string | undefined>): BackendSetting {
  return readChoice<BackendSetting>(env, 'OPENRECALL_CAPTURE_BACKEND', 'auto', BACKEND_SETTINGS);
}

/** Desktops built on wlroots (XDG_CURRENT_DESKTOP names): they offer wlr-screencopy to grim. */
const WLROOTS_DESKTOPS = ['sway', 'hyprland', 'river', 'labwc', 'wayfire', 'wlroots', 'niri', 'dwl', 'hikari', 'qtile'];

export interface BackendChoice {
  backend: LinuxBackend;
  /** Why this one: said by `doctor` and at start. */
  reason: string;
}

/**
 * The Linux capture backend for this session. OPENRECALL_CAPTURE_BACKEND wins; otherwise X11 unless the session
 * is Wayland, then wlroots (grim + compositor IPC) on sway, Hyprland and friends, else xdg-desktop-portal (GNOME,
 * KDE and the rest).
 */
export function chooseBackend(env: Record<string, string | undefined>, setting: BackendSetting): BackendChoice {
  if (setting !== 'auto') return { backend: setting, reason: `OPENRECALL_CAPTURE_BACKEND=${setting}` };
  const wayland = !!env.WAYLAND_DISPLAY || env.XDG_SESSION_TYPE === 'wayland';
  if (!wayland) return { backend: 'x11', reason: env.DISPLAY ? `X11 session (DISPLAY=${env.DISPLAY})` : 'no Wayland session' };
  const desktops = (env.XDG_CURRENT_DESKTOP ?? '').toLowerCase().split(':').filter(Boolean);
  if (env.SWAYSOCK) return { backend: 'wlroots', reason: 'Wayland session of sway (SWAYSOCK is set)' };
  if (env.HYPRLAND_INSTANCE_SIGNATURE) return { backend: 'wlroots', reason: 'Wayland session of Hyprland (HYPRLAND_INSTANCE_SIGNATURE is set)' };
  const wlr = desktops.find((d) => WLROOTS_DESKTOPS.includes(d));
  if (wlr) return { backend: 'wlroots', reason: `Wayland session of a wlroots compositor (XDG_CURRENT_DESKTOP=${env.XDG_CURRENT_DESKTOP})` };
  const named = env.XDG_CURRENT_DESKTOP ? ` (XDG_CURRENT_DESKTOP=${env.XDG_CURRENT_DESKTOP})` : '';
  return { backend: 'portal', reason: `Wayland session${named}: screen capture through xdg-desktop-portal` };
}

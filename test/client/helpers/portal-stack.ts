// The desktop side of xdg-desktop-portal on the test sway: a session bus, PipeWire with WirePlumber,
// xdg-desktop-portal-wlr (set to pick HEADLESS-1 without asking) and xdg-desktop-portal (which starts
// xdg-desktop-portal-gtk on the bus for its Access backend), all as the session's user. Everything started here is stopped by the sway session's close().
import fs from 'node:fs';
import path from 'node:path';
import type { SwaySession } from './sway-session.js';

export interface PortalStack {
  /** For the client: the session bus and the desktop name the portal matches its backends with. */
  env: Record<string, string>;
  /** What the user answers in the screen-sharing dialog from now on. */
  answerDialog(allow: boolean): void;
  /** The last lines each program wrote: for failure messages. */
  logs(): string;
}

export async function startPortalStack(sway: SwaySession): Promise<PortalStack> {
  const dir = sway.runtimeDir;
  const configDir = path.join(dir, 'config', 'xdg-desktop-portal-wlr');
  fs.mkdirSync(configDir, { recursive: true });
  // The "dialog": a chooser that answers with the output named in a file (HEADLESS-1: allowed; empty: refused).
  const answer = path.join(dir, 'chooser-answer');
  fs.writeFileSync(answer, 'HEADLESS-1\n');
  fs.writeFileSync(path.join(configDir, 'config'), `[screencast]\nchooser_type=simple\nchooser_cmd=cat ${answer}\nmax_fps=5\n`);
  for (const p of [path.join(dir, 'config'), configDir, path.join(configDir, 'config'), answer]) fs.chownSync(p, sway.user.uid, sway.user.gid);

  // No accessibility bus: xdg-desktop-portal-gtk (the Access backend the Screenshot portal needs) would start one.
  const desktop = { XDG_CURRENT_DESKTOP: 'sway', NO_AT_BRIDGE: '1', GTK_A11Y: 'none' };
  const env = { DBUS_SESSION_BUS_ADDRESS: await sway.startSessionBus(desktop), ...desktop };
  const pipewire = sway.spawnAsUser('pipewire', 'pipewire', [], env);
  await sway.whileRunning('pipewire', pipewire, () => fs.existsSync(path.join(dir, 'pipewire-0')), { timeoutMs: 15_000, intervalMs: 50, what: 'PipeWire' });
  sway.spawnAsUser('wireplumber', 'wireplumber', [], env);
  sway.spawnAsUser('xdg-desktop-portal-wlr', '/usr/libexec/xdg-desktop-portal-wlr', ['-l', 'INFO'], env);
  sway.spawnAsUser('xdg-desktop-portal', '/usr/libexec/xdg-desktop-portal', ['-r'], env);
  return {
    env,
    answerDialog: (allow) => fs.writeFileSync(answer, allow ? 'HEADLESS-1\n' : ''),
    logs: () => sway.logs(),
  };
}

// The desktop side of xdg-desktop-portal on the test sway: a session bus, PipeWire with WirePlumber,
// xdg-desktop-portal-wlr (set to pick HEADLESS-1 without asking) and xdg-desktop-portal (which starts
// xdg-desktop-portal-gtk on the bus for its Access backend), all as the session's user. Everything started here is stopped by the sway session's close().
import fs from 'node:fs';
import path from 'node:path';
import { waitUntil } from '../../helpers/api.js';
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
  const busSocket = path.join(dir, 'bus');
  // No accessibility bus: xdg-desktop-portal-gtk (the Access backend the Screenshot portal needs) would start one.
  const env = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${busSocket}`, XDG_CURRENT_DESKTOP: 'sway', NO_AT_BRIDGE: '1', GTK_A11Y: 'none' };
  const configDir = path.join(dir, 'config', 'xdg-desktop-portal-wlr');
  fs.mkdirSync(configDir, { recursive: true });
  // The "dialog": a chooser that answers with the output named in a file (HEADLESS-1: allowed; empty: refused).
  const answer = path.join(dir, 'chooser-answer');
  fs.writeFileSync(answer, 'HEADLESS-1\n');
  fs.writeFileSync(path.join(configDir, 'config'), `[screencast]\nchooser_type=simple\nchooser_cmd=cat ${answer}\nmax_fps=5\n`);
  for (const p of [path.join(dir, 'config'), configDir, path.join(configDir, 'config'), answer]) fs.chownSync(p, sway.user.uid, sway.user.gid);

  const logs = new Map<string, string>();
  const started = (name: string, child: ReturnType<SwaySession['spawnAsUser']>) => {
    let log = '';
    child.stderr!.on('data', (c: Buffer) => {
      log = (log + c.toString()).slice(-3000);
      logs.set(name, log);
    });
    return () => {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${log}`);
    };
  };
  const busAlive = started('dbus-daemon', sway.spawnAsUser('dbus-daemon', ['--session', `--address=unix:path=${busSocket}`, '--nofork', '--nopidfile'], env));
  await waitUntil(() => (busAlive(), fs.existsSync(busSocket)), { timeoutMs: 15_000, intervalMs: 50, what: 'the session bus' });
  const pipewireAlive = started('pipewire', sway.spawnAsUser('pipewire', [], env));
  await waitUntil(() => (pipewireAlive(), fs.existsSync(path.join(dir, 'pipewire-0'))), { timeoutMs: 15_000, intervalMs: 50, what: 'PipeWire' });
  started('wireplumber', sway.spawnAsUser('wireplumber', [], env));
  const xdpwAlive = started('xdg-desktop-portal-wlr', sway.spawnAsUser('/usr/libexec/xdg-desktop-portal-wlr', ['-l', 'INFO'], env));
  const portalAlive = started('xdg-desktop-portal', sway.spawnAsUser('/usr/libexec/xdg-desktop-portal', ['-r'], env));
  void xdpwAlive;
  void portalAlive;
  return {
    env,
    answerDialog: (allow) => fs.writeFileSync(answer, allow ? 'HEADLESS-1\n' : ''),
    logs: () => [...logs].map(([name, log]) => `--- ${name}\n${log}`).join('\n'),
  };
}

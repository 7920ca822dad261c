import type { CheckStatus } from './doctor-check.js';

type Add = (check: string, status: CheckStatus, message: string) => void;
type Env = Record<string, string | undefined>;

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Idle and lock from logind: the Wayland backends' only source. */
export async function logindIdleCheck(env: Env, add: Add): Promise<void> {
  const { LogindIdle } = await import('../client/capture/logind-idle.js');
  const idle = new LogindIdle(env);
  try {
    const state = await idle.read();
    add('idle', 'ok', `idle and lock readable from logind (${Math.round(state.idleMs / 1000)} s idle${state.locked ? ', screen locked' : ''})`);
  } catch (error) {
    add('idle', 'warn', `idle and lock cannot be read (${(error as Error).message}): the client will capture even while you are away or locked`);
  } finally {
    idle.close();
  }
}

/** wlroots: the compositor's IPC for the active window. */
export async function wlrootsWindowCheck(env: Env, add: Add): Promise<void> {
  const { compositorIpc } = await import('../client/capture/wlroots.js');
  const ipc = compositorIpc(env);
  if (!ipc) {
    add('window', 'warn', 'neither sway IPC (SWAYSOCK) nor a Hyprland socket: frames get no app or window title, and exclusion rules cannot apply');
    return;
  }
  try {
    const active = await ipc.active();
    if (!active.app && !active.title) add('window', 'warn', `${ipc.name} answers, but no window is focused right now (frames get an empty app and title)`);
    else add('window', 'ok', `active window readable from ${ipc.name}: ${active.app || '?'} - "${truncate(active.title, 60)}"`);
  } catch (error) {
    add('window', 'fail', `the active window cannot be read from ${ipc.name} (${(error as Error).message}); the client refuses to capture without it`);
  }
}

/** xdg-desktop-portal: what the desktop tells about the active window (the permission itself is asked at start). */
export async function portalWindowCheck(env: Env, add: Add): Promise<void> {
  const { compositorIpc } = await import('../client/capture/wlroots.js');
  if (compositorIpc(env)) return wlrootsWindowCheck(env, add);
  if ((env.XDG_CURRENT_DESKTOP ?? '').toLowerCase().includes('kde')) return kwinWindowCheck(env, add);
  const { noWindowReason } = await import('../client/capture/portal.js');
  add(
    'window',
    'warn',
    `${noWindowReason(env)}: frames get no app or window title, and app/title exclusion rules cannot apply (pause with "openrecall pause")`,
  );
}

/** KDE: the active window from a KWin script loaded over D-Bus. */
async function kwinWindowCheck(env: Env, add: Add): Promise<void> {
  const { KWinWindowInfo } = await import('../client/capture/kwin-window.js');
  const kwin = new KWinWindowInfo(env);
  try {
    const active = await kwin.active();
    if (!active.app && !active.title)
      add('window', 'warn', 'KWin answers (through a KWin script), but no window is focused right now (frames get an empty app and title)');
    else add('window', 'ok', `active window readable from KWin (through a KWin script): ${active.app || '?'} - "${truncate(active.title, 60)}"`);
  } catch (error) {
    add(
      'window',
      'warn',
      `${(error as Error).message}: frames get no app or window title, and app/title exclusion rules cannot apply (pause with "openrecall pause")`,
    );
  } finally {
    kwin.close();
  }
}

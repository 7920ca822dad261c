import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';
import { LazyX11Connection } from './x11-connection.js';

const execFileAsync = promisify(execFile);

export interface IdleState {
  /** Milliseconds since the last keyboard or mouse input. */
  idleMs: number;
  /** The screen is locked or the screen saver is on (false when that cannot be told). */
  locked: boolean;
}

export interface IdleSource {
  /** Throws when idleness cannot be read on this machine (the client then captures and says so once). */
  read(): Promise<IdleState>;
  close(): void;
}

/**
 * X11: MIT-SCREEN-SAVER's idle counter and screen-saver state over a persistent connection; plus logind's
 * LockedHint for the session when XDG_SESSION_ID is set (desktop lockers such as GNOME's and light-locker
 * report it there).
 */
export class X11Idle implements IdleSource {
  private readonly connection: LazyX11Connection;
  private logindUsable: boolean;

  constructor(private readonly env: Record<string, string | undefined> = process.env) {
    this.logindUsable = !!env.XDG_SESSION_ID;
    this.connection = new LazyX11Connection(env);
  }

  async read(): Promise<IdleState> {
    const x = await this.connection.get();
    const info = await x.screenSaverInfo();
    if (!info) throw new Error('the X server has no MIT-SCREEN-SAVER extension');
    let locked = info.saverOn;
    if (!locked && this.logindUsable) locked = await this.logindLocked();
    return { idleMs: info.idleMs, locked };
  }

  private async logindLocked(): Promise<boolean> {
    try {
      const { stdout } = await execFileAsync('loginctl', ['show-session', this.env.XDG_SESSION_ID!, '-p', 'LockedHint', '--value'], {
        timeout: 2000,
      });
      return stdout.trim() === 'yes';
    } catch {
      this.logindUsable = false; // no logind here: stop asking
      return false;
    }
  }

  close(): void {
    this.connection.close();
  }
}

/** macOS: HIDIdleTime (nanoseconds) from the IOHIDSystem registry entry. */
export class MacIdle implements IdleSource {
  async read(): Promise<IdleState> {
    const { stdout } = await execFileAsync('ioreg', ['-c', 'IOHIDSystem', '-d', '4'], { timeout: 3000, maxBuffer: 4 * 1024 * 1024 });
    const match = /"HIDIdleTime"\s*=\s*(\d+)/.exec(stdout);
    if (!match) throw new Error('ioreg reported no HIDIdleTime');
    return { idleMs: Number(match[1]) / 1e6, locked: false };
  }

  close(): void {}
}

/** Windows: GetLastInputInfo through one long-lived PowerShell (starting PowerShell per reading would cost far more CPU). */
export class WindowsIdle implements IdleSource {
  private shell: ChildProcessWithoutNullStreams | undefined;
  private waiting: Array<(line: string) => void> = [];
  private output = '';

  private start(): ChildProcessWithoutNullStreams {
    if (this.shell && this.shell.exitCode === null) return this.shell;
    const script = `
Add-Type @'
using System; using System.Runtime.InteropServices;
public static class OpenRecallIdle {
  [StructLayout(LayoutKind.Sequential)] struct LASTINPUTINFO { public uint cbSize; public uint dwTime; }
  [DllImport("user32.dll")] static extern bool GetLastInputInfo(ref LASTINPUTINFO plii);
  public static uint IdleMs() { var i = new LASTINPUTINFO(); i.cbSize = (uint)Marshal.SizeOf(i); GetLastInputInfo(ref i); return (uint)Environment.TickCount - i.dwTime; }
}
'@
while ($null -ne ($line = [Console]::In.ReadLine())) { [Console]::Out.WriteLine([OpenRecallIdle]::IdleMs()); [Console]::Out.Flush() }
`;
    const shell = spawn('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', '-'], { windowsHide: true });
    shell.stdin.write(`${script}\n`);
    shell.stdout.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      let newline: number;
      while ((newline = this.output.indexOf('\n')) >= 0) {
        const line = this.output.slice(0, newline).trim();
        this.output = this.output.slice(newline + 1);
        if (/^\d+$/.test(line)) this.waiting.shift()?.(line);
      }
    });
    shell.on('exit', () => {
      for (const w of this.waiting.splice(0)) w('');
    });
    this.shell = shell;
    return shell;
  }

  async read(): Promise<IdleState> {
    const shell = this.start();
    const line = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(''), 10_000);
      this.waiting.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
      shell.stdin.write('\n');
    });
    if (!line) throw new Error('PowerShell did not report the idle time');
    return { idleMs: Number(line), locked: false };
  }

  close(): void {
    this.shell?.kill();
    this.shell = undefined;
  }
}

export function createIdleSource(env: Record<string, string | undefined>): IdleSource {
  if (process.platform === 'darwin') return new MacIdle();
  if (process.platform === 'win32') return new WindowsIdle();
  return new X11Idle(env);
}

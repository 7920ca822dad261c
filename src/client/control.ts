import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomicSync } from '../files/atomic-write.js';

/**
 * The local channel between `openrecall pause|resume|client status` and the running client: a Unix socket
 * `<data dir>/client.sock` (a named pipe on Windows; a socket in the temp dir when the data dir path is too
 * long for one). One JSON line each way. The socket doubles as the single-instance check: a second client on
 * the same data dir finds it answering and refuses to start.
 *
 * The paused state is also kept in `<data dir>/client-paused`, so a paused client stays paused across a
 * restart (privacy first: a crash or reboot does not silently resume capture), and `openrecall pause` works
 * even when no client is running (it will start paused).
 */

export type ControlCommand = 'pause' | 'resume' | 'status';
export const CONTROL_COMMANDS: readonly ControlCommand[] = ['pause', 'resume', 'status'];

export interface ControlRequest {
  command: ControlCommand;
}

export type ControlResponse = { ok: true; status: Record<string, unknown> } | { ok: false; error: string };

export function controlSocketPath(dataDir: string): string {
  const hash = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\openrecall-client-${hash}`;
  const inDataDir = path.join(dataDir, 'client.sock');
  // sun_path holds 108 bytes on Linux, 104 on macOS.
  return Buffer.byteLength(inDataDir) < 100 ? inDataDir : path.join(os.tmpdir(), `openrecall-client-${hash}.sock`);
}

export function pausedFlagPath(dataDir: string): string {
  return path.join(dataDir, 'client-paused');
}

/** When the pause began, or undefined when not paused. */
export function readPausedFlag(dataDir: string): Date | undefined {
  try {
    const text = fs.readFileSync(pausedFlagPath(dataDir), 'utf8').trim();
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? new Date() : date;
  } catch {
    return undefined;
  }
}

export function writePausedFlag(dataDir: string, since: Date | undefined): void {
  const file = pausedFlagPath(dataDir);
  if (since) {
    fs.mkdirSync(dataDir, { recursive: true });
    writeFileAtomicSync(file, since.toISOString());
  } else {
    fs.rmSync(file, { force: true });
  }
}

export class ClientAlreadyRunningError extends Error {}

export class ControlServer {
  private server: net.Server | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly handle: (command: ControlCommand) => Record<string, unknown>,
  ) {}

  /** Listens, taking over a stale socket file; throws ClientAlreadyRunningError when another client answers. */
  async listen(): Promise<void> {
    if (process.platform !== 'win32') fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32' && fs.existsSync(this.socketPath)) {
      const answer = await sendControl(this.socketPath, 'status', 1000).catch(() => undefined);
      if (answer?.ok) {
        const pid = (answer.status as { pid?: number }).pid;
        throw new ClientAlreadyRunningError(`another capture client is already running for this data dir${pid ? ` (pid ${pid})` : ''}`);
      }
      fs.rmSync(this.socketPath, { force: true });
    }
    const server = net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new ClientAlreadyRunningError('another capture client is already running for this data dir') : error),
      );
      server.listen(this.socketPath, () => resolve());
    });
    if (process.platform !== 'win32') fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  private serve(socket: net.Socket): void {
    let input = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      input += chunk.toString();
      const newline = input.indexOf('\n');
      if (newline < 0) {
        if (input.length > 4096) socket.destroy();
        return;
      }
      let response: ControlResponse;
      try {
        const request = JSON.parse(input.slice(0, newline)) as ControlRequest;
        if (!CONTROL_COMMANDS.includes(request.command)) throw new Error(`unknown command ${JSON.stringify(request.command)}`);
        response = { ok: true, status: this.handle(request.command) };
      } catch (error) {
        response = { ok: false, error: (error as Error).message };
      }
      socket.end(`${JSON.stringify(response)}\n`);
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (process.platform !== 'win32') fs.rmSync(this.socketPath, { force: true });
  }
}

/** Sends one command to the running client. Rejects when no client listens. */
export function sendControl(socketPath: string, command: ControlCommand, timeoutMs = 5000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let output = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the capture client did not answer'));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify({ command })}\n`));
    socket.on('data', (chunk) => (output += chunk.toString()));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(output) as ControlResponse);
      } catch {
        reject(new Error('unreadable answer from the capture client'));
      }
    });
  });
}

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Hyprland's request socket: $XDG_RUNTIME_DIR/hypr/<signature>/.socket.sock (before 0.40: /tmp/hypr/<signature>/). */
export function hyprlandSocket(env: Record<string, string | undefined>): string | undefined {
  const signature = env.HYPRLAND_INSTANCE_SIGNATURE;
  if (!signature) return undefined;
  const candidates = [
    env.XDG_RUNTIME_DIR && path.join(env.XDG_RUNTIME_DIR, 'hypr', signature, '.socket.sock'),
    path.join('/tmp/hypr', signature, '.socket.sock'),
  ];
  return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

/** One request ("j/activewindow", "j/monitors"): Hyprland answers with JSON and closes the connection. */
export function hyprlandRequest(socketPath: string, command: string, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`Hyprland did not answer within ${timeoutMs} ms`));
    });
    socket.on('error', (error) => reject(new Error(`Hyprland socket ${socketPath}: ${error.message}`)));
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      try {
        resolve(JSON.parse(text || 'null'));
      } catch {
        reject(new Error(`Hyprland: unexpected reply to ${command}: ${text.slice(0, 80)}`));
      }
    });
  });
}

export interface HyprlandWindow {
  class?: string;
  initialClass?: string;
  title?: string;
  pid?: number;
}

export interface HyprlandMonitor {
  id: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  focused?: boolean;
}

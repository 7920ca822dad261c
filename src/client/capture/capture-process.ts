import { spawn } from 'node:child_process';

/**
 * Runs a program that prints one captured frame (grim, a GStreamer pipeline) and collects its stdout. A program
 * that is missing is named with what to install; one that fails, hangs past `timeoutMs` or prints nothing is
 * named with the last line it wrote to stderr.
 */
export function captureStdout(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { timeoutMs: number; install: string },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command} (${error.message}): ${options.install}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && out.length > 0) return resolve(Buffer.concat(out));
      const how = signal ? `was stopped (${signal}, no frame within ${options.timeoutMs / 1000} s)` : `exited with ${code}`;
      reject(new Error(`${command} ${how}: ${err.trim().split('\n').pop() ?? ''}`));
    });
  });
}

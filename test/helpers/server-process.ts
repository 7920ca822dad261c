import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(repoRoot, 'bin', 'openrecall.js');
/** The Node flags the launcher's first line gives `node`, as an installed `openrecall` command runs with them. */
export const launcherFlags = /^#!\/usr\/bin\/env -S node(.*)$/m
  .exec(fs.readFileSync(cliPath, 'utf8').split('\n', 1)[0]!)![1]!
  .trim()
  .split(/\s+/)
  .filter(Boolean);

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first regex match in the combined output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the real `openrecall` command (built bin) as a child process with the given environment. */
export function runCli(args: string[], env: Record<string, string>, user?: { uid: number; gid: number }): CliProcess {
  const child = spawn(process.execPath, [...launcherFlags, cliPath, ...args], {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    // The built-in embedding model (the default) costs every server ~150 MB and a few seconds: tests that search by
    // meaning ask for it (OPENRECALL_EMBEDDING_PROVIDER: '' is the true default).
    env: { ...process.env, OPENRECALL_DEBUG: 'false', OPENRECALL_EMBEDDING_PROVIDER: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.match(pattern);
        if (match) {
          cleanup();
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
      }, timeoutMs);
      const onExit = () => {
        check();
        cleanup();
        reject(new Error(`process exited before ${pattern}; output:\n${output}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', onExit);
      };
      listeners.add(check);
      child.on('exit', onExit);
      check();
    });
  return { child, output: () => output, waitFor, exited };
}

export interface ServerProcess extends CliProcess {
  url: string;
  api: string;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `openrecall server` on a free loopback port and waits until it listens. */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}, args: string[] = []): Promise<ServerProcess> {
  const cli = runCli(['server', ...args], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_PORT: '0', OPENRECALL_WORKERS: '1', ...env });
  const match = await cli.waitFor(/listening on (http:\/\/[^\s]+)/, 90_000);
  const url = match[1]!;
  return {
    ...cli,
    url,
    api: `${url}/api`,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill(signal);
      return cli.exited;
    },
  };
}

import { execFileSync, spawnSync } from 'node:child_process';
import { freePort } from './free-port.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, a free port), so a fault test can stop and
 * start it without disturbing the suites that share the machine's server. Runs as the `postgres` user
 * (PostgreSQL refuses root), with the binaries of the installed version.
 */
export interface PrivatePostgres {
  url: string;
  start(): void;
  /** Immediate shutdown: connections drop at once, as when the database box goes away. */
  stop(): void;
  destroy(): void;
}

function binDir(): string {
  const versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (npm test installs postgresql)');
  return path.join('/usr/lib/postgresql', versions[0]!, 'bin');
}

const asPostgres = (command: string[]) => {
  const result = spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', ...command], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
};

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrecall-pg-'));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  execFileSync('chown', ['postgres:postgres', dir]);
  const port = await freePort();
  asPostgres([path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const pgCtl = (...args: string[]) => asPostgres([path.join(bin, 'pg_ctl'), '-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', ...args]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () => void pgCtl('-o', options, 'start');
  start();
  asPostgres([path.join(bin, 'createdb'), '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'recall']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/recall`,
    start,
    stop: () => void pgCtl('-m', 'immediate', 'stop'),
    destroy: () => {
      spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'], {
        stdio: 'ignore',
      });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

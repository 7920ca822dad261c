import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

/** A system user for processes that refuse to run as root (sway); created once, reused after (idempotent). */
export function ensureTestUser(name = 'openrecall-wl'): TestUser {
  const lookup = () => spawnSync('id', ['-u', name], { encoding: 'utf8' });
  for (let attempt = 0; lookup().status !== 0; attempt++) {
    // Exit 9: another test file created it meanwhile; 10: /etc/passwd was locked by it: look again.
    const add = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    if (add.status === 0 || add.status === 9) continue;
    if (attempt > 20) throw new Error(`useradd ${name} failed: ${add.stderr}`);
    execFileSync('sleep', ['0.2']);
  }
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { name, uid, gid };
}

/** A fresh 0700 directory owned by the user (its XDG_RUNTIME_DIR and HOME); remove it with fs.rmSync. */
export function userDir(user: TestUser, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o700);
  fs.chownSync(dir, user.uid, user.gid);
  return dir;
}

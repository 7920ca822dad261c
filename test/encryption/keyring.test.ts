import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { KEY_RECORD_FILE } from '../../src/encryption/key-record.js';
import { repoRoot } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const child = path.join(repoRoot, 'test', 'helpers', 'encryption-start-child.ts');

/**
 * One start in a private D-Bus session with a real Secret Service (gnome-keyring-daemon, its login keyring
 * unlocked with a password as a desktop sign-in does). The keyring's files live in `home`: a new home is a keyring
 * that never saw this data dir.
 */
function startWithKeyring(home: string, env: Record<string, string>) {
  const script = `printf unlock-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "${process.execPath}" --import tsx "${child}"`;
  const result = spawnSync('dbus-run-session', ['--', 'sh', '-c', script], {
    cwd: repoRoot,
    env: { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, '.local', 'share'), OPENRECALL_ENCRYPTION_KEY_FILE: '', ...env },
    encoding: 'utf8',
  });
  const stderr = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('openrecall:'))
    .join('\n');
  return { code: result.status, stdout: result.stdout.trim(), stderr };
}

describe('the OS keyring as the key source (a real Secret Service)', () => {
  it('the first start keeps the key-encryption key in the keyring; the next start opens the data dir with it alone', () => {
    const home = tempDir();
    const dataDir = path.join(tempDir(), 'data');
    const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on' };
    const first = startWithKeyring(home, env);
    assert.equal(first.code, 0, first.stderr);
    const opened = JSON.parse(first.stdout);
    assert.equal(opened.source, 'keyring');
    const record = JSON.parse(fs.readFileSync(path.join(dataDir, KEY_RECORD_FILE), 'utf8'));
    assert.equal(record.wraps[0].source, 'keyring');
    assert.match(record.wraps[0].account, /^data-key-/);

    const second = startWithKeyring(home, env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), opened);
  });

  it('another keyring, or no Secret Service at all, stops the start with one line', () => {
    const dataDir = path.join(tempDir(), 'data');
    const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on' };
    assert.equal(startWithKeyring(tempDir(), env).code, 0);
    const before = fs.readFileSync(path.join(dataDir, KEY_RECORD_FILE));

    const stranger = startWithKeyring(tempDir(), env);
    assert.equal(stranger.code, 2);
    assert.match(stranger.stderr, /^openrecall: the OS keyring holds no key that opens the data dir /);

    const noBus = spawnSync(process.execPath, ['--import', 'tsx', child], {
      cwd: repoRoot,
      env: { ...process.env, ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus', OPENRECALL_ENCRYPTION_KEY_FILE: '' },
      encoding: 'utf8',
    });
    assert.equal(noBus.status, 2, noBus.stderr);
    assert.match(noBus.stderr.trim(), /^openrecall: the OS keyring cannot be used \(.*\): unlock it, or set OPENRECALL_ENCRYPTION_KEY_FILE$/);
    assert.deepEqual(fs.readFileSync(path.join(dataDir, KEY_RECORD_FILE)), before);
  });
});

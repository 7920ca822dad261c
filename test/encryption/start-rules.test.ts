import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { KEY_RECORD_FILE } from '../../src/encryption/key-record.js';
import { cliPath, repoRoot } from '../helpers/server-process.js';
import { listFilesRecursive, tempDir } from '../helpers/temp-dir.js';

const child = path.join(repoRoot, 'test', 'helpers', 'encryption-start-child.ts');

/** One real start (test/helpers/encryption-start-child.ts): settings from the environment, keys, the store. */
function start(env: Record<string, string>, passphrase?: string) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', child, ...(passphrase === undefined ? [] : [passphrase])], {
    cwd: repoRoot,
    env: { ...process.env, OPENRECALL_ENCRYPTION: 'off', OPENRECALL_ENCRYPTION_KEY_FILE: '', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

function openrecall(args: string[], env: Record<string, string>, input = '') {
  const result = spawnSync(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, input, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

/** Every file of a data dir with its bytes' hash: "touches nothing" is checked against it. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    listFilesRecursive(dir).map((f) => [
      f,
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(dir, f)))
        .digest('hex'),
    ]),
  );
}

function assertOneLine(result: { code: number | null; stderr: string }, pattern: RegExp) {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr.split('\n').length, 1, `one line: ${result.stderr}`);
  assert.match(result.stderr, pattern);
}

describe('the encryption start rules, in real processes', () => {
  it('the first start with a key file makes the 0600 key file and a wrapped key; later starts open the same keys', () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'keys', 'openrecall.key');
    const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile };
    const first = start(env);
    assert.equal(first.code, 0, first.stderr);
    const opened = JSON.parse(first.stdout);
    assert.equal(opened.state, 'open');
    assert.equal(opened.source, 'key-file');
    assert.equal(fs.statSync(keyFile).size, 32);
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    const record = path.join(dataDir, KEY_RECORD_FILE);
    assert.equal(fs.statSync(record).mode & 0o777, 0o600);
    const key = fs.readFileSync(keyFile);
    assert.equal(fs.readFileSync(record).indexOf(key), -1, 'the key file is not in the record');
    assert.equal(fs.readFileSync(path.join(dataDir, 'db', 'recall.db')).indexOf('SQLite format 3'), -1, 'the database is encrypted');

    const second = start(env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), opened);
  });

  it('a key file of the wrong size, a missing one, or another key: one line, exit 2, nothing in the data dir touched', () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'openrecall.key');
    const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile };
    assert.equal(start(env).code, 0);
    const before = snapshot(dataDir);

    const short = path.join(tempDir(), 'short.key');
    fs.writeFileSync(short, 'too short', { mode: 0o600 });
    assertOneLine(start({ ...env, OPENRECALL_ENCRYPTION_KEY_FILE: short }), /short\.key holds 9 bytes: a key file is exactly 32 random bytes/);

    const other = path.join(tempDir(), 'other.key');
    fs.writeFileSync(other, crypto.randomBytes(32), { mode: 0o600 });
    assertOneLine(start({ ...env, OPENRECALL_ENCRYPTION_KEY_FILE: other }), /^openrecall: the key in .*other\.key does not open the data dir /);

    const missing = path.join(tempDir(), 'missing.key');
    assertOneLine(start({ ...env, OPENRECALL_ENCRYPTION_KEY_FILE: missing }), /missing\.key does not exist/);
    assert.equal(fs.existsSync(missing), false, 'no new key is made for a data dir that has one');

    assertOneLine(start({ ...env, OPENRECALL_ENCRYPTION: 'off' }), /is encrypted: start with OPENRECALL_ENCRYPTION=on/);
    assert.deepEqual(snapshot(dataDir), before);
  });

  it('refuses to start encryption on a data dir that already holds a plain memory, and leaves it plain', () => {
    const dataDir = path.join(tempDir(), 'data');
    assert.equal(start({ OPENRECALL_DATA_DIR: dataDir }).code, 0);
    const before = snapshot(dataDir);
    assert.ok(Object.keys(before).includes(path.join('db', 'recall.db')));
    const keyFile = path.join(tempDir(), 'k.key');
    assertOneLine(
      start({ OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile }),
      /holds a memory that is not encrypted \(db\/recall\.db.*\): run `openrecall encrypt`/,
    );
    assert.deepEqual(snapshot(dataDir), before);
    assert.equal(fs.existsSync(keyFile), false);
  });

  it("starts encryption on a data dir whose only files are a capture client's buffer (it has its own key), leaving the buffer as it is", () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(path.join(dataDir, 'buffer', 'quarantine'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'buffer', 'encryption.json'), '{"version":1}');
    fs.writeFileSync(path.join(dataDir, 'buffer', '0000-0-a.orf'), 'a frame the client has not sent yet');
    const buffer = snapshot(path.join(dataDir, 'buffer'));
    const keyFile = path.join(tempDir(), 'k.key');
    const started = start({ OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile });
    assert.equal(started.code, 0, started.stderr);
    assert.ok(fs.existsSync(path.join(dataDir, KEY_RECORD_FILE)));
    assert.deepEqual(snapshot(path.join(dataDir, 'buffer')), buffer);
  });

  it('openrecall rekey: a passphrase replaces the key file without rewriting data; the start is then locked until the passphrase', () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'openrecall.key');
    const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile };
    const first = JSON.parse(start(env).stdout);
    const database = snapshot(path.join(dataDir, 'db'));

    const rekeyed = openrecall(['rekey', '--to', 'passphrase', '--only'], env, 'correct horse battery staple\n');
    assert.equal(rekeyed.code, 0, rekeyed.stderr);
    assert.match(rekeyed.stdout, /now opens with the new passphrase only/);
    assert.deepEqual(snapshot(path.join(dataDir, 'db')), database, 'the data is not rewritten');
    const record = JSON.parse(fs.readFileSync(path.join(dataDir, KEY_RECORD_FILE), 'utf8'));
    assert.deepEqual(
      record.wraps.map((w: { source: string }) => w.source),
      ['passphrase'],
    );
    assert.equal(record.wraps[0].kdf.algorithm, 'argon2id');

    assertOneLine(start(env), /cannot be opened with a key file/);
    const withoutKeyFile = { ...env, OPENRECALL_ENCRYPTION_KEY_FILE: '' };
    assert.deepEqual(JSON.parse(start(withoutKeyFile).stdout), { state: 'locked' });
    assertOneLine(start(withoutKeyFile, 'wrong passphrase'), /the passphrase does not open the data dir/);
    assert.deepEqual(JSON.parse(start(withoutKeyFile, 'correct horse battery staple').stdout), { ...first, source: 'passphrase' });

    const newKeyFile = path.join(tempDir(), 'new.key');
    const wrongOld = openrecall(['rekey', '--to', 'key-file', '--key-file', newKeyFile], withoutKeyFile, 'not it\n');
    assertOneLine(wrongOld, /the current passphrase does not open the data dir/);
    const back = openrecall(['rekey', '--to', 'key-file', '--key-file', newKeyFile], withoutKeyFile, 'correct horse battery staple\n');
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(JSON.parse(start({ ...env, OPENRECALL_ENCRYPTION_KEY_FILE: newKeyFile }).stdout), first);
    assert.deepEqual(
      JSON.parse(start(withoutKeyFile, 'correct horse battery staple').stdout),
      { ...first, source: 'passphrase' },
      'without --only the passphrase still opens it',
    );
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { cliPath, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const WORDS = ['pelican', 'marmalade', 'zeppelin', 'quixotic'];
const PASSPHRASE = 'an export passphrase nobody guesses';
const HEADERS: Array<[string, Buffer]> = [
  ['zip', Buffer.from([0x50, 0x4b, 0x03, 0x04])],
  ['zip directory', Buffer.from([0x50, 0x4b, 0x01, 0x02])],
  ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47])],
  ['WebP', Buffer.from('WEBP')],
  ['RIFF', Buffer.from('RIFF')],
  ['JSON of a frame', Buffer.from('"capture_id"')],
];

/** A CLI command with `stdin` as its input; the environment is the test's plus `env`. */
function cli(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, OPENRECALL_EMBEDDING_PROVIDER: 'none', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

function clearTextFound(file: string): string[] {
  const bytes = fs.readFileSync(file);
  const lower = Buffer.from(bytes.toString('latin1').toLowerCase(), 'latin1');
  const found: string[] = [];
  for (const [name, header] of HEADERS) if (bytes.includes(header)) found.push(name);
  for (const word of WORDS) if (lower.includes(Buffer.from(word))) found.push(word);
  return found;
}

describe('encrypted exports (built CLI, real server processes)', { timeout: 900_000 }, () => {
  const dataDir = path.join(tempDir(), 'data');
  const keyFile = path.join(tempDir(), 'data.key');
  const sourceEnv = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile };
  const out = tempDir();
  const servers: ServerProcess[] = [];
  /** The fresh servers the imports go to, started while the source processes its frames. */
  let targets: Promise<[ServerProcess, ServerProcess]>;

  before(async () => {
    const started = (server: ServerProcess) => {
      servers.push(server);
      return server;
    };
    targets = Promise.all([
      startServerProcess(path.join(tempDir(), 'fresh')).then(started),
      // Its imports are only counted: no OCR to wait for when it stops.
      startServerProcess(path.join(tempDir(), 'fresh-keyed'), { OPENRECALL_OCR_ENGINE: 'none' }).then(started),
    ]);
    const source = started(await startServerProcess(dataDir, sourceEnv));
    for (let i = 0; i < 2; i++) {
      const image = await renderTextImage([`${WORDS[i]} ${WORDS[i + 2]}`, `frame ${i} of the encrypted memory`]);
      assert.equal((await upload(source.api, { image, captureId: `sealed-${i}`, title: `${WORDS[i]} window` })).status, 202);
    }
    await waitUntil(async () => (await queueCounts(source.api)).completed === 2, { what: '2 frames COMPLETED', timeoutMs: 300_000 });
    await source.stop();
    await targets;
  });

  after(async () => {
    await targets?.catch(() => undefined); // undefined when no case ran
    for (const server of servers) await server.stop();
  });

  it('is encrypted by default (0600, a clear header naming Argon2id and nothing else readable); --plain warns and writes a zip', async () => {
    const sealed = path.join(out, 'sealed.zip');
    const result = await cli(['export', sealed], sourceEnv, `${PASSPHRASE}\n`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /exported 2 frame\(s\).*encrypted: passphrase, Argon2id/);
    assert.equal(fs.statSync(sealed).mode & 0o777, 0o600);
    const bytes = fs.readFileSync(sealed);
    assert.equal(bytes.subarray(0, 4).toString(), 'OREX');
    const header = JSON.parse(bytes.toString('utf8', 12, 12 + bytes.readUInt32BE(8)));
    assert.equal(header.kdf.algorithm, 'argon2id');
    assert.ok(header.kdf.memoryCost >= 46 * 1024 && header.kdf.timeCost >= 1 && typeof header.kdf.salt === 'string', JSON.stringify(header));
    assert.deepEqual(clearTextFound(sealed), []);

    const plain = path.join(out, 'plain.zip');
    const clear = await cli(['export', '--plain', plain], sourceEnv);
    assert.equal(clear.code, 0, clear.stderr);
    assert.match(clear.stderr, /^warning: --plain: this export is NOT encrypted/m);
    assert.equal(fs.readFileSync(plain).readUInt32LE(0), 0x04034b50, 'a zip');
    assert.equal(fs.statSync(plain).mode & 0o777, 0o600);
  });

  it('import: a wrong passphrase is refused in one line with nothing uploaded; the right one restores the frames into a fresh server', async () => {
    const sealed = path.join(out, 'sealed.zip');
    const [target] = await targets;
    const env = { OPENRECALL_API_URL: target.api };
    const wrong = await cli(['import', sealed], env, 'not the passphrase\n');
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stdout, '');
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    assert.match(wrong.stderr, /the passphrase does not open this export; nothing was imported/);
    assert.equal((await getJson(`${target.api}/entries`)).body.entries.length, 0, 'nothing uploaded');

    const right = await cli(['import', sealed], env, `${PASSPHRASE}\n`);
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /imported 2, skipped 0/);
    await waitUntil(async () => (await queueCounts(target.api)).completed === 2, { what: 'imported frames COMPLETED', timeoutMs: 300_000 });
    const search = await getJson(`${target.api}/search?q=marmalade`);
    assert.equal(search.body.total, 1, JSON.stringify(search.body));
  });

  it('--key-file: exported and imported with a 32-byte key file; another key file is refused', async () => {
    const exportKey = path.join(out, 'export.key');
    fs.writeFileSync(exportKey, crypto.randomBytes(32), { mode: 0o600 });
    const sealed = path.join(out, 'keyed.zip');
    const result = await cli(['export', '--key-file', exportKey, sealed], sourceEnv);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(clearTextFound(sealed), []);
    const header = JSON.parse(fs.readFileSync(sealed).toString('utf8', 12, 12 + fs.readFileSync(sealed).readUInt32BE(8)));
    assert.equal(header.kdf.algorithm, 'hkdf-sha256');

    const [, target] = await targets;
    const other = path.join(out, 'other.key');
    fs.writeFileSync(other, crypto.randomBytes(32), { mode: 0o600 });
    const wrong = await cli(['import', '--key-file', other, sealed], { OPENRECALL_API_URL: target.api });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the key file does not open this export/);
    assert.equal((await getJson(`${target.api}/entries`)).body.entries.length, 0);
    const right = await cli(['import', '--key-file', exportKey, sealed], { OPENRECALL_API_URL: target.api });
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /imported 2/);
  });
});

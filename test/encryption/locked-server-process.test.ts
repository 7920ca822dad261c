import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { keyFileSource, passphraseSource, readKeyFile } from '../../src/encryption/key-sources.js';
import { openEncryption } from '../../src/encryption/open-encryption.js';
import { rekey } from '../../src/encryption/rekey.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { cliPath, runCli, type CliProcess } from '../helpers/server-process.js';

/** `openrecall unlock` with the passphrase on stdin (as a script gives it). */
function unlockCli(api: string, passphrase: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [cliPath, 'unlock'], { env: { ...process.env, OPENRECALL_API_URL: api }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(`${passphrase}\n`);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}
import { tempDir } from '../helpers/temp-dir.js';

const PASSPHRASE = 'a long and memorable passphrase';

describe('openrecall server on a data dir only a passphrase opens (real process, real HTTP)', { timeout: 300_000 }, () => {
  let server: CliProcess | undefined;
  after(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it('starts locked (423), refuses a wrong passphrase (401; `openrecall unlock` exits 1), and on the right one (`openrecall unlock`, stdin) serves the real app on the same port', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'k.key');
    const first = await openEncryption({ mode: 'on', keyFile }, dataDir);
    assert.ok(first.encrypted && !first.locked);
    await rekey(dataDir, keyFileSource(await readKeyFile(keyFile, { create: false })), async () => passphraseSource(PASSPHRASE), { only: true });

    server = runCli(['server'], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_PORT: '0', OPENRECALL_WORKERS: '1', OPENRECALL_ENCRYPTION: 'on' });
    const url = (await server.waitFor(/locked on (http:\/\/[\d.]+:\d+)/, 90_000))[1]!;
    const locked = await getJson(`${url}/api/entries`);
    assert.equal(locked.status, 423);
    assert.equal(locked.body.error, 'LOCKED');

    const post = (passphrase: string) =>
      getJson(`${url}/api/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passphrase }) });
    const wrong = await post('not the passphrase');
    assert.equal(wrong.status, 401);
    assert.equal((await getJson(`${url}/api/entries`)).status, 423, 'still locked');

    const wrongCli = await unlockCli(`${url}/api`, 'still not it');
    assert.equal(wrongCli.code, 1);
    assert.match(wrongCli.output, /does not open the data dir/);
    const right = await unlockCli(`${url}/api`, PASSPHRASE);
    assert.equal(right.code, 0, right.output);
    assert.match(right.output, /unlocked/);
    await server.waitFor(/listening on/, 90_000);
    const entries = await waitUntil(
      async () => {
        const answer = await getJson(`${url}/api/entries`).catch(() => undefined);
        return answer?.status === 200 ? answer : undefined;
      },
      { what: 'the real app on the same port' },
    );
    assert.ok(Array.isArray(entries?.body.entries), JSON.stringify(entries?.body));
  });
});

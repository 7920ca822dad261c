import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { keyFileSource, passphraseSource, readKeyFile } from '../../src/encryption/key-sources.js';
import { openEncryption } from '../../src/encryption/open-encryption.js';
import { rekey } from '../../src/encryption/rekey.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { runCli, type CliProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const PASSPHRASE = 'a long and memorable passphrase';

describe('openrecall server on a data dir only a passphrase opens (real process, real HTTP)', { timeout: 300_000 }, () => {
  let server: CliProcess | undefined;
  after(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it('starts locked (423), refuses a wrong passphrase (401), and on the right one serves the real app on the same port', async () => {
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

    const right = await post(PASSPHRASE);
    assert.equal(right.status, 200, JSON.stringify(right.body));
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

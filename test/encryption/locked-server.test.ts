import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { passphraseSource } from '../../src/encryption/key-sources.js';
import { openEncryption, type EncryptionKeys } from '../../src/encryption/open-encryption.js';
import { rekey } from '../../src/encryption/rekey.js';
import { keyFileSource, readKeyFile } from '../../src/encryption/key-sources.js';
import { HostPolicy } from '../../src/server/allowed-hosts.js';
import { buildLockedApp } from '../../src/server/locked-app.js';
import { tempDir } from '../helpers/temp-dir.js';

const PASSPHRASE = 'a long and memorable passphrase';

/** A data dir only a passphrase opens, and its locked start. */
async function lockedDataDir() {
  const dataDir = path.join(tempDir(), 'data');
  const keyFile = path.join(tempDir(), 'k.key');
  const first = await openEncryption({ mode: 'on', keyFile }, dataDir);
  assert.ok(first.encrypted && !first.locked);
  await rekey(dataDir, keyFileSource(await readKeyFile(keyFile, { create: false })), async () => passphraseSource(PASSPHRASE), { only: true });
  const opened = await openEncryption({ mode: 'on' }, dataDir);
  assert.ok(opened.encrypted && opened.locked);
  return { opened, expectedDatabaseKey: first.keys.databaseKey };
}

describe('a locked server, over real HTTP (a data dir only a passphrase opens)', () => {
  it('serves only the unlock page and POST /api/unlock; a wrong passphrase is a 401, the right one hands over the keys once', async () => {
    const { opened, expectedDatabaseKey } = await lockedDataDir();
    const handedOver: EncryptionKeys[] = [];
    const app = await buildLockedApp({
      hosts: new HostPolicy({ bindHost: '127.0.0.1', allowedHosts: [] }),
      unlock: opened.unlock,
      onUnlocked: (k) => handedOver.push(k),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    /** A real HTTP request; `payload` goes as JSON unless a content-type says otherwise. */
    const inject = (options: { method: string; url: string; payload?: unknown; headers?: Record<string, string> }) =>
      new Promise<{ statusCode: number; body: string; headers: http.IncomingHttpHeaders; json(): { error?: string } }>((resolve, reject) => {
        const headers: Record<string, string> = { host: `127.0.0.1:${port}`, 'content-type': 'application/json', ...options.headers };
        const request = http.request({ host: '127.0.0.1', port, method: options.method, path: options.url, headers }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ statusCode: response.statusCode!, body, headers: response.headers, json: () => JSON.parse(body) }));
        });
        request.on('error', reject);
        if (options.payload !== undefined) request.end(typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload));
        else request.end();
      });

    const page = await inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /OpenRecall is locked/);
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/);

    for (const url of ['/api/entries', '/api/search?q=x', '/api/entries/1/image', '/mcp']) {
      const locked = await inject({ method: 'GET', url });
      assert.equal(locked.statusCode, 423, url);
      assert.equal(locked.json().error, 'LOCKED');
    }
    assert.equal((await inject({ method: 'GET', url: '/api/health' })).statusCode, 503);

    const empty = await inject({ method: 'POST', url: '/api/unlock', payload: { passphrase: '' } });
    assert.equal(empty.statusCode, 400);
    const form = await inject({
      method: 'POST',
      url: '/api/unlock',
      payload: 'passphrase=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.statusCode, 415, 'a cross-site form cannot guess passphrases');
    const rebinding = await inject({ method: 'POST', url: '/api/unlock', payload: { passphrase: PASSPHRASE }, headers: { host: 'attacker.example:8083' } });
    assert.equal(rebinding.statusCode, 421);

    const wrong = await inject({ method: 'POST', url: '/api/unlock', payload: { passphrase: 'not the passphrase' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error, 'WRONG_PASSPHRASE');
    assert.equal(handedOver.length, 0);

    const [a, b] = await Promise.all([
      inject({ method: 'POST', url: '/api/unlock', payload: { passphrase: PASSPHRASE } }),
      inject({ method: 'POST', url: '/api/unlock', payload: { passphrase: PASSPHRASE } }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode], [200, 200]);
    assert.deepEqual(a.json(), { unlocked: true });
    assert.equal(handedOver.length, 1, 'the keys are handed over once');
    assert.deepEqual(handedOver[0]!.databaseKey, expectedDatabaseKey);
    await app.close();
  });
});

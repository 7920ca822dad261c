import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../src/log.js';
import { startServerOrLocked, type ServerHandle } from '../../src/server/server.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { testServerConfig } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';

const TOKEN = 'lock-test-token-0123456789abcdef0123456789';

describe('openrecall lock on a server with a key file and an API token (real HTTP)', { timeout: 300_000 }, () => {
  let handle: ServerHandle | undefined;
  after(async () => {
    await handle?.close();
  });

  it('POST /api/lock keeps the token, CSRF and JSON rules; the unlock re-reads the key file (gone: it stays locked)', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'data.key');
    const config = testServerConfig({ dataDir, apiToken: TOKEN, encryption: { mode: 'on', keyFile } });
    handle = await startServerOrLocked(config, silentLogger);
    const api = `${handle.url}/api`;
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const json = { 'content-type': 'application/json' };

    const status = await getJson(`${api}/encryption`, { headers: bearer });
    assert.deepEqual(status.body, { encrypted: true, source: 'key-file', lockable: true });
    assert.equal((await getJson(`${api}/lock`, { method: 'POST', headers: json, body: '{}' })).status, 401, 'no token');
    const form = await getJson(`${api}/lock`, { method: 'POST', headers: { ...bearer, 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(form.status, 415, 'a form-able body is refused');
    const notObject = await getJson(`${api}/lock`, { method: 'POST', headers: { ...bearer, ...json }, body: '[1]' });
    assert.equal(notObject.status, 400);
    assert.match(notObject.body.message, /body: must be object/);
    const session = await fetch(`${api}/session`, { method: 'POST', headers: { ...bearer, 'x-openrecall-csrf': '1' } });
    const cookie = String(session.headers.get('set-cookie')).split(';')[0]!;
    const csrf = await getJson(`${api}/lock`, { method: 'POST', headers: { cookie, ...json }, body: '{}' });
    assert.equal(csrf.status, 403, 'the cookie alone, without the UI header, does not lock');
    assert.equal(csrf.body.error, 'CSRF');
    assert.equal((await getJson(`${api}/entries`, { headers: bearer })).status, 200, 'still unlocked');

    const locked = await getJson(`${api}/lock`, { method: 'POST', headers: { cookie, ...json, 'x-openrecall-csrf': '1' }, body: '{}' });
    assert.equal(locked.status, 200, JSON.stringify(locked.body));
    assert.deepEqual(locked.body, { locked: true, unlock_with: 'passphrase or configured source' });
    await waitUntil(async () => (await getJson(`${api}/entries`, { headers: bearer }).catch(() => undefined))?.status === 423, { what: 'the locked app' });
    const page = await fetch(`${handle.url}/`);
    assert.match(await page.text(), /leave the passphrase empty/);

    const unlock = (body: unknown) => getJson(`${api}/unlock`, { method: 'POST', headers: json, body: JSON.stringify(body) });
    const moved = `${keyFile}.away`;
    fs.renameSync(keyFile, moved);
    const without = await unlock({});
    assert.equal(without.status, 409, JSON.stringify(without.body));
    assert.match(without.body.message, /does not exist/);
    assert.equal((await getJson(`${api}/entries`, { headers: bearer })).status, 423, 'still locked');
    const passphrase = await unlock({ passphrase: 'this data dir has none' });
    assert.equal(passphrase.status, 409);
    assert.match(passphrase.body.message, /has no passphrase/);

    fs.renameSync(moved, keyFile);
    assert.equal((await unlock({})).status, 200);
    const entries = await waitUntil(
      async () => {
        const answer = await getJson(`${api}/entries`, { headers: bearer }).catch(() => undefined);
        return answer?.status === 200 ? answer : undefined;
      },
      { what: 'the real app again' },
    );
    assert.deepEqual(entries?.body.entries, []);
    assert.deepEqual((await getJson(`${api}/encryption`, { headers: bearer })).body.lockable, true, 'lockable again');
  });
});

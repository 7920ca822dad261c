import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { everyFile, fileHashes as hashes, plaintextFound as plaintextOf } from '../helpers/data-dir-scan.js';
import { renderTextImage } from '../helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Words that appear on the screens only: none of them may be found in any byte of the data dir. */
const WORDS = ['pelican', 'marmalade', 'zeppelin', 'quixotic', 'harpsichord'];
const plaintextFound = (dataDir: string) => plaintextOf(dataDir, WORDS);

describe('a real run with OPENRECALL_ENCRYPTION=on and a key file', { timeout: 600_000 }, () => {
  const dataDir = path.join(tempDir(), 'data');
  const keyFile = path.join(tempDir(), 'openrecall.key');
  const env = { OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile, OPENRECALL_COMPACT_AFTER_MINUTES: '50000000' };
  let server: ServerProcess;
  let firstId = 0;

  before(async () => {
    server = await startServerProcess(dataDir, env);
    for (let i = 0; i < 3; i++) {
      const image = await renderTextImage([`${WORDS[i]} ${WORDS[i + 1]} ${WORDS[i + 2]}`, `frame number ${i}`, 'the quick brown fox jumps']);
      const accepted = await upload(server.api, { image, captureId: `enc-${i}`, title: `${WORDS[i]} window` });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      if (i === 0) firstId = (accepted.body as { task_id: number }).task_id;
    }
    await waitUntil(async () => (await queueCounts(server.api)).completed === 3, { what: '3 frames COMPLETED', timeoutMs: 300_000 });
  });

  after(async () => {
    await server?.stop();
  });

  it('keeps no image header, no SQLite header and no screen word in any file, while search, images, timeline and MCP work', async () => {
    assert.ok(fs.statSync(keyFile).mode % 0o1000 === 0o600, 'the key file is made 0600');
    const files = everyFile(dataDir).map((f) => path.relative(dataDir, f));
    assert.ok(
      files.some((f) => f.startsWith('screenshots/') && f.endsWith('.webp')),
      files.join(', '),
    );
    assert.ok(
      files.some((f) => f.startsWith('thumbnails/')),
      files.join(', '),
    );
    assert.ok(
      files.some((f) => f.endsWith('-wal')),
      'the WAL is there to be checked',
    );
    assert.deepEqual(plaintextFound(dataDir), []);

    const search = await getJson(`${server.api}/search?q=marmalade`);
    assert.equal(search.status, 200);
    assert.ok(search.body.total >= 1, JSON.stringify(search.body));

    const image = await fetch(`${server.api}/entries/${firstId}/image`);
    assert.equal(image.status, 200);
    const bytes = Buffer.from(await image.arrayBuffer());
    assert.ok(bytes.subarray(0, 4).toString() === 'RIFF' || bytes[0] === 0x89, 'a real image');
    assert.equal((await fetch(`${server.api}/entries/${firstId}/thumbnail`)).status, 200);

    const timeline = await getJson(`${server.api}/timeline`);
    assert.equal(timeline.body.count, 3);

    const client = new Client({ name: 'test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    try {
      const result = (await client.callTool({ name: 'search', arguments: { query: 'zeppelin' } })) as { content: Array<{ text?: string }> };
      assert.match(result.content.map((c) => c.text ?? '').join('\n'), /zeppelin/i);
    } finally {
      await client.close();
    }
    assert.deepEqual(plaintextFound(dataDir), [], 'nothing written in the clear meanwhile either');
  });

  it('a flipped byte in a stored image answers 422 naming the frame, and doctor names the file', async () => {
    const row = await getJson(`${server.api}/entries/${firstId}`);
    const stored = path.join(dataDir, row.body.image_path ?? '');
    assert.ok(fs.existsSync(stored), JSON.stringify(row.body));
    const bytes = fs.readFileSync(stored);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    fs.writeFileSync(stored, bytes);
    const response = await getJson(`${server.api}/entries/${firstId}/image`);
    assert.equal(response.status, 422);
    assert.equal(response.body.error, 'DAMAGED_FILE');
    assert.match(response.body.message, new RegExp(`entry ${firstId}`));
    const doctor = runCli(['doctor'], { OPENRECALL_DATA_DIR: dataDir, ...env });
    await doctor.exited;
    assert.match(doctor.output(), /damaged files.*do not authenticate.*screenshots\//);
  });

  it('exports with the key (and refuses a wrong or missing key file, changing no file of the data dir)', async () => {
    await server.stop();
    const zip = path.join(tempDir(), 'export.zip');
    // An encrypted data dir's export is sealed too (test/encryption/export-encrypted.test.ts); here with a key file.
    const exportKey = path.join(tempDir(), 'export.key');
    fs.writeFileSync(exportKey, crypto.randomBytes(32), { mode: 0o600 });
    const exported = runCli(['export', '--key-file', exportKey, zip], { OPENRECALL_DATA_DIR: dataDir, ...env });
    assert.equal((await exported.exited).code, 0, exported.output());
    assert.match(exported.output(), /exported 3 frame\(s\)/);

    const before = hashes(dataDir);
    const wrongKey = path.join(tempDir(), 'wrong.key');
    fs.writeFileSync(wrongKey, crypto.randomBytes(32), { mode: 0o600 });
    const wrong = runCli(['server'], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_PORT: '0', ...env, OPENRECALL_ENCRYPTION_KEY_FILE: wrongKey });
    const wrongExit = await wrong.exited;
    assert.notEqual(wrongExit.code, 0);
    assert.match(wrong.output(), /does not open the data dir/);
    assert.equal(wrong.output().trim().split('\n').length, 1, wrong.output());

    const missing = runCli(['server'], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_PORT: '0', OPENRECALL_ENCRYPTION: 'on' });
    assert.notEqual((await missing.exited).code, 0);
    assert.match(missing.output(), /encrypted/);
    assert.deepEqual(hashes(dataDir), before, 'no file of the data dir changed');
  });
});

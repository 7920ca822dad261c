import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FrameBuffer, type FrameMeta } from '../../src/client/buffer.js';
import { newCaptureId } from '../../src/client/client.js';
import { Uploader } from '../../src/client/uploader.js';
import { deriveSubkeys } from '../../src/encryption/data-key.js';
import { readKeyRecord } from '../../src/encryption/key-record.js';
import { keyFileSource, passphraseSource, readKeyFile } from '../../src/encryption/key-sources.js';
import { openEncryption, unwrapWith } from '../../src/encryption/open-encryption.js';
import { rekey } from '../../src/encryption/rekey.js';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { cliPath, runCli, type CliProcess } from '../helpers/server-process.js';
import { canReadMemory, countHits, describeHits, findInMemory, occurrencesInMemory } from '../helpers/process-memory.js';
import { tempDir } from '../helpers/temp-dir.js';

const PASSPHRASE = 'correct horse battery staple, locked';
const zeroes = (needles: Record<string, Buffer>) => Object.fromEntries(Object.keys(needles).map((name) => [name, 0]));

/** A CLI command with `stdin` as its input (a passphrase, as a script gives it). */
function cli(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

let ms = Date.now() - 30_000;
const meta = (title: string): FrameMeta => {
  ms += 10;
  return { captureId: newCaptureId(ms, 0), timestamp: ms / 1000, app: 'Editor', title, monitor: 0, contentType: 'image/png' };
};

describe('openrecall lock on a real server process (built CLI, passphrase data dir)', { timeout: 900_000 }, () => {
  const dataDir = path.join(tempDir(), 'data');
  const env = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_ENCRYPTION: 'on' };
  let server: CliProcess | undefined;
  let url = '';
  let api = '';
  let needles: Record<string, Buffer> = {};
  const buffer = new FrameBuffer(path.join(tempDir(), 'client-buffer'), 50 * 1024 * 1024, () => {});
  let uploader: Uploader | undefined;

  before(async () => {
    const keyFile = path.join(tempDir(), 'k.key');
    const first = await openEncryption({ mode: 'on', keyFile }, dataDir);
    assert.ok(first.encrypted && !first.locked);
    first.keys.wipe();
    await rekey(dataDir, keyFileSource(await readKeyFile(keyFile, { create: false })), async () => passphraseSource(PASSPHRASE), { only: true });
    // The keys the server will hold: the test opens the record itself to know which bytes to look for.
    const dataKey = await unwrapWith(passphraseSource(PASSPHRASE), readKeyRecord(dataDir)!);
    assert.ok(dataKey);
    const subkeys = deriveSubkeys(Buffer.from(dataKey));
    needles = {
      'data key': dataKey,
      'files key': subkeys.files,
      'database key': subkeys.database,
      'database key (hex text)': Buffer.from(subkeys.database.toString('hex')),
    };

    server = runCli(['server'], { ...env, OPENRECALL_PORT: '0', OPENRECALL_WORKERS: '1' });
    url = (await server.waitFor(/locked on (http:\/\/[\d.]+:\d+)/, 90_000))[1]!;
    api = `${url}/api`;
    const unlocked = await cli(['unlock'], { OPENRECALL_API_URL: api }, `${PASSPHRASE}\n`);
    assert.equal(unlocked.code, 0, unlocked.output);
    await server.waitFor(/listening on/, 90_000);
    const image = await renderTextImage(['pelican marmalade zeppelin', 'the first frame before the lock']);
    assert.equal((await upload(api, { image, captureId: 'before-lock' })).status, 202);
    await waitUntil(async () => (await queueCounts(api)).completed === 1, { what: 'the first frame COMPLETED', timeoutMs: 300_000 });
  });

  after(async () => {
    await uploader?.stop();
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it('before the lock, the server process and its processor child hold the subkeys (the check can fail)', {
    skip: !canReadMemory && 'this system has no readable /proc/<pid>/mem',
  }, () => {
    const pid = server!.child.pid!;
    const found = occurrencesInMemory(pid, needles);
    assert.ok(found['files key']! > 0 && found['database key']! > 0, `the server's core holds its keys: ${JSON.stringify(found)}`);
    const processors = childrenOf(pid);
    assert.equal(processors.length, 1, 'one processor child');
    // The processor read its keys from its key pipe straight into the buffers it uses: the files key is there once
    // (the file cipher's own; an IPC start message left more copies), never as hex, and the data key not at all.
    const hits = findInMemory(processors[0]!, needles);
    const inChild = countHits(needles, hits);
    assert.deepEqual(
      { files: inChild['files key'], data: inChild['data key'], hex: inChild['database key (hex text)'] },
      { files: 1, data: 0, hex: 0 },
      `the processor holds one files key:\n${describeHits(hits)}`,
    );
  });

  it('`openrecall lock`: every data route 423, uploads 503 + Retry-After (the client keeps its frame), no key left in memory, the processor gone', async () => {
    const pid = server!.child.pid!;
    const processors = childrenOf(pid);
    const locked = await cli(['lock'], { OPENRECALL_API_URL: api });
    assert.equal(locked.code, 0, locked.output);
    assert.match(locked.output, /locked: the server's keys are wiped/);
    await server!.waitFor(/locked: the keys are wiped from memory/, 120_000);

    for (const route of [
      '/api/entries',
      '/api/entries/1',
      '/api/entries/1/image',
      '/api/entries/1/thumbnail',
      '/api/search?q=pelican',
      '/api/timeline',
      '/api/activity',
      '/api/queue/status',
      '/api/apps',
      '/v1/search?q=pelican',
      '/v1/frames/latest',
    ]) {
      const answer = await getJson(`${url}${route}`);
      assert.equal(answer.status, 423, `${route}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, 'LOCKED');
    }
    const mcp = await fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(mcp.status, 423);
    assert.equal((await getJson(`${api}/health`)).status, 503);

    const image = await renderTextImage(['harpsichord quixotic', 'captured while the memory was locked']);
    const refused = await upload(api, { image, captureId: 'while-locked-direct' });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.ok(refused.retryAfter && refused.retryAfter > 0, 'Retry-After is sent');
    const v1 = await fetch(`${url}/v1/ingest`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--\r\n' });
    assert.equal(v1.status, 503);
    const v1Body = (await v1.json()) as { code: string; retry_after: number };
    assert.equal(v1Body.code, 'LOCKED');
    assert.ok(v1Body.retry_after > 0);

    // The real capture client's buffer and uploader: the frame stays in the buffer, retried.
    buffer.open();
    assert.equal(buffer.write(meta('harpsichord window'), image), true);
    uploader = new Uploader(buffer, { apiUrl: api, timeoutMs: 5000, backoffInitialMs: 50, backoffMaxMs: 200, log: () => {} });
    uploader.start();
    await waitUntil(() => uploader!.status().failedAttempts >= 1, { what: 'the uploader to be refused once' });
    assert.equal(uploader.status().state, 'retrying');
    assert.match(uploader.status().lastError ?? '', /HTTP 503/);
    assert.equal(uploader.status().quarantined, 0, 'not quarantined');
    assert.equal(buffer.stats().items, 1, 'the frame waits in the buffer');

    for (const child of processors) assert.throws(() => process.kill(child, 0), 'the processor child has exited');
    if (canReadMemory) {
      // Every key buffer is wiped in place, and no copy was ever made outside them (SECURITY.md, "Locking"): none
      // of the keys, raw or as the database's hex key text, is anywhere in the server's writable memory.
      const hits = findInMemory(pid, needles);
      assert.deepEqual(countHits(needles, hits), zeroes(needles), `no copy of these keys in the server process:\n${describeHits(hits)}`);
    }
  });

  it('unlocks again (wrong passphrase refused), then search works and the frame the client kept arrives', async () => {
    const wrong = await cli(['unlock'], { OPENRECALL_API_URL: api }, 'not the passphrase\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.output, /does not open the data dir/);
    assert.equal((await getJson(`${api}/entries`)).status, 423);
    const right = await cli(['unlock'], { OPENRECALL_API_URL: api }, `${PASSPHRASE}\n`);
    assert.equal(right.code, 0, right.output);
    await waitUntil(async () => (await getJson(`${api}/entries`).catch(() => undefined))?.status === 200, { what: 'the real app again' });
    const search = await getJson(`${api}/search?q=marmalade`);
    assert.equal(search.status, 200);
    assert.equal(search.body.total, 1, JSON.stringify(search.body));
    // The uploader honours Retry-After, then delivers.
    await waitUntil(() => uploader!.status().delivered === 1, { what: 'the buffered frame delivered', timeoutMs: 120_000 });
    assert.equal(buffer.stats().items, 0);
    await waitUntil(async () => (await queueCounts(api)).completed === 2, { what: 'the kept frame COMPLETED', timeoutMs: 300_000 });
    const kept = await getJson(`${api}/search?q=harpsichord`);
    assert.equal(kept.body.total, 1, JSON.stringify(kept.body));
    const processors = childrenOf(server!.child.pid!);
    assert.equal(processors.length, 1, 'a new processor child with the new keys');
  });
});

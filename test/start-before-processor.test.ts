// Issue 24: after a restart the server answers at once (uploads, keyword search over the history) while the
// processor still loads the embedding model; search by meaning follows as soon as the processor is ready.
// The model's vocab.json is a FIFO here, so the processor's start is held for as long as the test wants.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundledModelDirectory } from '../src/ai/builtin-embeddings.js';
import { KEY_PIPE_FD } from '../src/encryption/key-pipe.js';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { type CliProcess, runCli, startServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const search = async (api: string, params: Record<string, string>) => getJson(`${api}/search?${new URLSearchParams(params)}`);

describe('a server whose processor is still loading the model', () => {
  const dataDir = tempDir('openrecall-start-');
  const modelDir = path.join(tempDir('openrecall-model-'), 'use-lite-copy');
  const fifo = path.join(modelDir, 'vocab.json');
  let server: CliProcess | undefined;
  let api = '';
  let frameId = 0;
  // Encrypted at rest: the processor gets the keys through a pipe, and takes them out of it before the model.
  const encryption = { OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: path.join(tempDir('openrecall-key-'), 'data.key') };

  before(async () => {
    // The history: one frame, OCR'd by a server without search by meaning.
    const first = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'tesseract-js', ...encryption });
    const image = await renderTextImage(['Invoice from the harpsichord workshop', 'total due 420 euros'], { width: 960, height: 200 });
    frameId = (await upload(first.api, { image, app: 'Mail', title: 'Inbox' })).body.task_id as number;
    await waitUntil(async () => (await getJson(`${first.api}/queue/status`)).body.queue.completed === 1, { what: 'the frame OCR' });
    await first.stop();

    // A copy of the bundled model whose vocab.json is a pipe nobody writes yet.
    const bundled = bundledModelDirectory();
    fs.mkdirSync(modelDir, { recursive: true });
    for (const name of fs.readdirSync(bundled)) if (name !== 'vocab.json') fs.copyFileSync(path.join(bundled, name), path.join(modelDir, name));
    execFileSync('mkfifo', [fifo]);

    server = runCli(['server'], {
      OPENRECALL_DATA_DIR: dataDir,
      OPENRECALL_PORT: '0',
      OPENRECALL_WORKERS: '1',
      OPENRECALL_OCR_ENGINE: 'tesseract-js',
      OPENRECALL_EMBEDDING_PROVIDER: 'builtin',
      OPENRECALL_EMBEDDING_MODEL: modelDir,
      ...encryption,
    });
    const [, url] = (await server.waitFor(/answering on (http:\/\/\S+) while the processor starts/, 90_000)) as RegExpMatchArray;
    api = `${url}/api`;
  });
  after(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });

  it('answers keyword search and uploads at once, and says search by meaning is starting', async () => {
    assert.doesNotMatch(server!.output(), /listening on/, 'the processor is still held by the model file');
    // The keys left their pipe at the processor's start, not after the model (they waited there for it).
    const [processor] = fs.readFileSync(`/proc/${server!.child.pid}/task/${server!.child.pid}/children`, 'utf8').trim().split(/\s+/);
    const holdsKeyPipe = () => {
      try {
        // Node's 'pipe' stdio is a socket pair.
        return fs.readlinkSync(`/proc/${processor}/fd/${KEY_PIPE_FD}`).startsWith('socket:');
      } catch {
        return false; // closed
      }
    };
    await waitUntil(() => !holdsKeyPipe(), {
      what: 'the key pipe read and closed while the model is still loading',
      timeoutMs: 10_000,
    }).catch(() => {
      throw new Error('the processor still holds the key pipe while it loads the model');
    });
    const keyword = await search(api, { q: 'harpsichord', mode: 'keyword' });
    assert.equal(keyword.status, 200);
    assert.deepEqual(
      keyword.body.results.map((r: { id: number }) => r.id),
      [frameId],
    );

    const hybrid = await search(api, { q: 'harpsichord' });
    assert.equal(hybrid.status, 200, JSON.stringify(hybrid.body));
    assert.deepEqual(
      hybrid.body.results.map((r: { id: number }) => r.id),
      [frameId],
    );
    assert.match(hybrid.body.warning, /still starting/);

    const semantic = await search(api, { q: 'an instrument maker sent a bill', mode: 'semantic' });
    assert.equal(semantic.status, 503);
    assert.equal(semantic.body.error, 'PROVIDER_UNAVAILABLE');
    assert.match(semantic.body.message, /still starting \(loading the model\)/);

    const status = (await getJson(`${api}/queue/status`)).body;
    assert.equal(status.semantic.enabled, false);
    assert.equal(status.semantic.model, 'builtin:use-lite-copy');
    assert.match(status.semantic.reason, /^starting: the processor is loading the model/);

    const image = await renderTextImage(['Second frame while starting: marmalade recipe'], { width: 960, height: 120 });
    assert.equal((await upload(api, { image, app: 'Notes', title: 'Recipes' })).status, 202);
  });

  it('searches by meaning once the model is loaded, and processes what came meanwhile', async () => {
    await fs.promises.writeFile(fifo, await fs.promises.readFile(path.join(bundledModelDirectory(), 'vocab.json')));
    await server!.waitFor(/listening on/, 90_000);
    await waitUntil(async () => (await search(api, { q: 'marmalade', mode: 'keyword' })).body.results?.length === 1, {
      what: 'the frame sent during start-up processed',
    });
    const status = (await getJson(`${api}/queue/status`)).body;
    assert.deepEqual(status.semantic, { enabled: true, provider: 'builtin', model: 'builtin:use-lite-copy', reason: null });
    // The history's frame had no vector: the backfill embeds it, then search by meaning finds it.
    await waitUntil(async () => (await getJson(`${api}/queue/status`)).body.backfill.embedding === 0, { what: 'the backfill' });
    const semantic = await search(api, { q: 'harpsichord workshop invoice', mode: 'semantic' });
    assert.equal(semantic.status, 200, JSON.stringify(semantic.body));
    assert.ok(
      semantic.body.results.some((r: { id: number }) => r.id === frameId),
      JSON.stringify(semantic.body.results),
    );
  });
});

// The processor loads the model first and says so at once: search by meaning does not wait for the rest of its start
// (here its OCR engine, a `tesseract` whose `--version` waits on a pipe nobody writes yet).
describe('a server whose processor has loaded the model but not yet its OCR engine', () => {
  const dataDir = tempDir('openrecall-start-ocr-');
  const bin = tempDir('openrecall-fake-tesseract-');
  const hold = path.join(bin, 'hold');
  let server: CliProcess | undefined;

  before(async () => {
    execFileSync('mkfifo', [hold]);
    fs.writeFileSync(path.join(bin, 'tesseract'), `#!/bin/sh\n[ "$1" = "--version" ] || exit 1\ncat '${hold}' > /dev/null\necho 'tesseract 5.3.0'\n`, {
      mode: 0o700,
    });
    server = runCli(['server'], {
      OPENRECALL_DATA_DIR: dataDir,
      OPENRECALL_PORT: '0',
      OPENRECALL_OCR_ENGINE: 'tesseract-cli',
      OPENRECALL_EMBEDDING_PROVIDER: 'builtin',
      PATH: `${bin}:${process.env.PATH}`,
    });
  });
  after(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    // A `tesseract --version` still waiting (the test failed before releasing it) gets its end of file and exits.
    try {
      fs.closeSync(fs.openSync(hold, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // nobody is reading it
    }
  });

  it('searches by meaning before the processor is ready', async () => {
    const [, url] = (await server!.waitFor(/answering on (http:\/\/\S+) while the processor starts/, 90_000)) as RegExpMatchArray;
    const api = `${url}/api`;
    await waitUntil(async () => (await search(api, { q: 'an invoice from the workshop', mode: 'semantic' })).status === 200, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: 'search by meaning while the OCR engine starts',
    });
    assert.doesNotMatch(server!.output(), /listening on/, 'the processor is still held by its OCR engine');
    assert.equal((await getJson(`${api}/queue/status`)).body.semantic.enabled, true);
    await fs.promises.writeFile(hold, 'go\n');
    await server!.waitFor(/listening on/, 90_000);
  });
});

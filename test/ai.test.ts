import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { after, before, describe, it } from 'node:test';
import { loadAiConfig } from '../src/ai/config.js';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { FakeOpenAi, type FakeMode } from './helpers/fake-openai.js';
import { renderTextImage, solidPng } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { runCli, startServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';
import { writeTinyModel } from './helpers/tiny-model.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

function aiEnv(fake: FakeOpenAi, { vlm = false, embeddings = false } = {}): Record<string, string> {
  return {
    ...(vlm
      ? {
          OPENRECALL_VLM_URL: fake.url,
          OPENRECALL_VLM_MODEL: 'vision-test',
          OPENRECALL_VLM_API_KEY: 'vlm-secret',
          OPENRECALL_VLM_TIMEOUT: '3',
          OPENRECALL_VLM_MAX_WIDTH: '640',
        }
      : {}),
    ...(embeddings
      ? {
          OPENRECALL_EMBEDDING_PROVIDER: 'openai',
          OPENRECALL_EMBEDDING_URL: fake.url,
          OPENRECALL_EMBEDDING_MODEL: 'embed-test',
          OPENRECALL_EMBEDDING_API_KEY: 'embed-secret',
          OPENRECALL_EMBEDDING_DIM: String(fake.dim),
          OPENRECALL_EMBEDDING_TIMEOUT: '3',
        }
      : { OPENRECALL_EMBEDDING_PROVIDER: 'none' }),
  };
}

const entry = async (server: { api: string }, id: number) => (await getJson(`${server.api}/entries/${id}`)).body;
const settled = (server: { api: string }, id: number) =>
  waitUntil(
    async () => {
      const e = await entry(server, id);
      return e.status === 'COMPLETED' || e.status === 'FAILED' ? e : undefined;
    },
    { what: `frame ${id} settled`, timeoutMs: 120_000 },
  );

describe('AI description stage (OpenAI-compatible chat completions)', () => {
  let fake: FakeOpenAi;
  let server: Server;
  before(async () => {
    fake = await FakeOpenAi.start();
    server = await startInProcessServer({ ocrEngine: 'tesseract-js', maxAttempts: 2, ai: loadAiConfig(aiEnv(fake, { vlm: true })) });
  });
  after(async () => {
    await server.close();
    await fake.close();
  });

  it('sends the screenshot as an image data URL with the prompt, stores, returns and indexes the description', async () => {
    const image = await renderTextImage(['Departures board'], { width: 1600, height: 900 });
    const { body } = await upload(server.api, { image, app: 'Browser', title: 'Planner' });
    const done = await settled(server, body.task_id as number);
    assert.equal(done.status, 'COMPLETED', done.last_error);
    assert.equal(done.description, fake.description);
    assert.match(done.text, /Departures board/, 'OCR ran before the description');

    const request = fake.requests.find((r) => r.path === '/v1/chat/completions')!;
    assert.equal(request.headers.authorization, 'Bearer vlm-secret');
    assert.equal(request.body.model, 'vision-test');
    const [text, picture] = request.body.messages[0].content;
    assert.match(text.text, /screenshot/i);
    const match = /^data:image\/jpeg;base64,(.+)$/.exec(picture.image_url.url);
    assert.ok(match, 'image sent as a JPEG data URL');
    const meta = await sharp(Buffer.from(match[1]!, 'base64')).metadata();
    assert.equal(meta.width, 640, 'downscaled to OPENRECALL_VLM_MAX_WIDTH');

    const hits = (await getJson(`${server.api}/search?q=zeppelin`)).body;
    assert.deepEqual(
      hits.results.map((r: { id: number }) => r.id),
      [done.id],
    );
    assert.match(hits.results[0].snippet, /<mark>zeppelin<\/mark>/);
    assert.equal((await getJson(`${server.api}/capabilities`)).body.show_ai_description, true);
  });

  for (const [mode, reason] of [
    ['timeout', /timed out after 3 s/],
    ['500', /HTTP 500/],
    ['malformed', /no choices\[0\]\.message\.content/],
    ['not-json', /not JSON/],
  ] as Array<[FakeMode, RegExp]>) {
    it(`retries, then marks the frame FAILED when the model answers ${mode}, keeping the OCR text`, async () => {
      fake.chat = mode;
      try {
        const { body } = await upload(server.api, { image: await renderTextImage([`Failure case ${mode}`], { width: 640, height: 360 }) });
        const done = await settled(server, body.task_id as number);
        assert.equal(done.status, 'FAILED');
        assert.match(done.last_error, reason);
        assert.match(done.last_error, /^describe: /);
        assert.equal(done.attempts, 2);
        assert.match(done.text, /Failure case/, 'OCR text kept');
        assert.equal(done.description, null);
        assert.equal((await getJson(`${server.api}/health`)).status, 200);
      } finally {
        fake.chat = 'ok';
      }
    });
  }
});

describe('semantic and hybrid search (OpenAI-compatible embeddings)', () => {
  let fake: FakeOpenAi;
  let server: Server;
  const ids: Record<string, number> = {};
  before(async () => {
    fake = await FakeOpenAi.start();
    server = await startInProcessServer({ ocrEngine: 'none', maxAttempts: 2, ai: loadAiConfig(aiEnv(fake, { embeddings: true })) });
    for (const [key, title] of Object.entries({
      automobile: 'Automobile insurance renewal',
      wash: 'Car wash coupons',
      grocery: 'Grocery list for the weekend',
    })) {
      const { body } = await upload(server.api, { image: await solidPng(64, 48, '#445566'), title, app: 'Notes' });
      ids[key] = body.task_id as number;
    }
    await waitUntil(async () => (await queueCounts(server.api)).completed === 3, { what: 'embedded', timeoutMs: 120_000 });
  });
  after(async () => {
    await server.close();
    await fake.close();
  });

  const search = async (params: Record<string, string>) => (await getJson(`${server.api}/search?${new URLSearchParams(params)}`)).body;
  const idsOf = (body: { results: Array<{ id: number }> }) => body.results.map((r) => r.id);

  it('stores one vector per frame with its model and dimension, 8 bits a dimension and a scale', () => {
    const rows = server.db.prepare('SELECT entry_id, model, dim, length(vector) AS bytes FROM embeddings ORDER BY entry_id').all() as any[];
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.equal(row.model, 'embed-test');
      assert.equal(row.dim, 64);
      assert.equal(row.bytes, 64 + 4);
    }
    const embedCall = fake.requests.find((r) => r.path === '/v1/embeddings')!;
    assert.equal(embedCall.headers.authorization, 'Bearer embed-secret');
    assert.equal(embedCall.body.model, 'embed-test');
  });

  it('offers semantic and hybrid modes, hybrid by default', async () => {
    const caps = (await getJson(`${server.api}/capabilities`)).body;
    assert.deepEqual(caps.search_modes, ['keyword', 'semantic', 'hybrid']);
    assert.equal(caps.default_search_mode, 'hybrid');
    assert.equal((await search({ q: 'car' })).mode, 'hybrid');
  });

  it('keyword finds the word, semantic finds the meaning, hybrid ranks a frame only the vectors found', async () => {
    assert.deepEqual(idsOf(await search({ q: 'car', mode: 'keyword' })), [ids.wash]);
    const semantic = idsOf(await search({ q: 'car', mode: 'semantic' }));
    assert.deepEqual(semantic.slice(0, 2).sort(), [ids.automobile, ids.wash].sort());
    assert.equal(semantic.at(-1), ids.grocery, 'unrelated frame ranks last');
    const hybrid = await search({ q: 'car', mode: 'hybrid' });
    assert.equal(hybrid.results[0].id, ids.wash, 'found by both lists: first');
    assert.equal(hybrid.results[1].id, ids.automobile, 'found by vectors only: still ranked');
    assert.equal(hybrid.total, 3);
  });

  it('applies filters to vector results', async () => {
    const body = await search({ q: 'car', mode: 'semantic', window: 'insurance' });
    assert.deepEqual(idsOf(body), [ids.automobile]);
  });

  it('falls back to keyword with a warning when the query cannot be embedded, and says 503 for semantic', async () => {
    fake.embeddings = '500';
    try {
      const hybrid = await search({ q: 'car' });
      assert.equal(hybrid.mode, 'keyword');
      assert.match(hybrid.warning, /embedding provider failed: .*HTTP 500/);
      assert.deepEqual(idsOf(hybrid), [ids.wash]);
      const semantic = await getJson(`${server.api}/search?q=car&mode=semantic`);
      assert.equal(semantic.status, 503);
      assert.match(semantic.body.message, /embedding provider/);
    } finally {
      fake.embeddings = 'ok';
    }
  });

  for (const [mode, reason] of [
    ['timeout', /timed out after 3 s/],
    ['500', /HTTP 500/],
    ['malformed', /not an array of numbers/],
    ['not-json', /not JSON/],
    ['wrong-dim', /67 dimensions, expected 64/],
  ] as Array<[FakeMode, RegExp]>) {
    it(`marks the frame FAILED with the reason when the provider answers ${mode}`, async () => {
      fake.embeddings = mode;
      try {
        const { body } = await upload(server.api, { image: await solidPng(32, 32, '#010203'), title: `embedding failure ${mode}` });
        const done = await settled(server, body.task_id as number);
        assert.equal(done.status, 'FAILED');
        assert.match(done.last_error, reason);
        assert.equal(done.attempts, 2);
        assert.equal((await getJson(`${server.api}/health`)).status, 200);
      } finally {
        fake.embeddings = 'ok';
      }
    });
  }
});

describe('backfill', () => {
  it('gives frames processed before a provider was configured their embedding and description, without re-running OCR', async () => {
    const fake = await FakeOpenAi.start();
    const dataDir = tempDir();
    try {
      const first = await startInProcessServer({ dataDir, ocrEngine: 'tesseract-js' });
      for (const word of ['alpha', 'bravo', 'charlie']) {
        await upload(first.api, { image: await renderTextImage([`Backfill ${word}`], { width: 640, height: 360 }), title: `Old frame ${word}` });
      }
      await waitUntil(async () => (await queueCounts(first.api)).completed === 3, { what: 'OCR', timeoutMs: 60_000 });
      const before = first.db.prepare('SELECT id, text, attempts, processing_finished_at FROM entries ORDER BY id').all();
      await first.close();

      const server = await startServerProcess(dataDir, { ...aiEnv(fake, { vlm: true, embeddings: true }), OPENRECALL_OCR_ENGINE: 'tesseract-js' });
      try {
        const cli = runCli(['backfill'], { OPENRECALL_API_URL: server.api });
        const { code } = await cli.exited;
        assert.equal(code, 0, cli.output());
        assert.match(cli.output(), /backfill complete: \d+ frame\(s\) updated/);
        const status = (await getJson(`${server.api}/queue/status`)).body;
        assert.deepEqual(status.backfill, { embedding: 0, description: 0, redaction: 0, redaction_scrub_due: false });
        const { body } = await getJson(`${server.api}/entries`);
        for (const old of before as any[]) {
          const now = body.entries.find((e: any) => e.id === old.id);
          assert.equal(now.status, 'COMPLETED');
          assert.equal(now.description, fake.description);
          assert.equal(now.text, old.text, 'OCR text untouched');
          assert.equal(now.attempts, old.attempts, 'not re-queued');
        }
        const semantic = (await getJson(`${server.api}/search?q=${encodeURIComponent('old frame bravo')}&mode=semantic`)).body;
        assert.equal(semantic.results[0].title, 'Old frame bravo');
      } finally {
        await server.stop();
      }
    } finally {
      await fake.close();
    }
  });

  it('says so when no provider is configured', async () => {
    const server = await startServerProcess(tempDir(), { OPENRECALL_OCR_ENGINE: 'none' });
    try {
      const cli = runCli(['backfill'], { OPENRECALL_API_URL: server.api });
      assert.equal((await cli.exited).code, 0);
      assert.match(cli.output(), /nothing to backfill/);
    } finally {
      await server.stop();
    }
  });
});

describe('local embedding provider (model directory on disk, never a hub)', () => {
  const start = async (env: Record<string, string>) => {
    const cli = runCli(['server'], {
      OPENRECALL_DATA_DIR: tempDir(),
      OPENRECALL_PORT: '0',
      OPENRECALL_OCR_ENGINE: 'none',
      OPENRECALL_EMBEDDING_PROVIDER: 'local',
      ...env,
    });
    const { code } = await cli.exited;
    return { code, output: cli.output().trim() };
  };

  it('stops start-up with a clear message when the directory is missing', async () => {
    const { code, output } = await start({ OPENRECALL_EMBEDDING_MODEL: '/nonexistent/all-MiniLM-L6-v2' });
    assert.equal(code, 2);
    assert.match(output, /OPENRECALL_EMBEDDING_MODEL=\/nonexistent\/all-MiniLM-L6-v2: no such model directory/);
  });

  it('stops start-up when the directory is not a model', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'readme.txt'), 'hello');
    const { code, output } = await start({ OPENRECALL_EMBEDDING_MODEL: dir });
    assert.equal(code, 2);
    assert.match(output, /not a model directory \(missing config\.json\)/);
  });

  it('stops start-up when the model files cannot be loaded', async () => {
    const dir = path.join(tempDir(), 'broken-model');
    fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 8 }));
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"not": "a tokenizer"}');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), 'garbage');
    const { code, output } = await start({ OPENRECALL_EMBEDDING_MODEL: dir });
    assert.equal(code, 2);
    assert.match(output, /broken-model: cannot load the model/);
  });

  it('loads a model directory offline, embeds frames and queries, and finds frames by meaning', async () => {
    const dir = writeTinyModel(path.join(tempDir(), 'tiny-embedder'));
    const server = await startServerProcess(tempDir(), {
      OPENRECALL_OCR_ENGINE: 'none',
      OPENRECALL_EMBEDDING_PROVIDER: 'local',
      OPENRECALL_EMBEDDING_MODEL: dir,
    });
    try {
      const ids: Record<string, number> = {};
      for (const [key, title] of Object.entries({ insurance: 'automobile insurance', fruit: 'banana', meeting: 'calendar' })) {
        ids[key] = (await upload(server.api, { image: await solidPng(32, 32, '#102030'), title })).body.task_id as number;
      }
      await waitUntil(async () => (await queueCounts(server.api)).completed === 3, { what: 'embedded locally' });
      const { body } = await getJson(`${server.api}/search?q=car&mode=semantic`);
      assert.equal(body.results[0].id, ids.insurance, JSON.stringify(body.results));
      const hybrid = (await getJson(`${server.api}/search?q=bill%20meeting`)).body;
      assert.equal(hybrid.mode, 'hybrid');
      assert.equal(hybrid.results[0].id, ids.meeting);
    } finally {
      await server.stop();
    }
  });

  it('requires the model path', async () => {
    const { code, output } = await start({});
    assert.equal(code, 2);
    assert.match(output, /OPENRECALL_EMBEDDING_PROVIDER=local needs OPENRECALL_EMBEDDING_MODEL/);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BuiltinEmbeddings, bundledModelDirectory, BUILTIN_MODEL } from '../src/ai/builtin-embeddings.js';
import { normalize } from '../src/ai/embedding-provider.js';
import { loadAiConfig } from '../src/ai/config.js';
import { openStore } from '../src/store/open-store.js';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { FakeOpenAi } from './helpers/fake-openai.js';
import { hostileQueries } from './helpers/hostile-queries.js';
import { renderTextImage, solidPng } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { STORE_KINDS, type StoreKind } from './helpers/stores.js';
import { tempDir } from './helpers/temp-dir.js';

// These servers run at the true default (OPENRECALL_EMBEDDING_PROVIDER unset): the built-in model, offline.
const DEFAULT_PROVIDER = { OPENRECALL_EMBEDDING_PROVIDER: '' };

const SCREENS = {
  telescope: [
    'Your Celestron NexStar telescope has shipped.',
    'Carrier: DHL Express, delivery on Thursday morning.',
    'Includes tripod, eyepiece and red dot finder.',
  ],
  invoice: ['REMINDER: invoice 2023-118 is 30 days overdue.', 'Amount due: 4,250 EUR, payment terms net 30.', 'Late fees may apply. Acme Supplies, Accounts.'],
  dentist: ['Tuesday 10:30 appointment with Dr. Moreau,', 'cleaning and check-up at the clinic.', 'Bring your insurance card.'],
  pasta: ['Creamy mushroom tagliatelle, ready in 25 minutes.', 'Fry the mushrooms with garlic and thyme,', 'stir in the cream and parmesan.'],
};

const status = async (api: string) => (await getJson(`${api}/queue/status`)).body;
const search = async (api: string, params: Record<string, string>) => (await getJson(`${api}/search?${new URLSearchParams(params)}`)).body;

/** SQLite in the data dir, or a fresh PostgreSQL database: the environment a server process gets for it. */
async function storeFor(kind: StoreKind): Promise<{ env: Record<string, string>; databaseUrl?: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') return { env: {}, drop: async () => {} };
  const database: TestDatabase = await createTestDatabase();
  return { env: { OPENRECALL_DATABASE_URL: database.url }, databaseUrl: database.url, drop: database.drop };
}

for (const kind of STORE_KINDS)
  describe(`built-in embedding model (the default) (${kind})`, () => {
    let server: ServerProcess;
    let store: Awaited<ReturnType<typeof storeFor>>;
    const dataDir = tempDir();
    const ids: Record<string, number> = {};
    before(async () => {
      store = await storeFor(kind);
      server = await startServerProcess(dataDir, { ...DEFAULT_PROVIDER, OPENRECALL_OCR_ENGINE: 'tesseract-js', ...store.env });
      for (const [key, lines] of Object.entries(SCREENS)) {
        const image = await renderTextImage(lines, { width: 960, height: 360 });
        ids[key] = (await upload(server.api, { image, app: 'Mail', title: 'Inbox' })).body.task_id as number;
      }
      await waitUntil(
        async () => {
          const s = await status(server.api);
          return s.queue.completed === 4 && s.backfill.embedding === 0;
        },
        { what: 'OCR and embeddings', timeoutMs: 300_000, intervalMs: 250 },
      );
    });
    after(async () => {
      await server?.stop();
      await store.drop();
    });

    it('is on with no settings: status names the model, search offers hybrid by default', async () => {
      assert.equal(fs.existsSync(path.join(dataDir, 'db', 'recall.db')), kind === 'sqlite', 'the server runs on the store asked for');
      assert.deepEqual((await status(server.api)).semantic, { enabled: true, provider: 'builtin', model: BUILTIN_MODEL, reason: null });
      const caps = (await getJson(`${server.api}/capabilities`)).body;
      assert.equal(caps.default_search_mode, 'hybrid');
      assert.match(server.output(), /semantic search: builtin:use-lite-512@0\.2\.0/);
    });

    it('finds a screen by a query that shares no word with it', async () => {
      const body = await search(server.api, { q: 'stargazing gear', mode: 'semantic' });
      assert.equal(body.results[0].id, ids.telescope, JSON.stringify(body.results.map((r: { id: number }) => r.id)));
      const hybrid = await search(server.api, { q: 'unpaid bill from a supplier' });
      assert.equal(hybrid.mode, 'hybrid');
      assert.equal(hybrid.warning, undefined);
      assert.equal(hybrid.results[0].id, ids.invoice);
    });

    it('an exact word still puts the frame with that word first in hybrid search', async () => {
      for (const [q, key] of [
        ['Moreau', 'dentist'],
        ['tagliatelle', 'pasta'],
        ['Celestron', 'telescope'],
        ['overdue', 'invoice'],
      ] as const) {
        const body = await search(server.api, { q });
        assert.equal(body.mode, 'hybrid');
        assert.equal(body.results[0].id, ids[key], `${q}: ${JSON.stringify(body.results.map((r: { id: number }) => r.id))}`);
      }
    });

    it('falls back to keyword results with a warning while the processor cannot embed the query (stopped: busy)', async () => {
      const processor = Number(fs.readFileSync(`/proc/${server.child.pid}/task/${server.child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      process.kill(processor, 'SIGSTOP');
      try {
        // Both at once: each waits out the 4 s the server gives the processor.
        const [body, semantic] = await Promise.all([
          search(server.api, { q: 'Celestron stargazing' }),
          getJson(`${server.api}/search?q=stargazing&mode=semantic`),
        ]);
        assert.equal(body.mode, 'keyword');
        assert.match(body.warning, /did not embed the query within 4 s.*showing keyword results/);
        assert.equal(semantic.status, 503);
      } finally {
        process.kill(processor, 'SIGCONT');
      }
      assert.equal((await search(server.api, { q: 'stargazing gear' })).results[0].id, ids.telescope, 'back to hybrid once it answers');
    });

    it('answers a query of any length or script with 200, or a clear 4xx past what the server reads', async () => {
      // Every kind of hostile string (a sample: each one costs an embedding), long ones and other scripts.
      const queries = [...hostileQueries().filter((_, i) => i % 4 === 0), 'x'.repeat(8000), '设'.repeat(2000), '天文望远镜 到货', 'تلسكوب', '🔭🔭🔭'];
      for (const q of queries) {
        for (const mode of ['hybrid', 'semantic']) {
          const { status: code, body } = await getJson(`${server.api}/search?${new URLSearchParams({ q, mode })}`);
          assert.equal(code, 200, `${mode} ${JSON.stringify(q.slice(0, 40))}: ${JSON.stringify(body)}`);
        }
      }
      // Past what the server reads (64 KiB of q, or the URL length HTTP allows): a 4xx that says so, never a 500.
      for (const length of [40_000, 70_000]) {
        const { status: code, body } = await getJson(`${server.api}/search?${new URLSearchParams({ q: 'x'.repeat(length) })}`);
        assert.ok(code === 200 || (code >= 400 && code < 500 && typeof body.message === 'string'), `${length}: ${code} ${JSON.stringify(body).slice(0, 200)}`);
      }
    });
  });

describe('offline', () => {
  it('loads the built-in model and embeds with no network at all (a new network namespace, as root)', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root for unshare -n');
    const script = path.join(tempDir(), 'embed.mjs');
    const built = path.resolve('dist/ai/builtin-embeddings.js');
    fs.writeFileSync(
      script,
      `import { BuiltinEmbeddings } from ${JSON.stringify(built)};
      const model = await BuiltinEmbeddings.load();
      const [vector] = await model.embed(['stargazing gear']);
      console.log(model.model, vector.length);`,
    );
    const run = spawnSync('unshare', ['-n', process.execPath, script], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), `${BUILTIN_MODEL} 512`);
  });
});

describe('long screens', () => {
  it("text past the model's window (about 128 tokens) still counts: a long page is embedded in pieces", async () => {
    const model = await BuiltinEmbeddings.load();
    try {
      const filler = 'Quarterly sales figures for the northern region, broken down by product line and month. '.repeat(20);
      const [withTelescope, withPasta, query] = await model.embed([
        `${filler} Your new telescope has shipped, with a tripod and an eyepiece for watching the night sky.`,
        `${filler} Creamy mushroom pasta with garlic, thyme and parmesan, ready in twenty minutes.`,
        'stargazing gear',
      ]);
      const cosine = (a: Float32Array, b: Float32Array) => {
        const [na, nb] = [normalize(a), normalize(b)];
        return na.reduce((sum, x, i) => sum + x * nb[i]!, 0);
      };
      assert.ok(cosine(query!, withTelescope!) > cosine(query!, withPasta!) + 0.02, `${cosine(query!, withTelescope!)} vs ${cosine(query!, withPasta!)}`);
    } finally {
      await model.close();
    }
  });
});

for (const kind of STORE_KINDS)
  describe(`switching embedding models (${kind})`, () => {
    it('re-embeds every frame with the new model in the background and never mixes in the old vectors', async () => {
      const fake = await FakeOpenAi.start();
      const dataDir = tempDir();
      const store = await storeFor(kind);
      try {
        const first = await startInProcessServer({
          dataDir,
          databaseUrl: store.databaseUrl,
          ai: loadAiConfig({ OPENRECALL_EMBEDDING_PROVIDER: 'openai', OPENRECALL_EMBEDDING_URL: fake.url, OPENRECALL_EMBEDDING_MODEL: 'embed-test' }),
        });
        const titles = ['Telescope delivery from the observatory shop', 'Overdue invoice from a supplier', 'Birthday party for grandpa'];
        for (const title of titles) await upload(first.api, { image: await solidPng(32, 32, '#203040'), title, app: 'Mail' });
        await waitUntil(async () => (await status(first.api)).backfill.embedding === 0 && (await status(first.api)).queue.completed === 3, {
          what: 'embedded by the first model',
        });
        await first.close();

        const server = await startServerProcess(dataDir, { ...DEFAULT_PROVIDER, ...store.env });
        try {
          await waitUntil(async () => (await status(server.api)).backfill.embedding === 0, { what: 'backfilled with the built-in model', timeoutMs: 120_000 });
          const body = await search(server.api, { q: 'stargazing equipment', mode: 'semantic' });
          // Frames below the vector floor come apart, as related: together, each frame once.
          const found = [...body.results, ...(body.related ?? [])];
          assert.equal(found.length, 3, 'each frame once: vectors of the old model are not searched');
          assert.equal(found[0].title, titles[0]);
        } finally {
          await server.stop();
        }
        // Both models' vectors are kept, each at its own size, for every frame.
        const reopened = await openStore({ databaseUrl: store.databaseUrl, sqliteFile: path.join(dataDir, 'db', 'recall.db'), dataDir });
        try {
          const frameIds = (await reopened.frames.list({ limit: 10 })).map((f) => f.id);
          assert.equal(frameIds.length, 3);
          for (const [model, dim] of [
            [BUILTIN_MODEL, 512],
            ['embed-test', 64],
          ] as const) {
            const vectors = await reopened.embeddings.vectors(model, frameIds);
            assert.deepEqual(
              [...vectors.values()].map((v) => v.length),
              [dim, dim, dim],
              model,
            );
          }
        } finally {
          await reopened.close();
        }
      } finally {
        await fake.close();
        await store.drop();
      }
    });
  });

describe('a missing or corrupt built-in model', () => {
  const corruptCopy = () => {
    const dir = path.join(tempDir(), 'use-model');
    fs.cpSync(bundledModelDirectory(), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'model.json'), fs.readFileSync(path.join(dir, 'model.json')).subarray(0, 200));
    return dir;
  };

  it('starts with semantic search off, says why in the log and in queue status, and keyword search keeps working', async () => {
    const dir = corruptCopy();
    const server = await startServerProcess(tempDir(), { ...DEFAULT_PROVIDER, OPENRECALL_EMBEDDING_MODEL: dir, OPENRECALL_OCR_ENGINE: 'none' });
    try {
      assert.match(server.output(), /semantic search off: cannot load the built-in model from .*use-model/);
      const { semantic } = await status(server.api);
      assert.equal(semantic.enabled, false);
      assert.equal(semantic.provider, 'builtin');
      assert.match(semantic.reason, /cannot load the built-in model/);
      const { body: uploaded } = await upload(server.api, { image: await solidPng(32, 32), title: 'Quarterly zeppelin report', app: 'Docs' });
      await waitUntil(async () => (await status(server.api)).queue.completed === 1, { what: 'processed' });
      const body = await search(server.api, { q: 'zeppelin' });
      assert.equal(body.mode, 'keyword');
      assert.deepEqual(
        body.results.map((r: { id: number }) => r.id),
        [uploaded.task_id],
      );
      assert.equal((await getJson(`${server.api}/search?q=zeppelin&mode=semantic`)).status, 400);
    } finally {
      await server.stop();
    }
  });

  it('openrecall doctor says semantic search will be off, and why', async () => {
    const missing = path.join(tempDir(), 'no-such-model');
    const cli = runCli(['doctor', '--json'], {
      ...DEFAULT_PROVIDER,
      OPENRECALL_EMBEDDING_MODEL: missing,
      OPENRECALL_DATA_DIR: tempDir(),
      OPENRECALL_API_URL: 'http://127.0.0.1:9/api',
    });
    await cli.exited;
    const check = JSON.parse(cli.output()).checks.find((c: { check: string }) => c.check === 'semantic');
    assert.equal(check.status, 'warn');
    assert.match(check.message, /semantic search will be off: the built-in model in .*no-such-model is incomplete \(missing model\.json\)/);
  });
});

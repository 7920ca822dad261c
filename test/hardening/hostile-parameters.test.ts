import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadServerConfig } from '../../src/config.js';
import { startServer } from '../../src/server/server.js';
import { getJson, upload } from '../helpers/api.js';
import { hostileParameterCases } from '../helpers/hostile-queries.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

describe('hostile values in every parameter of every route', () => {
  let server: Server;
  let id: number;
  after(() => server.close());

  before(async () => {
    server = await startInProcessServer();
    id = (await upload(server.api, { image: await solidPng(), app: 'Fuzz', title: 'fuzz window' })).body.task_id as number;
  });

  it('answers 200 or a 4xx naming the problem, never a 5xx', async () => {
    const openapi = (await getJson(`${server.api}/openapi.json`)).body;
    const cases = hostileParameterCases(openapi, id);
    const routes = new Set(cases.map((c) => c.label.split(' ').slice(0, 2).join(' ')));
    // The enumeration comes from the served document: the search, entries and timeline parameters are in it.
    for (const route of ['GET /api/search', 'GET /api/entries', 'GET /api/timeline/frames', 'GET /api/timeline/locate', 'DELETE /api/entries/{id}']) {
      assert.ok(routes.has(route), `${route} is fuzzed`);
    }
    assert.ok(cases.length > 1000, `${cases.length} cases`);
    const failures: string[] = [];
    for (const c of cases) {
      const response = await fetch(`${server.url}${c.url}`, { method: c.method });
      const text = await response.text();
      if (response.status >= 500) failures.push(`${c.label}: ${response.status} ${text.slice(0, 200)}`);
      else if (response.status >= 400 && response.status !== 431) {
        const body = JSON.parse(text) as { message?: string };
        if (!body.message) failures.push(`${c.label}: ${response.status} without a message`);
      }
      if (/sqlite|fts5|syntax error|datatype mismatch/i.test(text)) failures.push(`${c.label}: leaks ${text.slice(0, 200)}`);
    }
    assert.deepEqual(failures, []);
    assert.equal((await getJson(`${server.api}/health`)).status, 200);
  });

  it('finds a word next to a NUL byte or a lone surrogate instead of failing', async () => {
    for (const q of ['fuzz%00', 'a%00fuzz', '%ED%A0%80fuzz']) {
      const { status, body } = await getJson(`${server.api}/search?q=${q}`);
      assert.equal(status, 200, JSON.stringify(body));
    }
    const { body } = await getJson(`${server.api}/search?q=window%00fuzz`);
    assert.deepEqual(
      body.results.map((r: { id: number }) => r.id),
      [id],
    );
  });
});

describe('a server error', () => {
  it('is logged with its stack under a request id that the client receives', async () => {
    const lines: string[] = [];
    const dataDir = tempDir();
    const server = await startServer({ ...loadServerConfig({}), dataDir, host: '127.0.0.1', port: 0, ocrEngine: 'none', workers: 1 }, (line) =>
      lines.push(line),
    );
    try {
      // The database going away under a running server is a real failure of ours, not of the request.
      server.db.close();
      const response = await fetch(`${server.url}/api/entries`);
      const body = (await response.json()) as { statusCode: number; requestId: string; message: string };
      assert.equal(response.status, 500);
      assert.match(body.requestId, /^[0-9a-f]{16}$/);
      assert.equal(response.headers.get('x-request-id'), body.requestId);
      assert.match(body.message, new RegExp(body.requestId));
      const logged = lines.find((line) => line.includes(body.requestId));
      assert.ok(logged, `the log names request ${body.requestId}:\n${lines.join('\n')}`);
      assert.match(logged, /GET \/api\/entries -> 500/);
      assert.match(logged, /\n\s+at /, 'with its stack');
    } finally {
      await server.close().catch(() => {});
    }
  });
});

import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { solidJpeg, solidPng, solidWebp } from './helpers/images.js';
import { waitUntil } from './helpers/api.js';
import { startInjectServer, type InjectServer } from './helpers/inject-app.js';
import { assertRefusedCleanly, multipart, type Part } from './helpers/multipart.js';
import { TOKEN } from './hardening/helpers.js';

// The request-validation matrix (400, 401, 404, 413, 415, 503, 507) through Fastify's inject: the real app,
// services and SQLite file, in this process, without a socket or the processor. Crashes, IPC, timeouts and
// real browsers stay in the full-process suites.

const INVALID_UTF8 = Buffer.from([0x61, 0xff, 0xfe, 0xc3, 0x28, 0x62]);

/** The upload form with one field changed ('__omit__' leaves it out); the image goes last. */
function form(image: Buffer | null, fields: Record<string, string | Buffer> = {}, extra: Part[] = []) {
  const base: Record<string, string | Buffer> = { timestamp: String(Date.now() / 1000 - 10), active_app: 'Editor', active_window: 'notes.txt', ...fields };
  const parts: Part[] = Object.entries(base)
    .filter(([, v]) => v !== '__omit__')
    .map(([name, value]) => ({ name, value }));
  parts.push(...extra);
  if (image) parts.push({ name: 'image', value: image, filename: 'frame.png', type: 'image/png' });
  return multipart(parts);
}

/** A 2x2 24-bit BMP (a real image, in a format the server does not take). */
function bmp(): Buffer {
  const row = Buffer.from([0, 0, 255, 0, 255, 0, 0, 0]); // two pixels + 2 bytes padding
  const pixels = Buffer.concat([row, row]);
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + pixels.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(pixels.length, 34);
  return Buffer.concat([header, pixels]);
}

/** A copy of a PNG whose IHDR declares other dimensions (with a correct CRC). */
function resizedHeader(png: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(png);
  copy.writeUInt32BE(width, 16);
  copy.writeUInt32BE(height, 20);
  copy.writeUInt32BE(crc32(copy.subarray(12, 29)), 29);
  return copy;
}

describe('upload validation (inject)', () => {
  let server: InjectServer;
  let png: Buffer;
  before(async () => {
    server = await startInjectServer();
    png = await solidPng(320, 200);
  });
  after(() => server.close());

  const cases: Array<[string, () => Promise<{ body: Buffer; contentType: string }>, number, RegExp]> = [
    ['missing image', async () => form(null), 400, /image/],
    ['missing timestamp', async () => form(png, { timestamp: '__omit__' }), 400, /timestamp/],
    ['missing active_app', async () => form(png, { active_app: '__omit__' }), 400, /active_app/],
    ['missing active_window', async () => form(png, { active_window: '__omit__' }), 400, /active_window/],
    ['non-numeric timestamp', async () => form(png, { timestamp: 'yesterday' }), 400, /timestamp/],
    ['negative timestamp', async () => form(png, { timestamp: '-5' }), 400, /timestamp/],
    ['far-future timestamp', async () => form(png, { timestamp: String(Date.now() / 1000 + 365 * 86400) }), 400, /timestamp/],
    ['capture_id too long', async () => form(png, { capture_id: 'x'.repeat(129) }), 400, /capture_id/],
    ['capture_id with spaces', async () => form(png, { capture_id: 'a b' }), 400, /capture_id/],
    ['monitor not an integer', async () => form(png, { monitor: 'left' }), 400, /monitor/],
    ['100 KB window title', async () => form(png, { active_window: 'w'.repeat(100_000) }), 400, /active_window/],
    ['a text file named .png', async () => form(Buffer.from('hello, I am not an image\n')), 415, /image/],
    ['zero bytes', async () => form(Buffer.alloc(0)), 400, /image/],
    ['a GIF', async () => form(Buffer.from('474946383961010001000000002c00000000010001000002003b', 'hex')), 415, /image/],
    ['a truncated PNG', async () => form(png.subarray(0, png.length - 20)), 400, /image.*truncated/],
    [
      'a PNG with a corrupt chunk',
      async () => {
        const copy = Buffer.from(png);
        copy[60] = copy[60]! ^ 0xff;
        return form(copy);
      },
      400,
      /image.*corrupt/,
    ],
    ['a truncated JPEG', async () => form((await solidJpeg()).subarray(0, 200)), 400, /image/],
    ['a truncated WebP', async () => form((await solidWebp()).subarray(0, 40)), 400, /image/],
    // A real PNG header declaring 50 000 x 50 000 pixels: refused from the header, never decoded.
    ['a pixel bomb', async () => form(resizedHeader(png, 50_000, 50_000)), 413, /pixels/],
    ['the image as a text field', async () => form(null, { image: 'not a file' }), 400, /image/],
    [
      'two image files',
      async () =>
        multipart([
          { name: 'timestamp', value: String(Date.now() / 1000) },
          { name: 'active_app', value: 'a' },
          { name: 'active_window', value: 'w' },
          { name: 'image', value: png, filename: 'a.png' },
          { name: 'image', value: png, filename: 'b.png' },
        ]),
      413,
      /files/,
    ],
    [
      'duplicate timestamp fields',
      async () =>
        multipart([
          { name: 'timestamp', value: '1700000000' },
          { name: 'timestamp', value: '1700000001' },
          { name: 'active_app', value: 'a' },
          { name: 'active_window', value: 'w' },
          { name: 'image', value: png, filename: 'a.png' },
        ]),
      400,
      /timestamp/,
    ],
    ['a JSON body', async () => ({ body: Buffer.from('{"timestamp":1}'), contentType: 'application/json' }), 415, /multipart/],
    ['a missing multipart boundary', async () => ({ body: form(png).body, contentType: 'multipart/form-data' }), 400, /.+/],
    ['a body cut off mid-part', async () => ({ body: form(png).body.subarray(0, 300), contentType: form(png).contentType }), 400, /.+/],
    ['a plain-text body', async () => ({ body: Buffer.from('hello'), contentType: 'text/plain' }), 415, /.+/],
    ['invalid UTF-8 in capture_id', async () => form(png, { capture_id: INVALID_UTF8 }), 400, /capture_id/],
    ['invalid UTF-8 in timestamp', async () => form(png, { timestamp: Buffer.concat([Buffer.from('1700000000'), INVALID_UTF8]) }), 400, /timestamp/],
    ['an unknown extra field', async () => form(png, { favourite_colour: 'blue' }), 400, /unknown field 'favourite_colour'/],
    ['a 100 KB unknown field', async () => form(png, { padding: 'p'.repeat(100_000) }), 400, /unknown field 'padding'/],
    ['a 100 KB app name', async () => form(png, { active_app: 'a'.repeat(100_000) }), 400, /active_app/],
    ['a 5 000-character field name', async () => form(png, { ['n'.repeat(5000)]: 'v' }), 400, /unknown field 'n{10,64}'/],
    [
      '20 extra fields',
      async () =>
        form(
          png,
          {},
          Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, value: 'v' })),
        ),
      413,
      /too many form fields/,
    ],
    ['a BMP', async () => form(bmp()), 415, /image/],
    ['an SVG', async () => form(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')), 415, /image/],
    ['a TIFF', async () => form(Buffer.from('49492a00080000000000', 'hex')), 415, /image/],
    ['a PNG of 0 x 0 pixels', async () => form(resizedHeader(png, 0, 0)), 400, /image/],
    ['an infinite timestamp (1e400)', async () => form(png, { timestamp: '1e400' }), 400, /timestamp/],
    ['an empty timestamp', async () => form(png, { timestamp: '' }), 400, /timestamp/],
    ['monitor 256', async () => form(png, { monitor: '256' }), 400, /monitor/],
    ['an empty capture_id', async () => form(png, { capture_id: '' }), 400, /capture_id/],
    ['a negative buffer_bytes', async () => form(png, { buffer_bytes: '-1' }), 400, /buffer_bytes/],
  ];

  for (const [name, build, status, message] of cases) {
    it(`${status}: ${name}`, async () => assertRefusedCleanly(server, await build(), status, message));
  }

  it('accepts invalid UTF-8 in a window title, stored with U+FFFD (the client decodes X11 titles the same way)', async () => {
    const response = await server.postUpload(form(png, { active_window: Buffer.concat([Buffer.from('budget '), INVALID_UTF8]) }));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    const entry = (await server.request({ url: `/api/entries/${response.body.task_id}` })).body;
    assert.equal(entry.title, 'budget a\ufffd\ufffd\ufffd(b');
  });

  it('413 for an image over OPENRECALL_MAX_UPLOAD_MB, keeping nothing', async () => {
    const small = await startInjectServer({ maxUploadBytes: 10_000 });
    try {
      const noisy = Buffer.concat([await solidPng(2000, 2000, '#123456'), Buffer.alloc(20_000, 7)]);
      await assertRefusedCleanly(small, form(noisy), 413, /image.*limit/);
    } finally {
      await small.close();
    }
  });

  it('503 with Retry-After when every upload slot is taken, and 202 once one frees', async () => {
    const busy = await startInjectServer({ maxConcurrentUploads: 1 });
    try {
      const release = busy.uploadGate.tryAcquire()!;
      const refused = await busy.postUpload(form(png));
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'BUSY');
      assert.equal(refused.headers['retry-after'], '2');
      release();
      assert.equal((await busy.postUpload(form(png))).status, 202);
      assert.equal(busy.uploadGate.inFlight, 0, 'the slot is given back after the answer');
    } finally {
      await busy.close();
    }
  });

  it('507 when SQLite is full (SQLITE_FULL on insert), removing the file it had written; 202 once there is room', async () => {
    const full = await startInjectServer();
    try {
      // The database may not grow by a single page: the real error, from the real insert.
      full.db.pragma(`max_page_count = ${full.db.pragma('page_count', { simple: true })}`);
      const title = 'A long window title '.repeat(150);
      let refused: string | undefined;
      for (let i = 0; i < 200 && !refused; i++) {
        const captureId = `sqlite-full-${i}-${'x'.repeat(100)}`;
        const response = await full.postUpload(form(png, { capture_id: captureId, active_window: title }));
        if (response.status === 202) continue;
        assert.equal(response.status, 507, JSON.stringify(response.body));
        assert.match(String(response.body.message), /out of disk space/);
        refused = captureId;
      }
      assert.ok(refused, 'the database filled up');
      await assertRefusedCleanly(full, form(png, { capture_id: `${refused}-again`, active_window: title }), 507, /out of disk space/);
      full.db.pragma('max_page_count = 1073741823');
      assert.equal((await full.postUpload(form(png, { capture_id: refused, active_window: title }))).status, 202);
    } finally {
      await full.close();
    }
  });
});

describe('query and path validation (inject)', () => {
  let server: InjectServer;
  let id: number;
  before(async () => {
    server = await startInjectServer();
    const accepted = await server.postUpload(form(await solidPng(64, 48)));
    assert.equal(accepted.status, 202);
    id = accepted.body.task_id;
  });
  after(() => server.close());

  const rejects = async (url: string, field: string) => {
    const { status, body } = await server.request({ url });
    assert.equal(status, 400, `${url}: ${JSON.stringify(body)}`);
    assert.equal(body.statusCode, 400);
    assert.match(body.message, new RegExp(field), url);
  };

  it('400 naming the parameter on /api/entries', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=501', 'limit'],
      ['status=DONE', 'status'],
      ['before_id=-3', 'before_id'],
      ['after_id=x', 'after_id'],
    ]) {
      await rejects(`/api/entries?${query}`, field!);
    }
  });

  it('400 naming the parameter on /api/search', async () => {
    for (const [params, field] of [
      [{ q: 'x', start: 'last tuesday' }, 'start'],
      [{ q: 'x', end: '12:30' }, 'end'],
      [{ q: 'x', limit: '0' }, 'limit'],
      [{ q: 'x', limit: '1000' }, 'limit'],
      [{ q: 'x', offset: '-1' }, 'offset'],
      [{ q: 'x', sort: 'random' }, 'sort'],
      [{ q: 'x', mode: 'semantic' }, 'mode'],
      [{ q: 'x', status: 'DONE' }, 'status'],
    ] as const) {
      await rejects(`/api/search?${new URLSearchParams(params)}`, field);
    }
  });

  it('one time rule for search and timeline: Unix seconds or ISO 8601 from a full date, anything else 400', async () => {
    for (const t of ['1700000000', '1700000000.5', '2024-05-01', '2024-05-01T09:30:00Z', ' 1700000000 ']) {
      assert.equal((await server.request({ url: `/api/search?${new URLSearchParams({ start: t })}` })).status, 200, `search start=${t}`);
      assert.equal((await server.request({ url: `/api/timeline/locate?${new URLSearchParams({ t })}` })).status, 200, `timeline t=${t}`);
    }
    for (const t of ['yesterday', 'March 7', '1e9', '0x10', '2024-05', '2024-13-45', '12:30']) {
      await rejects(`/api/search?${new URLSearchParams({ start: t })}`, 'start');
      await rejects(`/api/timeline/locate?${new URLSearchParams({ t })}`, "'t'");
    }
  });

  it('400 on the timeline: a page too big, or not exactly one of t and id', async () => {
    await rejects('/api/timeline/frames?limit=100000', 'limit');
    await rejects('/api/timeline/frames?offset=-1', 'offset');
    for (const query of ['', 't=', `t=1&id=${id}`]) await rejects(`/api/timeline/locate?${query}`, "'t'");
    assert.equal((await server.request({ url: '/api/timeline/locate?id=999999999' })).status, 404);
  });

  it('404 for unknown ids and path tricks, never a file outside the data dir', async () => {
    for (const url of [
      `/entries/999999`,
      `/entries/999999/image`,
      `/entries/999999/thumbnail`,
      `/entries/abc`,
      `/entries/1.5`,
      `/entries/-1`,
      `/entries/..%2F..%2Fdb%2Frecall.db/image`,
      `/entries/%2e%2e/image`,
      `/entries/1/image/../../db/recall.db`,
      `/entries/${id}/../../../etc/passwd`,
      `/entries/0x10`,
      `/entries/1e3`,
    ]) {
      const { status, body } = await server.request({ url: `/api${url}` });
      assert.equal(status, 404, url);
      assert.equal(body.statusCode, 404);
    }
    assert.equal((await server.request({ method: 'DELETE', url: '/api/entries/999999' })).status, 404);
    assert.equal((await server.request({ method: 'POST', url: '/api/entries/999999/retry' })).status, 404);
  });

  it('409 for retrying a frame that has not failed', async () => {
    const { status, body } = await server.request({ method: 'POST', url: `/api/entries/${id}/retry` });
    assert.equal(status, 409);
    assert.equal(body.error, 'NOT_FAILED');
  });
});

describe('401 on every documented route without the token (inject)', () => {
  let server: InjectServer;
  let id: number;
  before(async () => {
    server = await startInjectServer({ apiToken: TOKEN });
    const accepted = await server.postUpload(form(await solidPng(64, 48)), { authorization: `Bearer ${TOKEN}` });
    assert.equal(accepted.status, 202);
    id = accepted.body.task_id;
  });
  after(() => server.close());

  it('answers 401 with WWW-Authenticate and the error body, whatever the wrong credential', async () => {
    const doc = await server.request({ url: '/api/openapi.json', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(doc.status, 200);
    const routes: Array<[string, string]> = [];
    for (const [route, methods] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(methods)) routes.push([method.toUpperCase(), route]);
    }
    routes.push(['GET', '/api/openapi.json'], ['HEAD', '/api/entries/{id}/image']);
    assert.ok(routes.length >= 17, `${routes.length} routes`);
    const wrong = [
      {},
      { authorization: 'Bearer wrong-token-0123456789abcdef' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
      { cookie: 'openrecall_session=forged' },
      { cookie: `openrecall_session=${TOKEN}` },
    ];
    for (const [method, route] of routes) {
      if (route === '/api/health' || route === '/api/session') continue; // open by design
      for (const headers of wrong) {
        const what = `${method} ${route} with ${JSON.stringify(headers)}`;
        const response = await server.request({ method: method as 'GET', url: route.replace('{id}', String(id)), headers });
        assert.equal(response.status, 401, what);
        assert.match(String(response.headers['www-authenticate'] ?? ''), /^Bearer/, what);
        assert.equal(response.headers['x-content-type-options'], 'nosniff', what);
        assert.equal(response.headers['x-frame-options'], 'DENY', what);
        assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/, what);
        // MyRecall v3's routes answer in its error shape: the code under `code`, the message under `error`.
        if (method !== 'HEAD') assert.equal(route.startsWith('/v1/') ? response.body.code : response.body.error, 'UNAUTHORIZED', what);
      }
      const right = await server.request({ method: method as 'GET', url: route.replace('{id}', String(id)), headers: { authorization: `Bearer ${TOKEN}` } });
      assert.ok(right.status !== 401 && right.status < 500, `${method} ${route} with the right token: ${right.status} ${JSON.stringify(right.body)}`);
    }
  });

  it('an upload without the token is refused with 401 and stores nothing', async () => {
    await assertRefusedCleanly(server, form(await solidPng(64, 48)), 401, /token/i);
  });
});

// Fastify compiled every route's validator and serializers before listening: half of the server's start, for routes
// most runs never call. Now each compiles at its first request, the rest a while after the start (lazy-schemas.ts).
describe('schemas compiled on first use (inject)', () => {
  let server: InjectServer;
  before(async () => {
    server = await startInjectServer();
  });
  after(() => server.close());

  it('leaves the routes uncompiled at the start, compiles one at its first request and validates exactly as before', async () => {
    const schemas = server.app.lazySchemas;
    const atStart = schemas.pending;
    assert.ok(atStart > 50, `${atStart} schemas waiting at the start`);
    const refused = await server.request({ url: '/api/entries?limit=0' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /limit/);
    assert.ok(schemas.pending < atStart, 'the route compiled its schemas');
    const answered = await server.request({ url: '/api/entries?limit=5' });
    assert.equal(answered.status, 200);
    assert.deepEqual(answered.body.entries, []);
  });

  it('compiles the other routes only once requests pause, so uploads right after a start never wait behind it', async () => {
    const schemas = server.app.lazySchemas;
    await server.request({ url: '/api/health' });
    const waiting = schemas.pending;
    // A request every 100 ms, past the 3 s after which the warm-up begins.
    const busyUntil = performance.now() + 4_500;
    while (performance.now() < busyUntil) {
      assert.equal((await server.request({ url: '/api/health' })).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(schemas.pending, waiting, 'no route was compiled while requests kept coming');
    await waitUntil(async () => schemas.pending === 0, { what: 'the warm-up, once requests paused', timeoutMs: 10_000 });
  });

  it('every route schema compiles', () => {
    server.app.lazySchemas.compileAll();
    assert.equal(server.app.lazySchemas.pending, 0);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { solidJpeg, solidPng, solidWebp } from './helpers/images.js';
import { startInjectServer, type InjectServer } from './helpers/inject-app.js';
import { incomingUploads } from './helpers/upload-reserve.js';

// What ingest stores, through inject (no processor: frames stay PENDING). The validation matrix (every refused
// upload) is in api-validation.test.ts; uploads over real HTTP by the client code run in the client and CLI tests.

type Server = InjectServer;

describe('POST /api/upload', () => {
  let server: Server;
  let png: Buffer;

  const others: Server[] = [];
  const another = async (overrides: Parameters<typeof startInjectServer>[0]) => {
    const extra = await startInjectServer(overrides);
    others.push(extra);
    return extra;
  };
  after(async () => {
    await Promise.all([server, ...others].map((s) => s.close()));
  });

  before(async () => {
    server = await startInjectServer({ lifoThreshold: 1000 });
    png = await solidPng(320, 200);
  });

  const rowCount = () => server.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
  const incomingFiles = () => incomingUploads(server.dataDir);

  it('accepts PNG, JPEG and WebP with 202, a PENDING row and the original bytes on disk', async () => {
    for (const image of [png, await solidJpeg(), await solidWebp(), await solidWebp(64, 48, true)]) {
      const response = await server.upload({ image, app: 'Firefox', title: 'Inbox (3)', monitor: 1 });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.equal(response.body.status, 'accepted');
      assert.equal(typeof response.body.elapsed_ms, 'number');
      assert.equal(response.body.debug, undefined, 'debug block only with OPENRECALL_DEBUG');
      const entry = (await server.request({ url: `/api/entries/${response.body.task_id}` })).body;
      assert.equal(entry.status, 'PENDING');
      assert.equal(entry.app, 'Firefox');
      assert.equal(entry.title, 'Inbox (3)');
      assert.equal(entry.monitor, 1);
      assert.equal(entry.bytes, image.length);
      const stored = await server.app.inject({ url: entry.image_url, authority: '127.0.0.1' });
      assert.equal(stored.statusCode, 200);
      assert.deepEqual(stored.rawPayload, image);
    }
  });

  it('is idempotent on capture_id: a repeat answers 200 duplicate and stores nothing', async () => {
    const first = await server.upload({ image: png, captureId: 'cap-0001' });
    assert.equal(first.status, 202);
    const rows = rowCount();
    const files = incomingFiles().length;
    const again = await server.upload({ image: png, captureId: 'cap-0001' });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: 'duplicate', task_id: first.body.task_id });
    assert.equal(rowCount(), rows);
    assert.equal(incomingFiles().length, files);
  });

  it('stores two different frames with the same timestamp (two monitors, same second) as two entries', async () => {
    const timestamp = Math.floor(Date.now() / 1000) - 5;
    const a = await server.upload({ image: png, timestamp, monitor: 0, captureId: 'same-second-a' });
    const b = await server.upload({ image: await solidPng(320, 200, '#ff0000'), timestamp, monitor: 1, captureId: 'same-second-b' });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    assert.notEqual(a.body.task_id, b.body.task_id);
  });

  it('answers concurrent identical capture_ids with exactly one accepted frame', async () => {
    const responses = await Promise.all(Array.from({ length: 8 }, () => server.upload({ image: png, captureId: 'race-1' })));
    assert.equal(responses.filter((r) => r.status === 202).length, 1);
    assert.equal(responses.filter((r) => r.status === 200).length, 7);
    assert.equal(server.db.prepare(`SELECT count(*) FROM entries WHERE capture_id = 'race-1'`).pluck().get(), 1);
    const referenced = server.db.prepare(`SELECT count(*) FROM entries WHERE image_path LIKE 'screenshots/incoming/%'`).pluck().get();
    assert.equal(incomingFiles().length, referenced, 'losers of the race leave no file behind');
  });

  it('includes queue size and processing mode when OPENRECALL_DEBUG is on', async () => {
    const debug = await another({ debug: true, lifoThreshold: 1 });
    const first = await debug.upload({ image: png });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual(first.body.debug, { queue_size: 1, processing_mode: 'FIFO' });
    const second = await debug.upload({ image: png });
    assert.deepEqual(second.body.debug, { queue_size: 2, processing_mode: 'LIFO' });
  });

  it('documents the routes in an OpenAPI document generated from the same schemas', async () => {
    const { status, body } = await server.request({ url: '/api/openapi.json' });
    assert.equal(status, 200);
    assert.match(body.openapi, /^3\./);
    const upload = body.paths['/api/upload'].post;
    const schema = upload.requestBody.content['multipart/form-data'].schema;
    assert.deepEqual(schema.required.sort(), ['active_app', 'active_window', 'image', 'timestamp']);
    assert.equal(schema.properties.image.format, 'binary');
    for (const route of [
      '/api/health',
      '/api/queue/status',
      '/api/queue/retry_failed',
      '/api/entries',
      '/api/entries/{id}',
      '/api/entries/{id}/image',
      '/api/entries/{id}/thumbnail',
      '/api/entries/{id}/retry',
    ]) {
      assert.ok(body.paths[route], `${route} documented`);
    }
  });
});

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJson, upload } from './helpers/api.js';
import { solidJpeg, solidPng, solidWebp } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { listFilesRecursive } from './helpers/temp-dir.js';
import { assertRefusedCleanly, multipart, type Part } from './helpers/multipart.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

function form(image: Buffer | null, fields: Record<string, string> = {}) {
  const base: Record<string, string> = { timestamp: String(Date.now() / 1000), active_app: 'Editor', active_window: 'notes.txt', ...fields };
  const parts: Part[] = Object.entries(base)
    .filter(([, v]) => v !== '__omit__')
    .map(([name, value]) => ({ name, value }));
  if (image) parts.push({ name: 'image', value: image, filename: 'frame.png', type: 'image/png' });
  return multipart(parts);
}


describe('POST /api/upload', () => {
  let server: Server;
  let png: Buffer;

  const others: Server[] = [];
  const another = async (overrides: Parameters<typeof startInProcessServer>[0]) => {
    const extra = await startInProcessServer(overrides);
    others.push(extra);
    return extra;
  };
  after(async () => {
    await Promise.all([server, ...others].map((s) => s.close()));
  });

  before(async () => {
    server = await startInProcessServer({ lifoThreshold: 1000 });
    await server.processor.stop(0); // keep frames PENDING: this file checks what ingest stores
    png = await solidPng(320, 200);
  });

  const rowCount = () => server.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
  const incomingFiles = () => listFilesRecursive(path.join(server.dataDir, 'screenshots', 'incoming'));

  it('accepts PNG, JPEG and WebP with 202, a PENDING row and the original bytes on disk', async () => {
    for (const image of [png, await solidJpeg(), await solidWebp(), await solidWebp(64, 48, true)]) {
      const response = await upload(server.api, { image, app: 'Firefox', title: 'Inbox (3)', monitor: 1 });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.equal(response.body.status, 'accepted');
      assert.equal(typeof response.body.elapsed_ms, 'number');
      assert.equal(response.body.debug, undefined, 'debug block only with OPENRECALL_DEBUG');
      const entry = (await getJson(`${server.api}/entries/${response.body.task_id}`)).body;
      assert.equal(entry.status, 'PENDING');
      assert.equal(entry.app, 'Firefox');
      assert.equal(entry.title, 'Inbox (3)');
      assert.equal(entry.monitor, 1);
      assert.equal(entry.bytes, image.length);
      const stored = await fetch(`${server.url}${entry.image_url}`);
      assert.equal(stored.status, 200);
      assert.deepEqual(Buffer.from(await stored.arrayBuffer()), image);
    }
  });

  it('is idempotent on capture_id: a repeat answers 200 duplicate and stores nothing', async () => {
    const first = await upload(server.api, { image: png, captureId: 'cap-0001' });
    assert.equal(first.status, 202);
    const rows = rowCount();
    const files = incomingFiles().length;
    const again = await upload(server.api, { image: png, captureId: 'cap-0001' });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: 'duplicate', task_id: first.body.task_id });
    assert.equal(rowCount(), rows);
    assert.equal(incomingFiles().length, files);
  });

  it('stores two different frames with the same timestamp (two monitors, same second) as two entries', async () => {
    const timestamp = Math.floor(Date.now() / 1000) - 5;
    const a = await upload(server.api, { image: png, timestamp, monitor: 0, captureId: 'same-second-a' });
    const b = await upload(server.api, { image: await solidPng(320, 200, '#ff0000'), timestamp, monitor: 1, captureId: 'same-second-b' });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    assert.notEqual(a.body.task_id, b.body.task_id);
  });

  it('answers concurrent identical capture_ids with exactly one accepted frame', async () => {
    const responses = await Promise.all(Array.from({ length: 8 }, () => upload(server.api, { image: png, captureId: 'race-1' })));
    assert.equal(responses.filter((r) => r.status === 202).length, 1);
    assert.equal(responses.filter((r) => r.status === 200).length, 7);
    assert.equal(server.db.prepare(`SELECT count(*) FROM entries WHERE capture_id = 'race-1'`).pluck().get(), 1);
    const referenced = server.db.prepare(`SELECT count(*) FROM entries WHERE image_path LIKE 'screenshots/incoming/%'`).pluck().get();
    assert.equal(incomingFiles().length, referenced, 'losers of the race leave no file behind');
  });

  describe('rejects bad requests with a 4xx naming the problem, leaving no file and no row', () => {
    const truncatedPng = async () => png.subarray(0, png.length - 20);
    const corruptPng = async () => {
      const copy = Buffer.from(png);
      copy[60] = copy[60]! ^ 0xff;
      return copy;
    };
    const pixelBomb = async () => {
      // A real PNG header declaring 50 000 x 50 000 pixels: refused from the header, never decoded.
      const small = Buffer.from(png);
      small.writeUInt32BE(50_000, 16);
      small.writeUInt32BE(50_000, 20);
      const crc = (await import('node:zlib')).crc32(small.subarray(12, 29));
      small.writeUInt32BE(crc, 29);
      return small;
    };
    const gif = async () => Buffer.from('474946383961010001000000002c00000000010001000002003b', 'hex');
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
      ['a GIF', async () => form(await gif()), 415, /image/],
      ['a truncated PNG', async () => form(await truncatedPng()), 400, /image.*truncated/],
      ['a PNG with a corrupt chunk', async () => form(await corruptPng()), 400, /image.*corrupt/],
      ['a truncated JPEG', async () => form((await solidJpeg()).subarray(0, 200)), 400, /image/],
      ['a truncated WebP', async () => form((await solidWebp()).subarray(0, 40)), 400, /image/],
      ['a pixel bomb', async () => form(await pixelBomb()), 413, /pixels/],
      ['the image as a text field', async () => form(null, { image: 'not a file' }), 400, /image/],
      ['two image files', async () => multipart([
        { name: 'timestamp', value: String(Date.now() / 1000) }, { name: 'active_app', value: 'a' }, { name: 'active_window', value: 'w' },
        { name: 'image', value: png, filename: 'a.png' }, { name: 'image', value: png, filename: 'b.png' },
      ]), 413, /files/],
      ['duplicate timestamp fields', async () => multipart([
        { name: 'timestamp', value: '1700000000' }, { name: 'timestamp', value: '1700000001' }, { name: 'active_app', value: 'a' },
        { name: 'active_window', value: 'w' }, { name: 'image', value: png, filename: 'a.png' },
      ]), 400, /timestamp/],
      ['a JSON body', async () => ({ body: Buffer.from('{"timestamp":1}'), contentType: 'application/json' }), 415, /multipart/],
      ['a missing multipart boundary', async () => ({ body: form(png).body, contentType: 'multipart/form-data' }), 400, /.+/],
      ['a body cut off mid-part', async () => ({ body: form(png).body.subarray(0, 300), contentType: form(png).contentType }), 400, /.+/],
      ['a plain-text body', async () => ({ body: Buffer.from('hello'), contentType: 'text/plain' }), 415, /.+/],
    ];

    for (const [name, build, status, message] of cases) {
      it(name, async () => assertRefusedCleanly(server, await build(), status, message));
    }
  });

  it('answers 413 for an image over OPENRECALL_MAX_UPLOAD_MB and keeps nothing', async () => {
    const small = await another({ maxUploadBytes: 10_000 });
    const big = await solidPng(2000, 2000, '#123456');
    const noisy = Buffer.concat([big, Buffer.alloc(20_000, 7)]);
    const response = await upload(small.api, { image: noisy });
    assert.equal(response.status, 413);
    assert.match(String(response.body.message), /image.*limit/);
    assert.equal(small.db.prepare('SELECT count(*) FROM entries').pluck().get(), 0);
    assert.deepEqual(listFilesRecursive(path.join(small.dataDir, 'screenshots')), []);
  });

  it('includes queue size and processing mode when OPENRECALL_DEBUG is on', async () => {
    const debug = await another({ debug: true, lifoThreshold: 1 });
    await debug.processor.stop(0);
    const first = await upload(debug.api, { image: png });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual(first.body.debug, { queue_size: 1, processing_mode: 'FIFO' });
    const second = await upload(debug.api, { image: png });
    assert.deepEqual(second.body.debug, { queue_size: 2, processing_mode: 'LIFO' });
  });

  it('documents the routes in an OpenAPI document generated from the same schemas', async () => {
    const { status, body } = await getJson(`${server.api}/openapi.json`);
    assert.equal(status, 200);
    assert.match(body.openapi, /^3\./);
    const upload = body.paths['/api/upload'].post;
    const schema = upload.requestBody.content['multipart/form-data'].schema;
    assert.deepEqual(schema.required.sort(), ['active_app', 'active_window', 'image', 'timestamp']);
    assert.equal(schema.properties.image.format, 'binary');
    for (const route of ['/api/health', '/api/queue/status', '/api/queue/retry_failed', '/api/entries', '/api/entries/{id}', '/api/entries/{id}/image', '/api/entries/{id}/thumbnail', '/api/entries/{id}/retry']) {
      assert.ok(body.paths[route], `${route} documented`);
    }
  });
});

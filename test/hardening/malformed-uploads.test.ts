import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { corruptZlibPng } from './helpers.js';
import { assertRefusedCleanly, multipart, postRaw, type Part, type RawBody } from '../helpers/multipart.js';

// More malformed uploads, beyond the 26 of test/upload.test.ts (together: 40). Each must be refused with a 4xx
// naming the problem, leave no file and no row, and leave the server serving.

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

function form(image: Buffer, fields: Record<string, string | Buffer> = {}, extra: Part[] = []) {
  const base: Record<string, string | Buffer> = { timestamp: String(Date.now() / 1000 - 10), active_app: 'Editor', active_window: 'notes.txt', ...fields };
  return multipart([...Object.entries(base).map(([name, value]) => ({ name, value })), ...extra, { name: 'image', value: image, filename: 'frame.png', type: 'image/png' }]);
}

const post = (server: Server, body: RawBody) => postRaw(server.api, body);

const INVALID_UTF8 = Buffer.from([0x61, 0xff, 0xfe, 0xc3, 0x28, 0x62]);

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

/** A PNG whose IHDR declares 0 x 0 pixels (with a correct CRC). */
function zeroSizePng(png: Buffer): Buffer {
  const copy = Buffer.from(png);
  copy.writeUInt32BE(0, 16);
  copy.writeUInt32BE(0, 20);
  copy.writeUInt32BE(crc32(copy.subarray(12, 29)), 29);
  return copy;
}

describe('malformed uploads (more)', () => {
  let server: Server;
  let png: Buffer;

  before(async () => {
    server = await startInProcessServer({});
    await server.processor.stop(0);
    png = await solidPng(160, 100);
  });
  after(async () => {
    await server?.close();
  });


  const cases: Array<[string, () => { body: Buffer; contentType: string }, number, RegExp]> = [
    ['invalid UTF-8 in capture_id', () => form(png, { capture_id: INVALID_UTF8 }), 400, /capture_id/],
    ['invalid UTF-8 in timestamp', () => form(png, { timestamp: Buffer.concat([Buffer.from('1700000000'), INVALID_UTF8]) }), 400, /timestamp/],
    ['an unknown extra field', () => form(png, { favourite_colour: 'blue' }), 400, /unknown field 'favourite_colour'/],
    ['a 100 KB unknown field', () => form(png, { padding: 'p'.repeat(100_000) }), 400, /unknown field 'padding'/],
    ['a 100 KB app name', () => form(png, { active_app: 'a'.repeat(100_000) }), 400, /active_app/],
    ['a 5 000-character field name', () => form(png, { ['n'.repeat(5000)]: 'v' }), 400, /unknown field 'n{10,64}'/],
    ['20 extra fields', () => form(png, {}, Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, value: 'v' }))), 413, /too many form fields/],
    ['a BMP', () => form(bmp()), 415, /image/],
    ['an SVG', () => form(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')), 415, /image/],
    ['a TIFF', () => form(Buffer.from('49492a00080000000000', 'hex')), 415, /image/],
    ['a PNG of 0 x 0 pixels', () => form(zeroSizePng(png)), 400, /image/],
    ['an infinite timestamp (1e400)', () => form(png, { timestamp: '1e400' }), 400, /timestamp/],
    ['an empty timestamp', () => form(png, { timestamp: '' }), 400, /timestamp/],
    ['monitor 256', () => form(png, { monitor: '256' }), 400, /monitor/],
    ['an empty capture_id', () => form(png, { capture_id: '' }), 400, /capture_id/],
    ['a negative buffer_bytes', () => form(png, { buffer_bytes: '-1' }), 400, /buffer_bytes/],
  ];

  for (const [name, build, status, message] of cases) {
    it(name, () => assertRefusedCleanly(server, build(), status, message));
  }

  it('invalid UTF-8 in a window title is stored with U+FFFD (the client decodes X11 titles the same way), not refused', async () => {
    const response = await post(server, form(png, { active_window: Buffer.concat([Buffer.from('budget '), INVALID_UTF8]) }));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    const entry = (await getJson(`${server.api}/entries/${response.body.task_id}`)).body;
    assert.equal(entry.title, 'budget a\ufffd\ufffd\ufffd(b');
  });
});

describe('a PNG whose chunks are valid but whose zlib stream is corrupt', () => {
  let server: Server;
  after(async () => {
    await server?.close();
  });

  it('is accepted (202: ingest checks structure only) and FAILS in the processor with "image cannot be decoded"; the next frame proceeds', async () => {
    server = await startInProcessServer({ ocrEngine: 'none' });
    const png = await solidPng(160, 100, '#445566');
    const bad = await upload(server.api, { image: corruptZlibPng(png), captureId: 'corrupt-zlib' });
    assert.equal(bad.status, 202, JSON.stringify(bad.body));
    const good = await upload(server.api, { image: png, captureId: 'after-corrupt-zlib' });
    assert.equal(good.status, 202);
    const failed = await waitUntil(
      async () => {
        const entry = (await getJson(`${server.api}/entries/${bad.body.task_id}`)).body;
        return entry.status === 'FAILED' ? entry : undefined;
      },
      { what: 'the corrupt frame FAILED', timeoutMs: 60_000 },
    );
    assert.match(failed.last_error, /^image: image cannot be decoded/);
    assert.equal(failed.attempts, 1, 'a permanent failure is not retried');
    await waitUntil(async () => (await getJson(`${server.api}/entries/${good.body.task_id}`)).body.status === 'COMPLETED', { what: 'the good frame', timeoutMs: 60_000 });
  });
});

import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { multipart } from '../helpers/multipart.js';
import { incomingUploads } from '../helpers/upload-reserve.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

/** Sends the headers and the first `bytes` of a body over a raw socket, then drops the connection. */
async function abandon(url: string, body: Buffer, contentType: string, bytes: number): Promise<void> {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`);
  socket.write(body.subarray(0, bytes));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the server has started writing the image
  socket.destroy();
}

describe('an upload streamed to disk as it arrives', () => {
  let server: Server;
  let image: Buffer;
  const incoming = () => incomingUploads(server.dataDir);

  before(async () => {
    server = await startInProcessServer();
    await server.processor.stop(0); // uploads stay in incoming/, where they can be counted
    image = await solidPng(1600, 1000, '#224466');
  });
  after(() => server.close());

  it('leaves no file when the client goes away in the middle of the image', async () => {
    const { body, contentType } = multipart([
      { name: 'timestamp', value: String(Date.now() / 1000 - 5) },
      { name: 'active_app', value: 'Editor' },
      { name: 'active_window', value: 'cut off' },
      { name: 'image', value: Buffer.concat([image, Buffer.alloc(300_000, 1)]), filename: 'a.png', type: 'image/png' },
    ]);
    await abandon(server.url, body, contentType, Math.floor(body.length / 2));
    await waitUntil(() => incoming().length === 0, { what: 'the part file to be removed', timeoutMs: 10_000 });
    assert.equal(server.db.prepare('SELECT count(*) FROM entries').pluck().get(), 0);
    assert.equal((await getJson(`${server.api}/health`)).status, 200);
  });

  it('keeps exactly the accepted file, under its final name, with the bytes sent', async () => {
    const response = await upload(server.api, { image });
    assert.equal(response.status, 202);
    const files = incoming();
    assert.equal(files.length, 1);
    // Written in place, in a file created ahead; the row keeps the bytes' count and CRC-32 (a torn copy is told from a whole one).
    assert.match(files[0]!, /^[0-9a-f-]{36}\.png$/);
    const row = server.db.prepare('SELECT image_path, bytes, width, height, upload_check FROM entries WHERE id = ?').get(response.body.task_id) as Record<
      string,
      unknown
    >;
    assert.deepEqual(row, {
      image_path: `screenshots/incoming/${files[0]}`,
      bytes: image.length,
      width: 1600,
      height: 1000,
      upload_check: `${image.length}-${zlib.crc32(image).toString(16).padStart(8, '0')}`,
    });
  });
});

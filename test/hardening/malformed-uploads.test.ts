import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { corruptZlibPng } from './helpers.js';

// Malformed uploads that get past ingest (the refused ones are in test/api-validation.test.ts, through inject).

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

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
    await waitUntil(async () => (await getJson(`${server.api}/entries/${good.body.task_id}`)).body.status === 'COMPLETED', {
      what: 'the good frame',
      timeoutMs: 60_000,
    });
  });
});

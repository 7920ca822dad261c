import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { after, before, describe, it } from 'node:test';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { solidPng } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { STORE_KINDS } from './helpers/stores.js';
import { listFilesRecursive } from './helpers/temp-dir.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

const T0 = 1_760_000_000;
/** Capture times in minutes after T0, in an order unlike the ids (two frames share a minute). */
const MINUTES = [3, 0, 5, 1, 6, 1, 4];

for (const kind of STORE_KINDS)
  describe(`entries API (${kind})`, () => {
    let server: Server;
    const ids: number[] = [];
    after(() => server.close());

    before(async () => {
      server = await startInProcessServer({ ocrEngine: 'none' }, { store: kind });
      for (let i = 0; i < 7; i++) {
        const response = await upload(server.api, {
          image: await solidPng(640, 400, `#${(i * 30 + 20).toString(16).padStart(2, '0')}3366`),
          app: i % 2 ? 'Terminal' : 'Firefox',
          title: `window ${i}`,
          captureId: `entries-${i}`,
          timestamp: T0 + MINUTES[i]! * 60,
          monitor: i % 2,
        });
        ids.push(response.body.task_id as number);
      }
      await waitUntil(async () => (await queueCounts(server.api)).completed === 7, { what: 'processing' });
    });

    it('lists newest first with cursor pagination over before_id', async () => {
      const first = (await getJson(`${server.api}/entries?limit=3`)).body;
      assert.deepEqual(
        first.entries.map((e: any) => e.id),
        [ids[6], ids[5], ids[4]],
      );
      const second = (await getJson(`${server.api}/entries?limit=3&before_id=${first.next_before_id}`)).body;
      assert.deepEqual(
        second.entries.map((e: any) => e.id),
        [ids[3], ids[2], ids[1]],
      );
      const last = (await getJson(`${server.api}/entries?limit=3&before_id=${second.next_before_id}`)).body;
      assert.deepEqual(
        last.entries.map((e: any) => e.id),
        [ids[0]],
      );
      assert.equal(last.next_before_id, null);
    });

    it('returns only frames newer than after_id (for live updates), newest first', async () => {
      const { body } = await getJson(`${server.api}/entries?after_id=${ids[4]}`);
      assert.deepEqual(
        body.entries.map((e: any) => e.id),
        [ids[6], ids[5]],
      );
    });

    it('filters by status and app', async () => {
      const terminal = (await getJson(`${server.api}/entries?app=Terminal`)).body.entries;
      assert.equal(terminal.length, 3);
      assert.ok(terminal.every((e: any) => e.app === 'Terminal'));
      assert.equal((await getJson(`${server.api}/entries?status=FAILED`)).body.entries.length, 0);
      assert.equal((await getJson(`${server.api}/entries?status=COMPLETED`)).body.entries.length, 7);
    });

    it('walks the timeline in capture-time order (ties by id) and locates a frame by time or id', async () => {
      const summary = (await getJson(`${server.api}/timeline`)).body;
      assert.deepEqual(summary, { count: 7, first_timestamp: T0, last_timestamp: T0 + 6 * 60 });
      const page = (await getJson(`${server.api}/timeline/frames?offset=1&limit=3`)).body;
      assert.equal(page.total, 7);
      assert.deepEqual(
        page.frames.map((f: any) => [f.index, f.id]),
        [
          [1, ids[3]],
          [2, ids[5]],
          [3, ids[0]],
        ],
      );
      assert.equal(page.frames[0].image_url, `/api/entries/${ids[3]}/image`);
      const near = (await getJson(`${server.api}/timeline/locate?t=${T0 + 250}`)).body;
      assert.deepEqual([near.total, near.frame.index, near.frame.id], [7, 4, ids[6]]);
      const byId = (await getJson(`${server.api}/timeline/locate?id=${ids[5]}`)).body;
      assert.deepEqual([byId.frame.index, byId.frame.timestamp], [2, T0 + 60]);
      assert.equal((await getJson(`${server.api}/timeline/locate?id=999999999`)).status, 404);
    });

    it('returns one entry with every field (and no raw vector)', async () => {
      const { status, body } = await getJson(`${server.api}/entries/${ids[1]}`);
      assert.equal(status, 200);
      assert.equal(body.capture_id, 'entries-1');
      assert.equal(body.app, 'Terminal');
      assert.equal(body.monitor, 1);
      assert.equal(body.status, 'COMPLETED');
      assert.equal(body.width, 640);
      assert.equal(body.height, 400);
      assert.match(body.image_path, /^screenshots\/\d{4}\/\d{2}\/\d{2}\/\d+\.webp$/);
      for (const field of ['received_at', 'processing_started_at', 'processing_finished_at', 'attempts', 'last_error', 'bytes'])
        assert.ok(field in body, field);
      assert.equal('embedding' in body, false);
    });

    it('serves the stored image as lossless WebP and a small WebP thumbnail', async () => {
      const image = await fetch(`${server.api}/entries/${ids[0]}/image`);
      assert.equal(image.headers.get('content-type'), 'image/webp');
      const bytes = Buffer.from(await image.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.width, 640);
      const original = await solidPng(640, 400, '#143366');
      const [a, b] = await Promise.all([sharp(bytes).raw().toBuffer(), sharp(original).raw().toBuffer()]);
      assert.ok(a.equals(b), 'pixels identical to the upload');
      const thumb = await fetch(`${server.api}/entries/${ids[0]}/thumbnail`);
      assert.equal(thumb.headers.get('content-type'), 'image/webp');
      const thumbMeta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
      assert.ok(thumbMeta.width! <= 384);
    });

    it('deletes a frame: row, image and thumbnail', async () => {
      const id = ids[2]!;
      const entry = (await getJson(`${server.api}/entries/${id}`)).body;
      const imageFile = path.join(server.dataDir, entry.image_path);
      assert.ok(fs.existsSync(imageFile));
      const response = await fetch(`${server.api}/entries/${id}`, { method: 'DELETE' });
      assert.equal(response.status, 200);
      assert.equal((await getJson(`${server.api}/entries/${id}`)).status, 404);
      assert.equal(fs.existsSync(imageFile), false);
      assert.ok(!listFilesRecursive(path.join(server.dataDir, 'thumbnails')).includes(`${id}.webp`));
      assert.equal((await fetch(`${server.api}/entries/${id}/image`)).status, 404);
    });

    it('retries a FAILED frame through the API and refuses to retry others', async () => {
      const response = await upload(server.api, { image: await solidPng(50, 50), captureId: 'to-fail' });
      const id = response.body.task_id;
      await waitUntil(async () => (await getJson(`${server.api}/entries/${id}`)).body.status === 'COMPLETED', { what: 'completed' });
      assert.equal((await fetch(`${server.api}/entries/${id}/retry`, { method: 'POST' })).status, 409);
      await server.store.frames.failCompleted(id as number, 'boom');
      assert.equal((await getJson(`${server.api}/entries/${id}`)).body.last_error, 'boom');
      const retry = await fetch(`${server.api}/entries/${id}/retry`, { method: 'POST' });
      assert.equal(retry.status, 200);
      await waitUntil(async () => (await getJson(`${server.api}/entries/${id}`)).body.status === 'COMPLETED', { what: 'completed again' });
    });

    it('retry_failed re-queues every FAILED frame and reports how many', async () => {
      for (const id of [ids[3]!, ids[4]!]) await server.store.frames.failCompleted(id, 'boom');
      assert.equal((await queueCounts(server.api)).failed, 2);
      const response = await getJson(`${server.api}/queue/retry_failed`, { method: 'POST' });
      assert.deepEqual(response.body, { retried: 2 });
      await waitUntil(async () => (await queueCounts(server.api)).failed === 0 && (await queueCounts(server.api)).pending === 0, { what: 'requeued' });
    });

    it('reports queue status with counts, mode, throughput and the age of the oldest pending frame', async () => {
      const { body } = await getJson(`${server.api}/queue/status`);
      assert.deepEqual(Object.keys(body.queue).sort(), ['completed', 'failed', 'pending', 'processing']);
      assert.equal(body.config.lifo_threshold, 10);
      assert.equal(body.config.current_mode, 'FIFO');
      assert.ok(body.throughput.completed_last_minute >= 7);
      assert.equal(body.oldest_pending_age_seconds, null);
      assert.equal(typeof body.system.rss_mb, 'number');
      await server.processor.stop(1000);
      await upload(server.api, { image: await solidPng(20, 20) });
      await new Promise((r) => setTimeout(r, 1100));
      const later = (await getJson(`${server.api}/queue/status`)).body;
      assert.equal(later.queue.pending, 1);
      assert.ok(later.oldest_pending_age_seconds >= 1);
    });
  });

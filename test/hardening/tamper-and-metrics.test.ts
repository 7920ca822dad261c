import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { uploadFrame } from '../../src/api-client/upload.js';
import { getJson, upload, waitUntil } from '../helpers/api.js';
import { renderTextImage, solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bearer, corruptZlibPng, TOKEN } from './helpers.js';
import { incomingUploads } from '../helpers/upload-reserve.js';

// Two servers on one data dir: the second refuses (data-dir lock) — see test/process.test.ts,
// "refuses a second server on the same data dir with a clear message".

describe('screenshots tampered with behind the server', () => {
  let server: Awaited<ReturnType<typeof startInProcessServer>>;
  after(async () => {
    await server?.close();
  });

  it('a deleted or corrupted upload FAILS with its reason; the other frames complete', async () => {
    server = await startInProcessServer({ ocrEngine: 'none' });
    await server.processor.stop(0); // uploads wait in screenshots/incoming
    const ids: Record<string, number> = {};
    for (const name of ['ok-1', 'deleted', 'overwritten', 'truncated', 'ok-2']) {
      const response = await upload(server.api, { image: await solidPng(120, 90, name.startsWith('ok') ? '#224466' : '#664422'), captureId: name });
      assert.equal(response.status, 202);
      ids[name] = response.body.task_id!;
    }
    const file = (name: string) => path.join(server.dataDir, server.db.prepare('SELECT image_path FROM entries WHERE id = ?').pluck().get(ids[name]) as string);
    fs.rmSync(file('deleted'));
    const overwritten = fs.readFileSync(file('overwritten'));
    fs.writeFileSync(file('overwritten'), Buffer.concat([overwritten.subarray(0, 8), Buffer.alloc(overwritten.length - 8, 0x5a)]));
    fs.truncateSync(file('truncated'), 60);

    await server.processor.start();
    const final = await waitUntil(
      async () => {
        const entries = (await getJson(`${server.api}/entries?limit=10`)).body.entries as Array<{
          capture_id: string;
          status: string;
          last_error: string | null;
          attempts: number;
        }>;
        return entries.every((e) => e.status === 'COMPLETED' || e.status === 'FAILED') ? entries : undefined;
      },
      { what: 'every frame finished', timeoutMs: 60_000 },
    );
    const by = Object.fromEntries(final!.map((e) => [e.capture_id, e]));
    assert.equal(by['ok-1']!.status, 'COMPLETED');
    assert.equal(by['ok-2']!.status, 'COMPLETED');
    assert.equal(by.deleted!.status, 'FAILED');
    assert.match(by.deleted!.last_error!, /^image: image not found/);
    for (const name of ['overwritten', 'truncated']) {
      assert.equal(by[name]!.status, 'FAILED', name);
      assert.match(by[name]!.last_error!, /^image: image cannot be decoded/, name);
      assert.equal(by[name]!.attempts, 1, `${name}: a permanent failure is not retried`);
    }
    // The failed frames keep their (bad) upload for inspection; nothing else is left in incoming/.
    assert.equal(incomingUploads(server.dataDir).length, 2);
    assert.equal((await fetch(`${server.api}/entries/${ids['ok-1']}/image`)).status, 200);
  });
});

/** Parses the Prometheus text format strictly enough to catch a malformed line. */
function parseMetrics(text: string) {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.trimEnd().split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line))) helps.add(m[1]!);
    else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) types.set(m[1]!, m[2]!);
    else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line))) {
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
      samples.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
    } else assert.fail(`not a Prometheus line: ${JSON.stringify(line)}`);
  }
  for (const name of types.keys()) assert.ok(helps.has(name), `HELP for ${name}`);
  const get = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  return { samples, types, get };
}

describe('GET /metrics (server process, tesseract.js)', () => {
  let server: ServerProcess;
  after(async () => {
    await server?.stop();
  });

  it('reports frames by status, ingest latency, stage durations, failures by stage, storage and client buffers', async () => {
    server = await startServerProcess(tempDir(), { OPENRECALL_API_TOKEN: TOKEN, OPENRECALL_OCR_ENGINE: 'tesseract-js' });
    for (let i = 0; i < 3; i++) {
      const image = await renderTextImage([`metrics frame number ${i}`], { width: 420, height: 140, seed: i + 1 });
      const response = await uploadFrame(
        server.api,
        { image, contentType: 'image/png', timestamp: Date.now() / 1000 - 5, app: 'M', title: 't', captureId: `m-${i}`, bufferBytes: 12_345 + i },
        { token: TOKEN },
      );
      assert.equal(response.status, 202);
    }
    const corrupt = await uploadFrame(
      server.api,
      { image: corruptZlibPng(await solidPng(100, 80)), contentType: 'image/png', timestamp: Date.now() / 1000 - 5, app: 'M', title: 't', captureId: 'm-bad' },
      { token: TOKEN },
    );
    assert.equal(corrupt.status, 202);
    await waitUntil(
      async () => {
        const { queue } = (await getJson(`${server.api}/queue/status`, { headers: bearer() })).body;
        return queue.completed === 3 && queue.failed === 1;
      },
      { what: 'frames processed', timeoutMs: 120_000 },
    );

    assert.equal((await fetch(`${server.url}/metrics`)).status, 401, '/metrics needs the token');
    const response = await fetch(`${server.url}/metrics`, { headers: bearer() });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const { types, get, samples } = parseMetrics(text);

    assert.equal(types.get('openrecall_frames'), 'gauge');
    assert.equal(get('openrecall_frames', { status: 'COMPLETED' }), 3);
    assert.equal(get('openrecall_frames', { status: 'FAILED' }), 1);
    assert.equal(get('openrecall_frames', { status: 'PENDING' }), 0);

    assert.equal(types.get('openrecall_ingest_duration_seconds'), 'histogram');
    assert.equal(get('openrecall_ingest_duration_seconds_count'), 4);
    assert.equal(get('openrecall_ingest_duration_seconds_bucket', { le: '+Inf' }), 4);
    const buckets = samples.filter((s) => s.name === 'openrecall_ingest_duration_seconds_bucket').map((s) => s.value);
    assert.deepEqual(
      buckets,
      [...buckets].sort((a, b) => a - b),
      'cumulative buckets never decrease',
    );
    assert.ok(get('openrecall_ingest_duration_seconds_sum')! > 0);

    assert.equal(types.get('openrecall_stage_duration_seconds'), 'histogram');
    // OCR runs first (its redaction tells the image stage what to cover): the corrupt frame fails there.
    assert.equal(get('openrecall_stage_duration_seconds_count', { stage: 'ocr' }), 4);
    assert.equal(get('openrecall_stage_duration_seconds_count', { stage: 'image' }), 3);
    assert.ok(get('openrecall_stage_duration_seconds_sum', { stage: 'ocr' })! > 0);
    assert.equal(types.get('openrecall_stage_failures_total'), 'counter');
    assert.equal(get('openrecall_stage_failures_total', { stage: 'ocr' }), 1);
    assert.equal(get('openrecall_stage_failures_total', { stage: 'image' }), undefined);

    for (const kind of ['screenshots', 'thumbnails', 'database']) assert.ok(get('openrecall_storage_bytes', { kind })! > 0, kind);
    assert.equal(get('openrecall_client_buffer_bytes', { client: '127.0.0.1' }), 12_347, 'the last report of the client');
    assert.equal(get('openrecall_uploads_total', { outcome: 'accepted' }), 4);
    assert.equal(get('openrecall_uploads_in_flight'), 0);
  });
});

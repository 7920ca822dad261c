import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { getJson } from './helpers/api.js';
import { solidPng } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { repoRoot } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';
import { incomingUploads } from './helpers/upload-reserve.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;
type Answer = { status: number; body: any };

const script = path.join(repoRoot, 'test', 'fixtures', 'python_client.py');

/** The Python MyRecall client's calls, made by Python's requests library against the real server. */
describe('the Python MyRecall client against this server', () => {
  let server: Server;
  let result: { heartbeat: Answer; config: Answer; config_after_post: Answer; upload: Answer; bad: Answer[] };
  const timestamp = Math.floor(Date.now() / 1000) - 30;

  before(async () => {
    server = await startInProcessServer();
    await server.processor.stop(0); // frames stay PENDING: this file checks what ingest stores
    const png = path.join(tempDir(), 'screenshot.png');
    fs.writeFileSync(png, await solidPng(320, 200));
    const { stdout } = await promisify(execFile)('python3', [script, server.api, png, String(timestamp), 'Firefox', 'Release notes — Mozilla Firefox'], {
      timeout: 60_000,
    });
    result = JSON.parse(stdout);
  });
  after(() => server?.close());

  it('answers its upload (file + metadata JSON) with 202 and the same body as the usual form, storing app, title and time', async () => {
    const { status, body } = result.upload;
    assert.equal(status, 202, JSON.stringify(body));
    assert.equal(body.status, 'accepted');
    assert.equal(typeof body.task_id, 'number');
    assert.equal(typeof body.elapsed_ms, 'number');
    const entry = (await getJson(`${server.api}/entries/${body.task_id}`)).body;
    assert.equal(entry.app, 'Firefox');
    assert.equal(entry.title, 'Release notes — Mozilla Firefox');
    assert.equal(entry.timestamp, timestamp);
    assert.equal(entry.status, 'PENDING');
    const image = await fetch(`${server.api}/entries/${body.task_id}/image`);
    assert.equal(image.status, 200);
  });

  it('refuses bad metadata (not JSON, wrong types, missing time, not an object, huge strings) with a 400 naming it, storing nothing', async () => {
    const expected = [
      /not valid JSON/,
      /'timestamp' must be a number/,
      /'app_name' must be a string/,
      /missing 'timestamp'/,
      /must be a JSON object/,
      /'window_title' is longer/,
      /metadata/,
    ];
    assert.equal(result.bad.length, expected.length);
    result.bad.forEach((answer, i) => {
      assert.equal(answer.status, 400, `case ${i}: ${JSON.stringify(answer.body).slice(0, 200)}`);
      assert.match(answer.body.message, /metadata/, `case ${i}`);
      assert.match(answer.body.message, expected[i]!, `case ${i}: ${answer.body.message}`);
    });
    const rows = server.db.prepare('SELECT count(*) FROM entries').pluck().get();
    assert.equal(rows, 1, 'only the good upload made a row');
    assert.equal(incomingUploads(server.dataDir).length, 1, 'only the good upload left a file');
  });

  it('answers its heartbeat and config calls with the fields it reads, and lists it as an online client', async () => {
    assert.equal(result.heartbeat.status, 200);
    assert.equal(result.heartbeat.body.status, 'ok');
    assert.equal(result.config.status, 200);
    for (const key of ['recording_enabled', 'upload_enabled', 'ai_processing_enabled', 'ui_show_ai', 'client_online']) {
      assert.equal(typeof result.config.body[key], 'boolean', key);
    }
    assert.equal(result.config.body.recording_enabled, true);
    assert.equal(result.config.body.client_online, true, 'its heartbeat just came in');
    assert.equal(result.config_after_post.status, 200);
    assert.equal(result.config_after_post.body.recording_enabled, false, 'POST /api/config changes the setting');
    const { clients } = (await getJson(`${server.api}/clients`)).body;
    const python = clients.find((c: any) => c.kind === 'python');
    assert.ok(python, JSON.stringify(clients));
    assert.equal(python.online, true);
  });

  it('keeps the usual form working and refuses a mix of both forms', async () => {
    const form = new FormData();
    form.append('timestamp', String(timestamp));
    form.append('active_app', 'Editor');
    form.append('active_window', 'notes.txt');
    form.append('image', new Blob([new Uint8Array(await solidPng(100, 80, '#884422'))], { type: 'image/png' }), 'frame.png');
    const ok = await getJson(`${server.api}/upload`, { method: 'POST', body: form });
    assert.equal(ok.status, 202);
    const mixed = new FormData();
    mixed.append('metadata', JSON.stringify({ timestamp, app_name: 'A', window_title: 'B' }));
    mixed.append('active_app', 'Editor');
    mixed.append('file', new Blob([new Uint8Array(await solidPng(100, 80, '#224488'))], { type: 'image/png' }), 'screenshot.png');
    const refused = await getJson(`${server.api}/upload`, { method: 'POST', body: mixed });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /unknown field 'active_app'/);
  });
});

describe('runtime settings', () => {
  it('keep a pause set through POST /api/config across a server restart', async () => {
    const dataDir = tempDir();
    const first = await startInProcessServer({ dataDir });
    const set = await getJson(`${first.api}/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recording_enabled: false, upload_enabled: false }),
    });
    assert.equal(set.status, 200);
    const wrong = await getJson(`${first.api}/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recording_enabled: 'no' }),
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.message, /recording_enabled/);
    await first.close();
    const second = await startInProcessServer({ dataDir });
    try {
      const config = (await getJson(`${second.api}/config`)).body;
      assert.equal(config.recording_enabled, false);
      assert.equal(config.upload_enabled, false);
      assert.equal(config.ai_processing_enabled, true);
    } finally {
      await second.close();
    }
  });

  it('documents config, heartbeat and clients in the OpenAPI document', async () => {
    const server = await startInProcessServer();
    try {
      const doc = (await getJson(`${server.api}/openapi.json`)).body;
      for (const route of ['/api/config', '/api/heartbeat', '/api/clients', '/api/settings']) assert.ok(doc.paths[route], route);
      assert.ok(doc.paths['/api/config'].post.requestBody.content['application/json'].schema.properties.recording_enabled);
    } finally {
      await server.close();
    }
  });
});

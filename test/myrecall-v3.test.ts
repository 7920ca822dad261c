import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { getJson, waitUntil } from './helpers/api.js';
import { renderTextImage, solidPng } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { launchBrowser, screenshot, watchedPage } from './web/helpers.js';
import { repoRoot } from './helpers/server-process.js';
import { listFilesRecursive, tempDir } from './helpers/temp-dir.js';
import { assertOnlyTheReserveLeft, incomingUploads } from './helpers/upload-reserve.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;
type Answer = { status: number; body: any };

const script = path.join(repoRoot, 'test', 'fixtures', 'myrecall_v3_client.py');
const run = async (...args: string[]) =>
  JSON.parse((await promisify(execFile)('python3', [script, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })).stdout);

const jpeg = async (lines: string[]) =>
  sharp(await renderTextImage(lines, { width: 900, height: 300, fontSize: 30 }))
    .jpeg({ quality: 90 })
    .toBuffer();

/** The accessibility text MyRecall reads from a browser tab: plenty of words, so OCR is skipped. */
const TREE_TEXT =
  'Kestrel migration handbook chapter four: xylophone orchestra rehearsal schedule for the autumn season, with seating charts and parking notes';
const PAGE_URL = 'https://docs.example.org/guides/kestrel-migration?tab=4';

/** Today's MyRecall client (v3 wire format), sent by Python's standard library the way `requests` sends it. */
describe('the MyRecall v3 client against this server', () => {
  let server: Server;
  let up: { frames: Record<string, Answer>; repeat: Answer; bad: Record<string, Answer>; heartbeats: Answer[]; api_upload: Answer[] };
  const captured = new Date(Math.floor(Date.now() / 1000 - 120) * 1000);
  // The client's clock in UTC+8: "2026-…T19:…+08:00" is the same instant.
  const inUtc8 = new Date(captured.getTime() + 8 * 3600_000).toISOString().replace('Z', '+08:00');
  const metadata = (extra: Record<string, unknown>) => ({
    timestamp: inUtc8,
    event_ts: captured.toISOString(),
    capture_trigger: 'app_switch',
    device_name: 'monitor_1',
    simhash: 1234567,
    a_field_from_a_newer_client: { kept: true },
    ...extra,
  });

  before(async () => {
    server = await startInProcessServer({ ocrEngine: 'tesseract-js', workers: 1 });
    const dir = tempDir();
    const file = async (name: string, lines: string[]) => {
      const target = path.join(dir, `${name}.jpg`);
      fs.writeFileSync(target, await jpeg(lines));
      return target;
    };
    fs.writeFileSync(path.join(dir, 'frame.png'), await solidPng(320, 200));
    const cases = {
      png: path.join(dir, 'frame.png'),
      frames: [
        {
          name: 'ocr',
          jpeg: await file('ocr', ['Quarterly walrus invoice 4471']),
          metadata: metadata({ app_name: 'Preview', window_name: 'invoice.pdf' }),
        },
        {
          name: 'accessibility',
          jpeg: await file('a11y', ['Marmalade penguin headline']),
          metadata: metadata({
            app_name: 'Google Chrome',
            window_name: 'Kestrel handbook',
            device_name: 'monitor_2',
            text_source: 'accessibility',
            text: TREE_TEXT,
            browser_url: PAGE_URL,
            accessibility: { text_content: TREE_TEXT, tree_json: JSON.stringify([{ role: 'AXStaticText', text: TREE_TEXT }]), node_count: 1, truncated: false },
          }),
        },
        {
          name: 'thin',
          jpeg: await file('thin', ['Pelican dashboard canvas']),
          metadata: metadata({ app_name: 'Figma', window_name: 'Board', text_source: 'accessibility', text: 'Share button' }),
        },
      ],
      api_upload_metadata: metadata({
        app_name: 'Safari',
        window_name: 'Ledger',
        text_source: 'accessibility',
        text: 'Heron ledger reconciliation notes for the spring audit with receipts, totals and signatures from finance',
        browser_url: 'https://ledger.example.net/heron',
      }),
      heartbeats: [
        // One client paused by its own switch, another on the same host capturing another screen.
        {
          capture_permission_status: 'granted',
          capture_permission_reason: null,
          last_permission_check_ts: captured.toISOString(),
          queue_depth: 3,
          queue_capacity: 64,
          collapse_trigger_count: 5,
          overflow_drop_count: 2,
          capture_runtime: { topology_epoch: 1, primary_monitor_only: false, active_monitors: ['monitor_1'], last_capture_outcome: { outcome: 'init' } },
          config: { recording_enabled: false, upload_enabled: true },
        },
        {
          capture_permission_status: 'granted',
          queue_depth: 0,
          queue_capacity: 64,
          overflow_drop_count: 0,
          capture_runtime: { active_monitors: ['monitor_2'] },
          config: { recording_enabled: true, upload_enabled: false },
        },
      ],
    };
    const casesFile = path.join(dir, 'cases.json');
    fs.writeFileSync(casesFile, JSON.stringify(cases));
    up = await run('upload', server.url, casesFile);
  });
  after(() => server?.close());

  const frameId = (name: string) => up.frames[name]!.body.frame_id as number;
  const done = (id: number) =>
    waitUntil(async () => (await getJson(`${server.api}/entries/${id}`)).body.status === 'COMPLETED', { timeoutMs: 180_000, what: `frame ${id} processed` });
  const keyword = async (q: string) => ((await getJson(`${server.api}/search?q=${encodeURIComponent(q)}&mode=keyword`)).body.results as any[]).map((r) => r.id);

  it('answers a new capture 201 queued and its retry 200 already_exists, storing one frame with its time, app, window and device', async () => {
    for (const name of ['ocr', 'accessibility', 'thin']) {
      const { status, body } = up.frames[name]!;
      assert.equal(status, 201, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.status, 'queued');
      assert.equal(typeof body.frame_id, 'number');
      assert.match(body.capture_id, /^[0-9a-f-]{36}$/);
      assert.equal(typeof body.request_id, 'string');
    }
    assert.equal(up.repeat.status, 200, JSON.stringify(up.repeat.body));
    assert.deepEqual(
      { ...up.repeat.body, request_id: undefined },
      { capture_id: up.frames.ocr!.body.capture_id, frame_id: frameId('ocr'), status: 'already_exists', request_id: undefined },
    );
    const entry = (await getJson(`${server.api}/entries/${frameId('ocr')}`)).body;
    assert.equal(entry.timestamp, captured.getTime() / 1000, 'the +08:00 time is read with its offset');
    assert.equal(entry.app, 'Preview');
    assert.equal(entry.title, 'invoice.pdf');
    assert.equal(entry.monitor, 1, 'monitor_1 is monitor 1');
    assert.equal(entry.capture_id, up.frames.ocr!.body.capture_id);
    const kept = server.db.prepare('SELECT client_metadata FROM entries WHERE id = ?').pluck().get(frameId('ocr')) as string;
    assert.deepEqual(JSON.parse(kept).a_field_from_a_newer_client, { kept: true }, 'unknown metadata fields are kept');
    assert.equal(JSON.parse(kept).capture_trigger, 'app_switch');
  });

  it('takes the same form on /api/upload too: 202, then 200 duplicate for its capture_id, the ISO time and the accessibility text read', async () => {
    const [first, again] = up.api_upload;
    assert.equal(first!.status, 202, JSON.stringify(first!.body));
    assert.deepEqual(again!.body, { status: 'duplicate', task_id: first!.body.task_id });
    await done(first!.body.task_id);
    const entry = (await getJson(`${server.api}/entries/${first!.body.task_id}`)).body;
    assert.equal(entry.timestamp, captured.getTime() / 1000);
    assert.equal(entry.title, 'Ledger');
    assert.equal(entry.browser_url, 'https://ledger.example.net/heron');
    assert.match(entry.text, /^Heron ledger reconciliation/);
    assert.doesNotMatch(entry.text, /walrus/i, 'OCR skipped');
  });

  it('refuses a bad UUID, a bad ISO time, metadata that is not a JSON object and a file that is not a JPEG: 400 in its shape, nothing stored', async () => {
    const expected: Record<string, RegExp> = {
      uuid4: /capture_id/,
      not_uuid: /capture_id/,
      iso_time: /'timestamp'.*ISO-8601/,
      event_ts: /'event_ts'.*ISO-8601/,
      not_json: /metadata.*not valid JSON/,
      json_array: /metadata.*JSON object/,
      png_file: /'file'.*JPEG, not PNG/,
      text_file: /'file'.*JPEG/,
    };
    for (const [name, pattern] of Object.entries(expected)) {
      const { status, body } = up.bad[name]!;
      assert.equal(status, 400, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.code, 'INVALID_PARAMS', name);
      assert.match(body.error, pattern, `${name}: ${body.error}`);
      assert.equal(body.message, body.error);
      assert.equal(typeof body.request_id, 'string');
    }
    assert.equal(server.db.prepare('SELECT count(*) FROM entries').pluck().get(), 4, 'only the four good captures made rows');
    // Not the upload reserves' files (empty, created ahead in screenshots/reserve or, for uploads written in place, incoming).
    const files = [...listFilesRecursive(path.join(server.dataDir, 'screenshots'))].filter(
      (f) => !f.endsWith('.webp') && !f.startsWith('reserve/') && fs.statSync(path.join(server.dataDir, 'screenshots', f)).size > 0,
    );
    assert.ok(files.length <= 4, `no file of a refused upload stays: ${files.join(', ')}`);
    assert.ok(!files.some((f) => f.endsWith('.part')), files.join(', '));
    await assertOnlyTheReserveLeft(server.dataDir);
  });

  it('OCRs a JPEG frame, takes a substantial accessibility text instead of OCR, and OCRs a thin one as well', async () => {
    for (const name of ['ocr', 'accessibility', 'thin']) await done(frameId(name));
    assert.deepEqual(await keyword('walrus invoice'), [frameId('ocr')], 'OCR read the JPEG');

    const a11y = (await getJson(`${server.api}/entries/${frameId('accessibility')}`)).body;
    assert.ok(a11y.text.startsWith(TREE_TEXT), a11y.text);
    assert.equal(a11y.text_source, 'accessibility');
    assert.equal(a11y.browser_url, PAGE_URL);
    assert.doesNotMatch(a11y.text, /marmalade|penguin/i, 'OCR was skipped: the words only in the image are not in the text');
    assert.deepEqual(await keyword('xylophone orchestra'), [frameId('accessibility')]);
    assert.deepEqual(await keyword('penguin'), []);
    assert.deepEqual(await keyword('kestrel-migration'), [frameId('accessibility')], 'the browser URL is searchable');
    const raw = server.db.prepare('SELECT supplied_text FROM entries WHERE id = ?').pluck().get(frameId('accessibility'));
    assert.equal(raw, null, 'no raw copy of the client text stays beside the frame text');

    const thin = (await getJson(`${server.api}/entries/${frameId('thin')}`)).body;
    assert.match(thin.text, /^Share button\n/);
    assert.match(thin.text, /pelican/i, 'a thin accessibility text: OCR ran as well');
    assert.deepEqual(await keyword('pelican'), [frameId('thin')]);
  });

  it('filters search by browser URL, in its own search and in this server’s', async () => {
    await done(frameId('accessibility'));
    const own = (await getJson(`${server.api}/search?q=&url=${encodeURIComponent('docs.example.ORG')}`)).body;
    assert.deepEqual(
      own.results.map((r: any) => r.id),
      [frameId('accessibility')],
    );
    const v1 = (await getJson(`${server.url}/v1/search?q=&browser_url=example.org`)).body;
    assert.deepEqual(
      v1.data.map((d: any) => d.frame_id),
      [frameId('accessibility')],
    );
  });

  it("answers its web UI's read routes in its shapes", async () => {
    for (const name of ['ocr', 'accessibility', 'thin']) await done(frameId(name));
    const read = await run('read', server.url, String(frameId('accessibility')), 'xylophone');

    assert.equal(read.health.status, 200);
    assert.deepEqual(Object.keys(read.health.body.queue).sort(), ['failed', 'pending', 'processing']);
    assert.equal(read.health.body.frame_status, 'ok');
    assert.equal(read.health.body.capture_permission_status, 'granted');
    assert.match(read.health.body.last_frame_timestamp, /^\d{4}-\d{2}-\d{2}T.*Z$/);

    assert.equal(read.search.status, 200);
    assert.deepEqual(read.search.body.pagination, { limit: 10, offset: 0, total: 1 });
    const [hit] = read.search.body.data;
    assert.equal(hit.frame_id, frameId('accessibility'));
    assert.equal(hit.text_source, 'accessibility');
    assert.equal(hit.browser_url, PAGE_URL);
    assert.equal(hit.device_name, 'monitor_2');
    assert.equal(hit.frame_url, `/v1/frames/${frameId('accessibility')}`);
    assert.equal(hit.timestamp, captured.toISOString());
    const full = `${TREE_TEXT}\n${PAGE_URL}`;
    assert.equal(hit.text, `${full.slice(0, 20)}...${full.length - 40} chars...${full.slice(-20)}`, 'include_text shortens like MyRecall');

    assert.equal(read.latest.status, 200);
    assert.deepEqual(
      read.latest.body.map((m: any) => m.frame_id),
      [up.api_upload[0]!.body.task_id, frameId('thin'), frameId('accessibility'), frameId('ocr')],
    );
    const memory = read.latest.body[2];
    assert.equal(memory.id, frameId('accessibility'));
    assert.equal(memory.visibility_status, 'queryable');
    assert.equal(memory.status, 'COMPLETED');
    assert.equal(memory.capture_trigger, 'app_switch');
    assert.equal(memory.app_name, 'Google Chrome');
    assert.deepEqual(read.latest_future.body, []);

    assert.equal(read.context.status, 200);
    assert.equal(read.context.body.frame_id, frameId('accessibility'));
    assert.equal(read.context.body.text_source, 'accessibility');
    assert.equal(read.context.body.browser_url, PAGE_URL);
    assert.deepEqual(read.context.body.urls, [PAGE_URL]);
    assert.equal(read.context.body.status, 'completed');
    assert.equal(read.context.body.window_name, 'Kestrel handbook');

    assert.equal(read.image.status, 200);
    assert.match(read.image.content_type, /^image\//);
    assert.ok(read.image.bytes > 1000);
    assert.equal(read.missing_image.status, 404);
    assert.equal(read.missing_image.body.code, 'NOT_FOUND');

    assert.equal(read.description_settings.status, 200);
    assert.equal(read.description_settings.body.enabled, false);
    assert.equal(read.description_settings.body.api_key_masked, '');
  });

  it('shows a self-paused client paused, told apart from another client on its host by its screens, and says it does not obey server-side pause', async () => {
    assert.deepEqual(
      up.heartbeats.map((h) => h.status),
      [200, 200],
      JSON.stringify(up.heartbeats),
    );
    const { clients } = (await getJson(`${server.api}/clients`)).body;
    const v3 = clients.filter((c: any) => c.kind === 'myrecall-v3');
    assert.equal(v3.length, 2, JSON.stringify(clients));
    const paused = v3.find((c: any) => c.self_report.devices.includes('monitor_1'));
    const other = v3.find((c: any) => c.self_report.devices.includes('monitor_2'));
    assert.notEqual(paused.id, other.id);
    assert.equal(paused.paused, true, 'paused as it reports itself');
    assert.equal(paused.obeys_server_pause, false);
    assert.equal(paused.state, 'paused by the client');
    assert.deepEqual(
      { depth: paused.self_report.queue_depth, capacity: paused.self_report.queue_capacity, dropped: paused.self_report.dropped },
      { depth: 3, capacity: 64, dropped: 2 },
    );
    assert.equal(other.paused, false);
    assert.equal(other.self_report.upload_enabled, false);
    assert.equal(other.state, 'upload paused by the client');
  });

  it("shows it in the web UI: the Settings page says who paused and that a pause set here does not reach it; a frame's page shows its URL", async () => {
    await done(frameId('accessibility'));
    const browser = await launchBrowser();
    try {
      const { page, problems } = await watchedPage(await browser.newContext());
      await page.goto(`${server.url}/settings`);
      const paused = page.locator('#clients-rows tr[data-paused="true"]');
      await paused.locator('.client__capture', { hasText: 'Paused by the client' }).waitFor({ timeout: 30_000 });
      assert.match((await paused.textContent()) ?? '', /monitor_1.*MyRecall v3.*does not obey server-side pause.*queue 3\/64 · 2 dropped/s);
      const other = page.locator('#clients-rows tr[data-paused="false"]');
      assert.match((await other.locator('.client__capture').textContent()) ?? '', /Recording · upload paused by the client/);
      await screenshot(page, 'settings-myrecall-v3');

      await page.goto(`${server.url}/entry/${frameId('accessibility')}`);
      const link = page.locator('.facts a[target="_blank"]');
      await link.waitFor({ timeout: 30_000 });
      assert.equal(await link.getAttribute('href'), PAGE_URL);
      assert.match((await page.locator('.facts').textContent()) ?? '', /accessibility tree/);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});

describe('the MyRecall v3 routes and the browser', () => {
  it("let MyRecall's web UI read them cross-origin once its origin is allowed, never another page, and need the API token when one is set", async () => {
    const open = await startInProcessServer({ allowedHosts: ['localhost:8889', '127.0.0.1:8889'] });
    const token = 'v3-routes-token-0123456789abcdef';
    const guarded = await startInProcessServer({ apiToken: token });
    try {
      const local = await fetch(`${open.url}/v1/health`, { headers: { origin: 'http://localhost:8889' } });
      assert.equal(local.status, 200);
      assert.equal(local.headers.get('access-control-allow-origin'), 'http://localhost:8889');
      const preflight = await fetch(`${open.url}/v1/search?q=x`, {
        method: 'OPTIONS',
        headers: { origin: 'http://127.0.0.1:8889', 'access-control-request-method': 'GET' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8889');
      for (const origin of ['https://example.com', 'http://localhost:5173']) {
        const foreign = await fetch(`${open.url}/v1/search?q=x`, { headers: { origin } });
        assert.equal(foreign.status, 403, origin);
        assert.equal(foreign.headers.get('access-control-allow-origin'), null, origin);
      }

      for (const route of ['/v1/health', '/v1/search?q=x', '/v1/frames/latest', '/v1/frames/1', '/v1/frames/1/context', '/v1/settings/description']) {
        const refused = await getJson(`${guarded.url}${route}`);
        assert.equal(refused.status, 401, route);
        const allowed = await fetch(`${guarded.url}${route}`, { headers: { authorization: `Bearer ${token}` } });
        assert.notEqual(allowed.status, 401, route);
      }
      const form = new FormData();
      form.append('capture_id', '01900000-0000-7000-8000-000000000000');
      form.append('metadata', JSON.stringify({ timestamp: new Date().toISOString() }));
      form.append('file', new Blob([new Uint8Array(await jpeg(['x']))], { type: 'image/jpeg' }), 'x.jpg');
      assert.equal((await fetch(`${guarded.url}/v1/ingest`, { method: 'POST', body: form })).status, 401);
      assert.equal(guarded.db.prepare('SELECT count(*) FROM entries').pluck().get(), 0);
    } finally {
      await open.close();
      await guarded.close();
    }
  });
});

describe('the MyRecall v3 upload under load and with a too large file', () => {
  it('answers 413 PAYLOAD_TOO_LARGE over 10 MB and 503 QUEUE_FULL with retry_after while every upload slot is taken, storing nothing', async () => {
    const server = await startInProcessServer({ maxConcurrentUploads: 1 });
    const post = (file: Buffer) => {
      const form = new FormData();
      form.append('capture_id', '01900000-0000-7000-8000-00000000000a');
      form.append('metadata', JSON.stringify({ timestamp: new Date().toISOString(), capture_trigger: 'manual' }));
      form.append('file', new Blob([new Uint8Array(file)], { type: 'image/jpeg' }), 'x.jpg');
      return getJson(`${server.url}/v1/ingest`, { method: 'POST', body: form });
    };
    let holder: net.Socket | undefined;
    try {
      const big = Buffer.concat([await jpeg(['big']), Buffer.alloc(10 * 1024 * 1024)]);
      const tooLarge = await post(big);
      assert.equal(tooLarge.status, 413, JSON.stringify(tooLarge.body));
      assert.equal(tooLarge.body.code, 'PAYLOAD_TOO_LARGE');

      // A slow upload holds the only slot: its headers are in, its body never finishes.
      // On a loaded machine one of the probes below can reach the server before the holder's headers and take the
      // slot, so the holder is answered 503 and holds nothing: then it tries again.
      const { port } = new URL(server.url);
      let holderAnswered = false;
      const takeSlot = () => {
        holderAnswered = false;
        holder = net.connect(Number(port), '127.0.0.1');
        holder.on('error', () => {});
        holder.on('data', () => {
          holderAnswered = true;
        });
        holder.write(`POST /v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n`);
      };
      takeSlot();
      const busy = (await waitUntil(
        async () => {
          if (holderAnswered) {
            holder?.destroy();
            takeSlot();
          }
          // A PNG: refused (400, nothing stored) until the slot is taken, then 503 before its body is read.
          const answer = await post(await solidPng(32, 32));
          return answer.status === 503 ? answer : undefined;
        },
        { what: 'the slot taken' },
      ))!;
      assert.equal(busy.body.code, 'QUEUE_FULL');
      assert.equal(busy.body.retry_after, 2);
      holder?.destroy();
      const accepted = (await waitUntil(
        async () => {
          const answer = await post(await jpeg(['after']));
          return answer.status === 201 ? answer : undefined;
        },
        { what: 'the slot given back' },
      ))!;
      assert.equal(accepted.body.status, 'queued');
      assert.equal(server.db.prepare('SELECT count(*) FROM entries').pluck().get(), 1, 'only the accepted upload made a row');
    } finally {
      holder?.destroy();
      await server.close();
    }
  });
});

describe('the MyRecall v3 upload with a large accessibility tree (issue 22)', () => {
  it('takes metadata far past 64 KB on /v1/ingest and /api/upload, and refuses one past OPENRECALL_MAX_METADATA_MB with 413 naming the field', async () => {
    const server = await startInProcessServer({ ocrEngine: 'none' });
    // A real page's tree: thousands of nodes, about 1.5 MB of JSON.
    const nodes = Array.from({ length: 12_000 }, (_, i) => ({ role: 'AXStaticText', text: `row ${i} of the quarterly ledger`, frame: [0, i * 18, 640, 18] }));
    const tree = JSON.stringify(nodes);
    const metadata = (treeJson: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        timestamp: new Date(Date.now() - 60_000).toISOString(),
        app_name: 'Google Chrome',
        window_name: 'Ledger',
        text_source: 'accessibility',
        text: 'Quarterly ledger with many rows of figures and notes for the auditors',
        accessibility: { text_content: 'Quarterly ledger', tree_json: treeJson, node_count: nodes.length, truncated: false },
        ...extra,
      });
    const ingest = async (captureId: string, meta: string) => {
      const form = new FormData();
      form.append('capture_id', captureId);
      form.append('metadata', meta);
      form.append('file', new Blob([new Uint8Array(await jpeg(['ledger']))], { type: 'image/jpeg' }), 'x.jpg');
      return getJson(`${server.url}/v1/ingest`, { method: 'POST', body: form });
    };
    const pythonForm = async (captureId: string, meta: string) => {
      const form = new FormData();
      form.append('capture_id', captureId);
      form.append('metadata', meta);
      form.append('file', new Blob([new Uint8Array(await jpeg(['ledger']))], { type: 'image/jpeg' }), 'x.jpg');
      return getJson(`${server.api}/upload`, { method: 'POST', body: form });
    };
    try {
      assert.ok(tree.length > 1024 * 1024, `the tree is ${tree.length} bytes`);
      const taken = await ingest('01900000-0000-7000-8000-0000000000b1', metadata(tree));
      assert.equal(taken.status, 201, JSON.stringify(taken.body));
      const viaUpload = await pythonForm('01900000-0000-7000-8000-0000000000b2', metadata(tree));
      assert.equal(viaUpload.status, 202, JSON.stringify(viaUpload.body));

      const huge = 'x'.repeat(4 * 1024 * 1024);
      const refused = await ingest('01900000-0000-7000-8000-0000000000b3', metadata(huge));
      assert.equal(refused.status, 413, JSON.stringify(refused.body));
      assert.match(refused.body.message, /field 'metadata' is larger than 4 MB/);
      const refusedUpload = await pythonForm('01900000-0000-7000-8000-0000000000b4', metadata(huge));
      assert.equal(refusedUpload.status, 413, JSON.stringify(refusedUpload.body));
      assert.equal(refusedUpload.body.error, 'FIELD_TOO_LARGE');
      assert.match(refusedUpload.body.message, /field 'metadata' is larger than 4 MB/);

      assert.equal(server.db.prepare('SELECT count(*) FROM entries').pluck().get(), 2, 'only the two accepted uploads made rows');
      const kept = server.db.prepare('SELECT client_metadata FROM entries WHERE capture_id = ?').pluck().get('01900000-0000-7000-8000-0000000000b1') as string;
      assert.equal(JSON.parse(kept).accessibility.node_count, nodes.length, 'the metadata arrived whole');
      await waitUntil(() => incomingUploads(server.dataDir).length <= 2, { what: 'the refused uploads’ files removed' });
    } finally {
      await server.close();
    }
  });

  it('refuses a field past a smaller OPENRECALL_MAX_METADATA_MB by name', async () => {
    const server = await startInProcessServer({ ocrEngine: 'none', maxMetadataBytes: 128 * 1024 });
    try {
      const form = new FormData();
      form.append('capture_id', '01900000-0000-7000-8000-0000000000c1');
      form.append('metadata', JSON.stringify({ timestamp: new Date().toISOString(), accessibility: { tree_json: 'y'.repeat(200 * 1024) } }));
      form.append('file', new Blob([new Uint8Array(await jpeg(['small']))], { type: 'image/jpeg' }), 'x.jpg');
      const answer = await getJson(`${server.url}/v1/ingest`, { method: 'POST', body: form });
      assert.equal(answer.status, 413, JSON.stringify(answer.body));
      assert.match(answer.body.message, /field 'metadata' is larger than 128 KB/);
      assert.equal(server.db.prepare('SELECT count(*) FROM entries').pluck().get(), 0);
    } finally {
      await server.close();
    }
  });
});

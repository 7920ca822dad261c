import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore } from '../src/images/image-store.js';
import { LocalFrameFiles } from '../src/images/frame-files.js';
import { TesseractJsEngine } from '../src/pipeline/ocr/tesseract-js-engine.js';
import { OcrStage } from '../src/pipeline/ocr-stage.js';
import { ClaimedFrame, decodeGreyscale, Pipeline } from '../src/pipeline/stage.js';
import { StoreImageStage } from '../src/pipeline/store-image-stage.js';
import type { FramePatch, FrameRow } from '../src/store/ports.js';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { tempDir } from './helpers/temp-dir.js';
import { incomingUploads } from './helpers/upload-reserve.js';

/** A terminal-like note with three secrets among ordinary words, at a size OCR reads reliably. */
const SECRET_PASSWORD = 'Zebra7Quartz9';
const SECRET_CARD = '4111 1111 1111 1111';
const SECRET_TOKEN = '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';
const screen = (seed = 0) =>
  renderTextImage(
    [
      'Deploy notes for the staging cluster',
      `Password: ${SECRET_PASSWORD}`,
      `Card ${SECRET_CARD} expires soon`,
      `token ${SECRET_TOKEN}`,
      'Remember the quarterly budget review',
    ],
    { width: 1280, height: 400, fontSize: 24, seed },
  );

const squeeze = (s: string) => s.replace(/\s+/g, '');

describe('redaction through the real server and OCR', () => {
  let server: Awaited<ReturnType<typeof startInProcessServer>>;
  let ocr: TesseractJsEngine;
  let entry: any;

  before(async () => {
    server = await startInProcessServer({ ocrEngine: 'tesseract-js' });
    ocr = await TesseractJsEngine.create(1);
    const { body } = await upload(server.api, { image: await screen(1), title: `Reset password: Hunter2Secret99 - Browser` });
    entry = await waitUntil(
      async () => {
        const { body: e } = await getJson(`${server.api}/entries/${body.task_id}`);
        return e.status === 'COMPLETED' || e.status === 'FAILED' ? e : undefined;
      },
      { what: 'the frame to be processed' },
    );
  });
  after(async () => {
    await ocr?.close();
    await server?.close();
  });

  it('stores only the redacted text, and says how many items of which kinds were redacted', () => {
    assert.equal(entry.status, 'COMPLETED', entry.last_error);
    for (const secret of [SECRET_PASSWORD, SECRET_CARD, SECRET_TOKEN]) assert.ok(!squeeze(entry.text).includes(squeeze(secret)), entry.text);
    assert.match(entry.text, /staging cluster/);
    assert.match(entry.text, /\[redacted\]/);
    assert.equal(entry.redaction_version, 1);
    assert.ok(entry.redacted.count >= 3, JSON.stringify(entry.redacted));
    const kinds = entry.redacted.kinds.map((k: { kind: string }) => k.kind);
    for (const kind of ['password', 'card', 'credential']) assert.ok(kinds.includes(kind), kinds.join());
    assert.ok(!JSON.stringify(entry).includes(SECRET_PASSWORD));
  });

  it('redacts the window title at ingest', () => {
    assert.equal(entry.title, 'Reset password: [redacted] - Browser');
  });

  it('finds ordinary words but not the secrets in search', async () => {
    const hits = async (q: string) => (await getJson(`${server.api}/search?q=${encodeURIComponent(q)}`)).body.results.length;
    assert.equal(await hits('staging'), 1);
    assert.equal(await hits('quarterly budget'), 1);
    for (const q of [SECRET_PASSWORD, 'Hunter2Secret99', SECRET_TOKEN, '4111']) assert.equal(await hits(q), 0, q);
  });

  it('serves an image and a thumbnail in which OCR can no longer read the secrets, with the ordinary text intact', async () => {
    const image = Buffer.from(await (await fetch(`${server.api}/entries/${entry.id}/image`)).arrayBuffer());
    const text = await ocr.recognize(await decodeGreyscale(image));
    assert.match(text, /staging cluster/);
    assert.match(text, /quarterly budget/);
    for (const secret of [SECRET_PASSWORD, SECRET_TOKEN]) assert.ok(!squeeze(text).includes(squeeze(secret).slice(4, 12)), text);
    assert.ok(!/1111/.test(text), text);
    // Covered, not blurred: the boxes are solid black.
    const grey = await decodeGreyscale(image);
    const black = grey.data.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
    assert.ok(black > 2000, `${black} black pixels`);
    const thumb = await fetch(`${server.api}/entries/${entry.id}/thumbnail`);
    assert.equal(thumb.status, 200);
  });

  it('shows the setting on the Settings page (GET /api/settings)', async () => {
    const { body } = await getJson(`${server.api}/settings`);
    assert.deepEqual(
      body.settings.find((s: { name: string }) => s.name === 'OPENRECALL_REDACT'),
      { name: 'OPENRECALL_REDACT', value: 'secrets' },
    );
  });

  it('leaves no upload behind in the data dir', () => {
    assert.deepEqual(incomingUploads(server.dataDir), []);
  });
});

describe('a detector fault', () => {
  it("fails the frame's OCR+redaction step with the reason, saves nothing, and the retry redacts it", async () => {
    const dataDir = tempDir();
    const files = new LocalFrameFiles(new ImageStore(dataDir));
    const incoming = path.join('screenshots', 'incoming', '1.png');
    fs.mkdirSync(path.join(dataDir, 'screenshots', 'incoming'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, incoming), await screen());
    const engine = await TesseractJsEngine.create(1);
    const saved: FramePatch[] = [];
    const row = { id: 1, timestamp: Date.now() / 1000, image_path: incoming, text: null, redactions: null } as unknown as FrameRow;
    const frame = () => new ClaimedFrame({ ...row, ...Object.assign({}, ...saved) }, files, async (patch) => (saved.push(patch), true));
    try {
      const broken = { name: 'broken-rule', detect: () => Promise.reject(new Error('out of memory in the rule')) };
      const failing = new Pipeline([new OcrStage(engine, undefined, { pii: false, detectors: [broken] }), new StoreImageStage(files)]);
      await assert.rejects(failing.process(frame()), /^Error: ocr: redaction failed: detector broken-rule: out of memory in the rule$/);
      assert.deepEqual(saved, [], 'nothing saved: no text, no image');
      assert.ok(!fs.existsSync(path.join(dataDir, 'screenshots', new Date().getUTCFullYear().toString())), 'no stored image');

      const working = new Pipeline([new OcrStage(engine, undefined, { pii: false }), new StoreImageStage(files)]);
      await working.process(frame());
      const patches = saved as FramePatch[]; // (narrowed to never[] by the deepEqual above)
      const text = patches.find((p) => p.text !== undefined)!.text!;
      assert.ok(!text.includes(SECRET_PASSWORD) && text.includes('staging'), text);
      assert.equal(patches.at(-1)!.redaction_version, 1);
    } finally {
      await engine.close();
    }
  });
});

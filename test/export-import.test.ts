import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { after, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const rgb = (image: Buffer) => sharp(image).removeAlpha().raw().toBuffer();
const ENV = { OPENRECALL_OCR_ENGINE: 'tesseract-cli', OPENRECALL_COMPACT_AFTER_MINUTES: '0' };

async function entries(api: string): Promise<any[]> {
  return (await getJson(`${api}/entries?limit=100`)).body.entries;
}

describe('openrecall export and import', () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('round-trips frames in a time range: images pixel for pixel, capture time, app, window, monitor and OCR text', async () => {
    const sourceDir = tempDir();
    const source = await startServerProcess(sourceDir, ENV);
    servers.push(source);
    const base = Math.floor(Date.now() / 1000) - 7200;
    const frames = [
      { words: ['harbor lantern invoice'], timestamp: base, app: 'Editor', title: 'notes one', monitor: 0 },
      { words: ['harbor lantern invoice', 'meeting budget kernel'], timestamp: base + 60, app: 'Editor', title: 'notes two', monitor: 0 },
      { words: ['terminal output galaxy'], timestamp: base + 120, app: 'XTerm', title: 'build', monitor: 1 },
      { words: ['outside the range'], timestamp: base + 3600, app: 'Editor', title: 'later', monitor: 0 },
    ];
    const images: Buffer[] = [];
    for (const f of frames) {
      const image = await renderTextImage(f.words, { width: 800, height: 450, fontSize: 28 });
      images.push(image);
      await upload(source.api, { image, timestamp: f.timestamp, app: f.app, title: f.title, monitor: f.monitor });
    }
    // Processed (OCR) and compacted: the export rebuilds compacted frames.
    await waitUntil(async () => (await getJson(`${source.api}/queue/status`)).body.compaction.compacted_frames === frames.length, {
      what: 'OCR and compaction',
    });
    const original = (await entries(source.api)).reverse();
    assert.ok(original.every((e) => e.text && e.image_path.startsWith('compact/')));

    const zip = path.join(tempDir(), 'history.zip');
    const exported = runCli(['export', '--since', String(base), '--until', new Date((base + 600) * 1000).toISOString(), zip], {
      OPENRECALL_DATA_DIR: sourceDir,
    });
    assert.equal((await exported.exited).code, 0, exported.output());
    assert.match(exported.output(), /exported 3 frame\(s\)/);

    const target = await startServerProcess(tempDir(), ENV);
    servers.push(target);
    const imported = runCli(['import', zip], { OPENRECALL_API_URL: target.api, OPENRECALL_DATA_DIR: tempDir() });
    assert.equal((await imported.exited).code, 0, imported.output());
    assert.match(imported.output(), /imported 3, skipped 0/);
    await waitUntil(async () => (await getJson(`${target.api}/queue/status`)).body.queue.completed === 3, { what: 'imported frames processed' });

    const copies = (await entries(target.api)).sort((a, b) => a.timestamp - b.timestamp);
    assert.equal(copies.length, 3);
    for (const [i, copy] of copies.entries()) {
      const from = original[i]!;
      for (const field of ['timestamp', 'app', 'title', 'monitor', 'width', 'height', 'text'] as const) {
        assert.deepEqual(copy[field], from[field], `${field} of frame ${i}`);
      }
      const image = Buffer.from(await (await fetch(`${target.api}/entries/${copy.id}/image`)).arrayBuffer());
      assert.deepEqual(await rgb(image), await rgb(images[i]!), `pixels of frame ${i}`);
    }

    const again = runCli(['import', zip], { OPENRECALL_API_URL: target.api, OPENRECALL_DATA_DIR: tempDir() });
    assert.equal((await again.exited).code, 0, again.output());
    assert.match(again.output(), /imported 0, skipped 3/);
  });

  it('a file that is not an export is refused with a clear message and imports nothing', async () => {
    const target = await startServerProcess(tempDir(), ENV);
    servers.push(target);
    const bogus = path.join(tempDir(), 'other.zip');
    // A zip without export.json: a local file header, then junk.
    fs.writeFileSync(bogus, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]));
    const run = runCli(['import', bogus], { OPENRECALL_API_URL: target.api, OPENRECALL_DATA_DIR: tempDir() });
    assert.equal((await run.exited).code, 1, run.output());
    assert.match(run.output(), /other\.zip: .*(export|zip|invalid)/i);
    assert.equal((await getJson(`${target.api}/queue/status`)).body.queue.pending, 0);
  });
});

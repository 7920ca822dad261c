import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { after, describe, it } from 'node:test';
import { decodeRgb, RGB_CHANNELS } from '../src/images/codec.js';
import { splitChunks } from '../src/images/compaction/layer-file.js';
import { decodeManifest, type Manifest } from '../src/images/compaction/manifest.js';
import { compositeFrame } from '../src/images/compaction/tiles.js';
import { TesseractJsEngine } from '../src/pipeline/ocr/tesseract-js-engine.js';
import { decodeGreyscale } from '../src/pipeline/stage.js';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const SECRET = 'Walrus7Cobalt7x';
// Blank lines between: each line of text sits in its own row of 64-pixel tiles.
const screen = (middle: string) =>
  renderTextImage(['Meeting notes about the harbour project', '', middle, '', 'Ordinary closing words stay readable'], {
    width: 1024,
    height: 320,
    fontSize: 24,
  });

/** A frame as its (old) manifest rebuilds it from the layer files as they are now. */
async function rebuild(dataDir: string, manifest: Manifest): Promise<Buffer> {
  const layers = await Promise.all(manifest.layers.map((layer) => fs.promises.readFile(path.join(dataDir, layer))));
  const decoded = new Map<string, Awaited<ReturnType<typeof decodeRgb>>>();
  for (const [index, file] of layers.entries()) {
    for (const [chunk, bytes] of splitChunks(file).entries()) decoded.set(`${index}:${chunk}`, await decodeRgb(bytes));
  }
  const image = compositeFrame(manifest.width, manifest.height, manifest.tiles, (layer, chunk) => decoded.get(`${layer}:${chunk}`));
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: RGB_CHANNELS } })
    .png()
    .toBuffer();
}

const rgb = (image: Buffer) => sharp(image).removeAlpha().raw().toBuffer();

/** `openrecall redact` on frames already compacted into shared tile layers. */
describe('openrecall redact on compacted frames', () => {
  const dataDir = tempDir();
  const env = { OPENRECALL_OCR_ENGINE: 'tesseract-js', OPENRECALL_COMPACT_AFTER_MINUTES: '0' };
  let server: ServerProcess | undefined;
  let ocr: TesseractJsEngine | undefined;
  after(async () => {
    await server?.stop('SIGKILL');
    await ocr?.close();
  });

  it("covers the secret in the frame and in the layer's tiles only it used; the frame sharing the layer keeps every pixel", async () => {
    ocr = await TesseractJsEngine.create(1);
    const read = async (image: Buffer) => ocr!.recognize(await decodeGreyscale(image));
    server = await startServerProcess(dataDir, { ...env, OPENRECALL_REDACT: 'off' });
    const now = Date.now() / 1000 - 3600;
    const secretFrame = (await upload(server.api, { image: await screen(`Password: ${SECRET}`), timestamp: now, monitor: 0 })).body.task_id as number;
    const otherFrame = (await upload(server.api, { image: await screen('Agenda items for the quarterly review'), timestamp: now + 1, monitor: 0 })).body
      .task_id as number;
    const entry = async (id: number) => (await getJson(`${server!.api}/entries/${id}`)).body;
    const image = async (id: number) => Buffer.from(await (await fetch(`${server!.api}/entries/${id}/image`)).arrayBuffer());
    await waitUntil(async () => (await getJson(`${server!.api}/queue/status`)).body.compaction.compacted_frames === 2, {
      what: 'both frames compacted',
      timeoutMs: 180_000,
    });
    const before = await entry(secretFrame);
    assert.match(before.image_path, /^compact\/frames\//);
    assert.match(await read(await image(secretFrame)), /Walrus7/, 'the compacted frame shows the secret before');
    const manifest = decodeManifest(await fs.promises.readFile(path.join(dataDir, before.image_path)));
    const otherBefore = await rgb(await image(otherFrame));
    const other = await entry(otherFrame);
    const otherManifest = decodeManifest(await fs.promises.readFile(path.join(dataDir, other.image_path)));
    assert.ok(
      otherManifest.layers.some((layer) => manifest.layers.includes(layer)),
      `the second frame shares the first one's layer (${otherManifest.layers} / ${manifest.layers})`,
    );
    assert.match(await read(await rebuild(dataDir, manifest)), /Walrus7/, "the layer's tiles hold the secret before");
    await server.stop();

    server = await startServerProcess(dataDir, env);
    const command = runCli(['redact'], { OPENRECALL_API_URL: server.api });
    assert.equal((await command.exited).code, 0, command.output());

    const after = await entry(secretFrame);
    assert.equal(after.redaction_version, 1);
    assert.doesNotMatch(after.image_path, /^compact\//, 'the redacted frame has a file of its own');
    assert.equal(after.redacted.kinds[0].kind, 'password');
    const served = await read(await image(secretFrame));
    assert.match(served, /harbour project/);
    assert.doesNotMatch(served, /Walrus|Cobalt/, served);
    // The old manifest, rebuilt from the layers as they are now: the secret's tiles are black, the rest intact.
    const leftInLayers = await read(await rebuild(dataDir, manifest));
    assert.doesNotMatch(leftInLayers, /Walrus|Cobalt/, leftInLayers);
    assert.match(leftInLayers, /harbour project/, 'tiles the other frame uses stay');
    // The other frame: still compacted on the same layers, every pixel as before.
    const otherAfter = await entry(otherFrame);
    assert.equal(otherAfter.image_path, other.image_path);
    assert.deepEqual(await rgb(await image(otherFrame)), otherBefore);
    assert.match(await read(await image(otherFrame)), /quarterly review/);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { after, before, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { editingSequence } from './helpers/compaction-frames.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { runCli } from './helpers/server-process.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

async function rgb(image: Buffer): Promise<Buffer> {
  return sharp(image).removeAlpha().raw().toBuffer();
}

async function fetchImage(api: string, id: number): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const response = await fetch(`${api}/entries/${id}/image`);
  return { status: response.status, type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}

const compaction = async (api: string) => (await getJson(`${api}/queue/status`)).body.compaction;
const entry = async (api: string, id: number) => (await getJson(`${api}/entries/${id}`)).body;

describe('compaction of processed frames', () => {
  let server: Server;
  let originals: Buffer[];
  const ids: number[] = [];

  before(async () => {
    server = await startInProcessServer({ compactAfterMinutes: 0 });
    originals = await editingSequence(10);
    for (const [i, image] of originals.entries()) {
      ids.push((await upload(server.api, { image, timestamp: Date.now() / 1000 - 600 + i, monitor: 0 })).body.task_id as number);
    }
    await waitUntil(async () => (await compaction(server.api)).compacted_frames === originals.length, { what: 'compaction', timeoutMs: 180_000 });
  });
  after(async () => server?.close());

  it('rebuilds every compacted frame pixel for pixel, as a PNG from the usual image route, in far fewer bytes', async () => {
    for (const [i, id] of ids.entries()) {
      const row = await entry(server.api, id);
      assert.match(row.image_path, /^compact\/frames\//, `frame ${id} is compacted`);
      const image = await fetchImage(server.api, id);
      assert.equal(image.status, 200);
      assert.equal(image.type, 'image/png');
      assert.deepEqual(await rgb(image.bytes), await rgb(originals[i]!), `frame ${id} is lossless`);
    }
    const status = await compaction(server.api);
    assert.equal(status.uncompacted_frames, 0);
    assert.ok(status.ratio < 0.5, `compacted ${status.stored_bytes} bytes vs ${status.original_bytes} before (ratio ${status.ratio})`);
    // `openrecall status` prints the same figures.
    const cli = runCli(['status'], { OPENRECALL_API_URL: server.api });
    assert.equal((await cli.exited).code, 0, cli.output());
    assert.match(
      cli.output(),
      new RegExp(`compaction +${originals.length} frame\\(s\\) in [\\d.]+ MB instead of [\\d.]+ MB \\(ratio ${status.ratio}\\); 0 frame\\(s\\) not compacted`),
    );
    const files = fs.readdirSync(path.join(server.dataDir, 'screenshots'), { recursive: true }).filter((f) => String(f).endsWith('.webp'));
    assert.deepEqual(files, [], 'the per-frame files are gone');
    // Thumbnails stay separate and small.
    const thumb = await fetch(`${server.api}/entries/${ids[3]}/thumbnail`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/webp');
  });

  it('deleting a frame whose tiles others share leaves every neighbour intact', async () => {
    // The first frame's layer holds the tiles (title bar, background) every later frame of the app reuses.
    const first = ids[0]!;
    const response = await fetch(`${server.api}/entries/${first}`, { method: 'DELETE' });
    assert.equal(response.status, 200);
    assert.equal((await fetchImage(server.api, first)).status, 404);
    for (const [i, id] of ids.entries()) {
      if (id === first) continue;
      const image = await fetchImage(server.api, id);
      assert.equal(image.status, 200, `frame ${id} still answers`);
      assert.deepEqual(await rgb(image.bytes), await rgb(originals[i]!), `frame ${id} unchanged after deleting ${first}`);
    }
    // The layer stays while later frames use it.
    const layer = server.db.prepare(`SELECT refs FROM compact_layers WHERE id = ?`).pluck().get(first) as number | undefined;
    assert.ok(layer !== undefined && layer > 0, 'the shared layer is kept with its remaining users');
  });

  it('a layer no frame uses any more is removed from disk', async () => {
    // The last frame adds tiles no other frame has: its layer goes with it.
    const last = ids.at(-1)!;
    const layerPath = server.db.prepare(`SELECT path FROM compact_layers WHERE id = ?`).pluck().get(last) as string;
    assert.ok(layerPath, 'the last frame has its own layer');
    assert.equal((await fetch(`${server.api}/entries/${last}`, { method: 'DELETE' })).status, 200);
    assert.equal(server.db.prepare(`SELECT refs FROM compact_layers WHERE id = ?`).pluck().get(last), 0);
    await waitUntil(() => !fs.existsSync(path.join(server.dataDir, layerPath)), { what: 'the sweep of unused layers', timeoutMs: 60_000 });
  });

  it('a damaged layer makes only its frames answer 422 with a clear message; doctor names them; the rest keep working', async () => {
    // The switched-to app's frame has a layer of its own that no other frame uses.
    const odd = ids[Math.floor(ids.length / 2)]!;
    const layerPath = server.db.prepare(`SELECT path FROM compact_layers WHERE id = ?`).pluck().get(odd) as string;
    const users = server.db.prepare(`SELECT entry_id FROM compact_refs WHERE layer_id = ?`).pluck().all(odd) as number[];
    const file = path.join(server.dataDir, layerPath);
    const bytes = fs.readFileSync(file);
    bytes.fill(0x5a, 20, bytes.length - 10);
    fs.writeFileSync(file, bytes);

    for (const id of users) {
      const response = await fetch(`${server.api}/entries/${id}/image`);
      assert.equal(response.status, 422, `frame ${id} uses the damaged layer`);
      const body = (await response.json()) as { message: string };
      assert.match(body.message, new RegExp(`entry ${id} cannot be rebuilt: .*layer .* is damaged`));
    }
    const healthy = ids.filter((id, i) => !users.includes(id) && i > 0 && i < ids.length - 1);
    assert.ok(healthy.length > 0);
    for (const id of healthy) assert.equal((await fetchImage(server.api, id)).status, 200, `frame ${id} is not affected`);

    // A damaged manifest: that frame alone answers 422.
    const broken = healthy.pop()!;
    const manifest = (await entry(server.api, broken)).image_path as string;
    fs.writeFileSync(path.join(server.dataDir, manifest), 'not a manifest');
    const response = await fetch(`${server.api}/entries/${broken}/image`);
    assert.equal(response.status, 422);
    assert.match(((await response.json()) as { message: string }).message, /manifest unreadable/);
    for (const id of healthy) assert.equal((await fetchImage(server.api, id)).status, 200, `frame ${id} is not affected`);
    const affected = [...users, broken].sort((a, b) => a - b);

    const doctor = runCli(['doctor', '--json'], { OPENRECALL_DATA_DIR: server.dataDir, DISPLAY: '', OPENRECALL_API_URL: server.api });
    await doctor.exited;
    const out = doctor.output();
    const checks = (JSON.parse(out.slice(out.indexOf('{'))) as { checks: Array<{ check: string; status: string; message: string }> }).checks;
    const check = checks.find((c) => c.check === 'compaction');
    assert.equal(check?.status, 'fail');
    assert.match(check!.message, new RegExp(`${affected.length} compacted frame\\(s\\) cannot be rebuilt \\(entries ${affected.join(', ')}\\)`));
    assert.match(check!.message, /damaged/);
    // The server is still serving.
    assert.equal((await getJson(`${server.api}/queue/status`)).status, 200);
  });
});

describe('retention on compacted frames', () => {
  let server: Server;
  after(async () => server?.close());

  it('deletes old compacted frames (manifest and row) while newer frames that share their tiles stay intact', async () => {
    server = await startInProcessServer({ compactAfterMinutes: 0, retentionDays: 1 });
    const images = await editingSequence(5);
    const now = Date.now() / 1000;
    const timestamps = [now - 3 * 86_400, now - 2.5 * 86_400, now - 2 * 86_400, now - 600, now - 300];
    const ids: number[] = [];
    for (const [i, image] of images.entries()) ids.push((await upload(server.api, { image, timestamp: timestamps[i]!, monitor: 0 })).body.task_id as number);
    await waitUntil(async () => (await compaction(server.api)).compacted_frames === images.length, { what: 'compaction', timeoutMs: 180_000 });
    const manifests = await Promise.all(ids.map(async (id) => (await entry(server.api, id)).image_path as string));

    const report = await getJson(`${server.api}/storage/prune`, { method: 'POST' });
    assert.equal(report.status, 200);
    assert.equal(report.body.by_age.frames, 3);
    for (const [i, id] of ids.slice(0, 3).entries()) {
      assert.equal((await getJson(`${server.api}/entries/${id}`)).status, 404);
      assert.ok(!fs.existsSync(path.join(server.dataDir, manifests[i]!)), 'its manifest is gone');
    }
    for (const [i, id] of ids.entries()) {
      if (i < 3) continue;
      const image = await fetchImage(server.api, id);
      assert.equal(image.status, 200);
      assert.deepEqual(await rgb(image.bytes), await rgb(images[i]!), `recent frame ${id} intact`);
    }
    await waitUntil(async () => (await compaction(server.api)).compacted_frames === 2, { what: 'compaction figures to follow', timeoutMs: 15_000 });
  });
});

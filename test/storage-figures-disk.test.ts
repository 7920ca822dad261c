import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { editingSequence } from './helpers/compaction-frames.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { runCli } from './helpers/server-process.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

/** What `du` would count: the sizes of the regular files below `dir` (fs.lstat, links not followed). */
function diskBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const name of fs.readdirSync(dir, { recursive: true })) {
    const stat = fs.lstatSync(path.join(dir, String(name)));
    if (stat.isFile()) total += stat.size;
  }
  return total;
}

function assertClose(reported: number, onDisk: number, what: string): void {
  const tolerance = Math.max(0.03 * onDisk, 4096);
  assert.ok(Math.abs(reported - onDisk) <= tolerance, `${what}: reported ${reported} bytes, ${onDisk} on the disk`);
}

// Issue 20, item 5: after processing and compaction, the figures must be the disk's, not the uploads'.
describe('storage figures match the disk', () => {
  let server: Server;
  const frames = 10;
  const compacted = 6;

  before(async () => {
    server = await startInProcessServer({ compactAfterMinutes: 5 });
    const images = await editingSequence(frames);
    const now = Date.now() / 1000;
    // The first ones are old enough to compact, the rest are not.
    for (const [i, image] of images.entries()) await upload(server.api, { image, timestamp: i < compacted ? now - 3600 + i : now - 10 + i, monitor: 0 });
    await waitUntil(
      async () => {
        const status = (await getJson(`${server.api}/queue/status`)).body;
        return status.queue.completed === frames && status.compaction.compacted_frames === compacted;
      },
      { what: 'processing and compaction', timeoutMs: 240_000 },
    );
    await sleep(2100); // the figures shown are at most 2 s old
  });
  after(async () => server?.close());

  it('reports images, thumbnails and the database as the bytes on the disk, in the API and in `openrecall status`', async () => {
    const { storage, compaction } = (await getJson(`${server.api}/queue/status`)).body;
    assert.ok(compaction.stored_bytes < compaction.original_bytes, 'compaction made the frames smaller');
    const images = diskBytes(path.join(server.dataDir, 'screenshots')) + diskBytes(path.join(server.dataDir, 'compact'));
    const thumbnails = diskBytes(path.join(server.dataDir, 'thumbnails'));
    const database = diskBytes(path.join(server.dataDir, 'db'));
    assertClose(storage.images_bytes, images, 'images');
    assertClose(storage.thumbnails_bytes, thumbnails, 'thumbnails');
    assertClose(storage.database_bytes, database, 'database');
    assertClose(storage.used_bytes, images + thumbnails + database, 'used');

    const cli = runCli(['status'], { OPENRECALL_API_URL: server.api });
    assert.equal((await cli.exited).code, 0, cli.output());
    const shown = /storage +([\d.]+) MB used \(images ([\d.]+) MB, thumbnails ([\d.]+) MB, database ([\d.]+) MB\)/.exec(cli.output());
    assert.ok(shown, cli.output());
    const mb = (bytes: number) => bytes / 1024 ** 2;
    const near = (printed: string, bytes: number, what: string) =>
      assert.ok(
        Math.abs(Number(printed) - mb(bytes)) <= Math.max(0.03 * mb(bytes), 0.1),
        `${what}: printed ${printed} MB, ${mb(bytes).toFixed(2)} MB on the disk`,
      );
    near(shown[1]!, images + thumbnails + database, 'used');
    near(shown[2]!, images, 'images');
  });
});

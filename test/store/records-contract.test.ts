import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientReport, CompactedFrame, FramesRepository, NewFrame, Store } from '../../src/store/ports.js';
import { insertShuffled, newFrame, processNext } from '../helpers/store-frames.js';
import { openTestStore, STORE_KINDS, type StoreKind } from '../helpers/stores.js';

/** A stored vector comes back within rounding: SQLite keeps 8 bits a dimension (vector-codec.ts), PostgreSQL float32. */
function assertCloseVector(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) < 0.01, `dimension ${i}: ${actual[i]} vs ${expected[i]}`);
}

async function withStore(kind: StoreKind, test: (store: Store) => Promise<void>): Promise<void> {
  const opened = await openTestStore(kind);
  try {
    await test(opened.store);
  } finally {
    await opened.cleanup();
  }
}

/** A frame taken through the queue to COMPLETED, its image moved out of incoming/ as processing does. */
async function completedFrame(frames: FramesRepository, timestamp: number, overrides: Partial<NewFrame> = {}): Promise<number> {
  const { id } = await frames.insertPending(newFrame(timestamp, { imagePath: `screenshots/2026/${timestamp}.webp`, ...overrides }));
  assert.equal(await processNext(frames), id);
  return id;
}

const unit = (values: number[]) => {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (v) => v / norm);
};

const client = (id: string, paused: boolean | null): ClientReport => ({
  id,
  kind: 'openrecall',
  host: `${id}.lan`,
  version: '0.1.0',
  address: '10.0.0.2',
  heartbeat_seconds: 30,
  paused,
  state: 'recording',
  buffer_bytes: 2048,
  buffer_items: 3,
});

for (const kind of STORE_KINDS) {
  describe(`records contract (${kind})`, () => {
    it('timeline: positions in capture order, the index of a frame and the nearest frame', () =>
      withStore(kind, async ({ frames, timeline }) => {
        assert.deepEqual(await timeline.summary(), { count: 0, first_timestamp: null, last_timestamp: null });
        assert.equal(await timeline.nearest(100), undefined);
        const ids = await insertShuffled(frames, [100, 200, 300, 400]);
        const tie = (await frames.insertPending(newFrame(300))).id;
        assert.deepEqual(await timeline.summary(), { count: 5, first_timestamp: 100, last_timestamp: 400 });
        const page = await timeline.page(1, 3);
        assert.deepEqual(
          page.map((r) => r.timestamp),
          [200, 300, 300],
        );
        assert.deepEqual(
          page.map((r) => r.id),
          [ids.get(200), ids.get(300), tie],
        );
        assert.deepEqual(Object.keys(page[0]!).sort(), ['app', 'height', 'id', 'status', 'timestamp', 'title', 'width']);
        assert.equal(await timeline.indexOf({ id: tie, timestamp: 300 }), 3);
        assert.equal(await timeline.indexOf({ id: ids.get(100)!, timestamp: 100 }), 0);
        assert.equal((await timeline.nearest(240))?.id, ids.get(200));
        assert.equal((await timeline.nearest(260))?.id, ids.get(300));
        assert.equal((await timeline.nearest(250))?.id, ids.get(200), 'the earlier one on a tie');
        assert.equal((await timeline.nearest(50))?.id, ids.get(100));
        assert.equal((await timeline.nearest(900))?.id, ids.get(400));
        assert.equal((await timeline.get(tie))?.status, 'PENDING');
        assert.equal(await timeline.get(tie + 1000), undefined);
      }));

    it('activity: the frames of a time range in order, without their text', () =>
      withStore(kind, async ({ frames, activity }) => {
        const ids = await insertShuffled(frames, [10, 20, 30, 40]);
        const range = await activity.frames(20, 40, 10);
        assert.deepEqual(range, [
          { id: ids.get(20), timestamp: 20, app: 'Editor', title: 'notes.txt' },
          { id: ids.get(30), timestamp: 30, app: 'Editor', title: 'notes.txt' },
        ]);
        assert.equal((await activity.frames(0, 100, 3)).length, 3);
      }));

    it('storage: totals, deletable finished frames, deletion that skips frames back in the queue', () =>
      withStore(kind, async ({ frames, storage }) => {
        assert.equal(await storage.oldestTimestamp(), null);
        const a = await completedFrame(frames, 10, { bytes: 100 });
        const b = await completedFrame(frames, 20, { bytes: 200, imagePath: 'screenshots/incoming/20.webp' });
        const c = await completedFrame(frames, 30, { bytes: 300 });
        const pending = (await frames.insertPending(newFrame(5, { bytes: 400 }))).id;
        assert.equal(await storage.oldestTimestamp(), 5);
        assert.deepEqual(await storage.totals(), { imageBytes: 1000, frames: 4, processedFrames: 3, unfinishedFrames: 1 });

        const deletable = await storage.deletable(30, { timestamp: 0, id: 0 }, 10);
        assert.deepEqual(deletable, [
          { id: a, timestamp: 10, image_path: 'screenshots/2026/10.webp', bytes: 100, processed: 1 },
          { id: b, timestamp: 20, image_path: 'screenshots/incoming/20.webp', bytes: 200, processed: 0 },
        ]);
        assert.deepEqual(
          (await storage.deletable(100, { timestamp: 10, id: a }, 10)).map((f) => f.id),
          [b, c],
        );

        await frames.failCompleted(c, 'broken');
        await frames.retryOne(c);
        const deleted = await storage.deleteFinished([b, a, c, pending]);
        assert.deepEqual(
          deleted.map((f) => f.id),
          [b, a],
        );
        assert.deepEqual(await storage.existing([a, b, c, pending]), new Set([c, pending]));
      }));

    it('storage: records the sizes of frames that have none', () =>
      withStore(kind, async ({ frames, storage }) => {
        const a = await completedFrame(frames, 10);
        const b = await completedFrame(frames, 20);
        await frames.saveResults(a, { bytes: null });
        assert.deepEqual(await storage.withoutBytes(10), [{ id: a, image_path: 'screenshots/2026/10.webp' }]);
        await storage.setBytes([
          { id: a, bytes: 4321 },
          { id: b, bytes: 9 },
        ]);
        assert.deepEqual(await storage.withoutBytes(10), []);
        assert.equal((await frames.get(a))?.bytes, 4321);
        assert.equal((await frames.get(b))?.bytes, 1000, 'a known size is kept');
      }));

    it('embeddings: the walk for frames without a vector goes a window at a time, newest first, ties by id', () =>
      withStore(kind, async ({ frames, embeddings }) => {
        // Five COMPLETED frames, two of them captured at the same second; one PENDING (never looked at).
        const ids = [];
        for (const t of [10, 20, 20, 30, 40]) ids.push(await completedFrame(frames, t));
        await frames.insertPending(newFrame(50));
        const [a, b, c, d, e] = ids as [number, number, number, number, number];
        for (const id of [a, d]) await embeddings.save(id, 'mini', unit([1, 2, 3, 4]));
        // Newest first: e (40), d (30, has one), then the two of 20 (c before b), then a (has one).
        assert.deepEqual(await embeddings.missingIdsAfter('mini', null, 2, 10), { found: [{ timestamp: 40, id: e }], last: { timestamp: 30, id: d } });
        const step = await embeddings.missingIdsAfter('mini', { timestamp: 30, id: d }, 2, 10);
        assert.deepEqual(step, {
          found: [
            { timestamp: 20, id: c },
            { timestamp: 20, id: b },
          ],
          last: { timestamp: 20, id: b },
        });
        // The window ends in the middle of the two frames of one second: the next step takes the other one.
        assert.deepEqual(await embeddings.missingIdsAfter('mini', { timestamp: 20, id: c }, 1, 10), {
          found: [{ timestamp: 20, id: b }],
          last: { timestamp: 20, id: b },
        });
        // `limit` found before the window's end: the step stops at the last one found.
        assert.deepEqual(await embeddings.missingIdsAfter('mini', null, 5, 2), {
          found: [
            { timestamp: 40, id: e },
            { timestamp: 20, id: c },
          ],
          last: { timestamp: 20, id: c },
        });
        // Past the oldest frame: last is null.
        assert.deepEqual(await embeddings.missingIdsAfter('mini', { timestamp: 20, id: b }, 5, 10), { found: [], last: null });
      }));

    it('embeddings: what is missing counts COMPLETED frames without a vector of the model, whatever the others went through', () =>
      withStore(kind, async ({ frames, embeddings }) => {
        const a = await completedFrame(frames, 10);
        const b = await completedFrame(frames, 20);
        const c = await completedFrame(frames, 30);
        await frames.insertPending(newFrame(40)); // waiting: not missing a vector yet
        await embeddings.save(a, 'mini', unit([1, 2, 3, 4]));
        await embeddings.save(b, 'mini', unit([4, 3, 2, 1]));
        await embeddings.save(c, 'other', unit([1, 1, 1, 1]));
        assert.equal(await embeddings.missingCount('mini'), 1, 'c');
        assert.equal(await embeddings.missingCount('other'), 2, 'a and b');
        await frames.failCompleted(b, 'damaged image');
        assert.equal(await embeddings.missingCount('mini'), 1, 'b failed (with its vector): not counted');
        assert.equal(await embeddings.missingCount('other'), 1, 'a');
        assert.equal(await frames.retryOne(b), true);
        assert.equal(await embeddings.missingCount('mini'), 1, 'b queued again (with its vector): not counted');
        await frames.delete(a);
        assert.equal(await embeddings.missingCount('mini'), 1, 'a deleted with its vector: c still misses one');
        assert.equal(await embeddings.missingCount('other'), 0);
        assert.equal(await embeddings.missingCount('never-used'), 1);
      }));

    it('embeddings: vectors and sign bits per model, what is missing, catch-up by seq, gone with the frame', () =>
      withStore(kind, async ({ frames, embeddings }) => {
        const a = await completedFrame(frames, 10);
        const b = await completedFrame(frames, 20);
        const c = await completedFrame(frames, 30);
        assert.equal(await embeddings.missingCount('mini'), 3);
        const va = unit([1, -2, 3, -4]);
        const vb = unit([-1, 2, 0.5, 4]);
        await embeddings.save(a, 'mini', va);
        await embeddings.save(b, 'mini', vb);
        await embeddings.save(c, 'mini', null);
        await embeddings.save(a, 'other', va);
        assert.equal(await embeddings.has(a, 'mini'), true);
        assert.equal(await embeddings.has(c, 'mini'), true, 'a frame without text is recorded as done');
        assert.equal(await embeddings.has(b, 'other'), false);
        assert.equal(await embeddings.missingCount('mini'), 0);
        assert.deepEqual(await embeddings.missingIds('other', 10), [c, b]);

        const bits = await embeddings.bitsSince('mini', 0, 1000);
        assert.deepEqual(
          bits.map((x) => x.entryId),
          [a, b],
        );
        assert.deepEqual([...bits[0]!.bits], [0b0101]);
        assert.deepEqual([...bits[1]!.bits], [0b1110]);
        assert.deepEqual(await embeddings.bitsSince('mini', bits[1]!.seq, 1000), []);
        assert.deepEqual(
          (await embeddings.bitsSince('mini', 0, 1)).map((x) => x.entryId),
          [a],
          'at most `limit` vectors, in the order they were stored',
        );
        assert.equal(await embeddings.entryAtSeq('mini', bits[1]!.seq), b);
        assert.equal(await embeddings.entryAtSeq('other', bits[1]!.seq), undefined, 'another model');

        const vectors = await embeddings.vectors('mini', [a, b, c]);
        assert.deepEqual([...vectors.keys()].sort(), [a, b].sort());
        assertCloseVector(vectors.get(a)!, va);

        // Saving again moves the frame past the reader's position, so an incremental reader sees the change.
        const replaced = unit([-1, -1, -1, 1]);
        await embeddings.save(a, 'mini', replaced);
        const after = await embeddings.bitsSince('mini', bits[1]!.seq, 1000);
        assert.deepEqual(
          after.map((x) => [x.entryId, [...x.bits]]),
          [[a, [0b1000]]],
        );
        assertCloseVector((await embeddings.vectors('mini', [a])).get(a)!, replaced);

        assert.equal((await frames.delete(a)).deleted, true);
        assert.equal(await embeddings.has(a, 'mini'), false);
        assert.deepEqual(
          (await embeddings.bitsSince('mini', 0, 1000)).map((x) => x.entryId),
          [b],
        );
        assert.equal((await embeddings.vectors('other', [a])).size, 0);
      }));

    it('compaction: commit switches the row, layers count their frames, unused layers are swept', () =>
      withStore(kind, async ({ frames, compaction }) => {
        const a = await completedFrame(frames, 10, { bytes: 5000 });
        const b = await completedFrame(frames, 20, { bytes: 6000 });
        const pending = (await frames.insertPending(newFrame(15))).id;
        assert.equal(await compaction.countCandidates(100), 2);
        assert.deepEqual(
          (await compaction.candidates(100, { timestamp: 0, id: 0 }, 10)).map((c) => [c.id, c.image_path, c.bytes, c.monitor]),
          [
            [a, 'screenshots/2026/10.webp', 5000, 0],
            [b, 'screenshots/2026/20.webp', 6000, 0],
          ],
        );
        assert.equal(await compaction.lastCompacted(0), undefined);

        const layerA = { id: a, path: `compact/layers/${a}.bin`, bytes: 800, sha256: 'aa' };
        const commitA: CompactedFrame = {
          entryId: a,
          monitor: 0,
          originalPath: 'screenshots/2026/10.webp',
          originalBytes: 5000,
          manifestPath: `compact/manifests/${a}.json`,
          manifestBytes: 50,
          layer: layerA,
          layerIds: [a],
        };
        assert.equal(await compaction.committed(a, commitA.manifestPath), false);
        assert.equal(await compaction.commit(commitA, 1000), true);
        assert.equal(await compaction.committed(a, commitA.manifestPath), true);
        const rowA = await frames.get(a);
        assert.equal(rowA?.image_path, commitA.manifestPath);
        assert.equal(rowA?.bytes, 850);
        assert.equal(await compaction.commit(commitA, 1001), false, 'the row no longer points at the original');

        const layerB = { id: b, path: `compact/layers/${b}.bin`, bytes: 300, sha256: 'bb' };
        const commitB: CompactedFrame = {
          entryId: b,
          monitor: 0,
          originalPath: 'screenshots/2026/20.webp',
          originalBytes: 6000,
          manifestPath: `compact/manifests/${b}.json`,
          manifestBytes: 40,
          layer: layerB,
          layerIds: [a, b, a],
        };
        assert.equal(await compaction.commit(commitB, 1002), true);
        assert.deepEqual(await compaction.liveLayers(), [layerA, layerB]);
        assert.deepEqual(await compaction.framesUsing(a), [a, b]);
        assert.deepEqual(await compaction.lastCompacted(0), { id: b, path: commitB.manifestPath });
        assert.equal(await compaction.lastCompacted(1), undefined);
        assert.equal(await compaction.countCandidates(100), 0);
        assert.deepEqual(await compaction.compactedFrames(), [
          { id: a, path: commitA.manifestPath },
          { id: b, path: commitB.manifestPath },
        ]);
        assert.deepEqual(await compaction.totals(), { compacted_frames: 2, stored_bytes: 50 + 40 + 800 + 300, original_bytes: 11000 });
        assert.deepEqual(await compaction.unreferencedLayers(10), []);

        await frames.delete(a);
        assert.deepEqual(await compaction.unreferencedLayers(10), [], 'frame b still uses layer a');
        assert.deepEqual(await compaction.framesUsing(a), [b]);
        assert.equal(await compaction.entryExists(a), false);
        assert.equal(await compaction.deleteUnreferencedLayer(a), false);

        await frames.delete(b);
        assert.deepEqual(await compaction.unreferencedLayers(10), [layerA, layerB]);
        assert.deepEqual(await compaction.liveLayers(), []);

        await frames.delete(pending);
        const c = await completedFrame(frames, 30);
        const sharingDead: CompactedFrame = { ...commitB, entryId: c, originalPath: 'screenshots/2026/30.webp', layer: undefined, layerIds: [a] };
        assert.equal(await compaction.commit(sharingDead, 1003), false, 'a layer that lost its last user is not shared');
        assert.equal((await frames.get(c))?.image_path, 'screenshots/2026/30.webp');
        assert.equal(await compaction.deleteUnreferencedLayer(a), true);
        assert.deepEqual(await compaction.unreferencedLayers(10), [layerB]);
      }));

    it('clients: reports keep the first sighting and record the asked pause', () =>
      withStore(kind, async ({ clients }) => {
        assert.deepEqual(await clients.list(), []);
        assert.equal(await clients.lastSeen(), null);
        const first = await clients.report(client('laptop', true), 100);
        assert.equal(first.first_seen, 100);
        assert.equal(first.last_seen, 100);
        assert.equal(first.paused, 1);
        assert.equal(first.desired_paused, null);
        await clients.report(client('desktop', null), 150);
        const again = await clients.report({ ...client('laptop', false), state: 'paused' }, 200);
        assert.deepEqual(
          { first: again.first_seen, last: again.last_seen, paused: again.paused, state: again.state, buffer: again.buffer_bytes },
          { first: 100, last: 200, paused: 0, state: 'paused', buffer: 2048 },
        );
        assert.deepEqual(
          (await clients.list()).map((c) => [c.id, c.paused]),
          [
            ['laptop', 0],
            ['desktop', null],
          ],
        );
        assert.equal(await clients.lastSeen(), 200);
        assert.equal(await clients.desirePaused('nobody', true, 1), false);
        assert.equal(await clients.desirePaused('desktop', true, 7), true);
        const desktop = await clients.get('desktop');
        assert.equal(desktop?.desired_paused, 1);
        assert.equal(desktop?.desired_revision, 7);
        assert.equal(desktop?.heartbeat_seconds, 30);
        assert.equal(await clients.get('nobody'), undefined);
      }));

    it('client-supplied text, URL and metadata: stored aside, the text cleared once the stage made the frame text, the URL a filter', () =>
      withStore(kind, async ({ frames, search, clients }) => {
        const { id } = await frames.insertPending(
          newFrame(1_760_000_000, {
            textSource: 'accessibility',
            browserUrl: 'https://docs.example.org/guide',
            suppliedText: 'Kestrel handbook chapter four',
            clientMetadata: JSON.stringify({ device_name: 'monitor_2', unknown: [1, 2] }),
          }),
        );
        const { id: other } = await frames.insertPending(newFrame(1_760_000_001));
        const row = (await frames.get(id))!;
        assert.deepEqual(
          [row.text_source, row.browser_url, row.supplied_text, JSON.parse(row.client_metadata!).unknown, row.text],
          ['accessibility', 'https://docs.example.org/guide', 'Kestrel handbook chapter four', [1, 2], null],
        );
        assert.equal((await frames.get(other))!.browser_url, null);
        const claim = (await frames.claimNext(1000, { workerId: 'w', seconds: 60 }))!;
        assert.equal(claim.entry.id, id);
        assert.equal(claim.entry.supplied_text, 'Kestrel handbook chapter four', 'the stage reads it from the claim');
        assert.equal(await frames.saveResults(id, { text: 'Kestrel handbook chapter four', supplied_text: null }, 'w'), true);
        assert.equal(await frames.complete(id, 'w'), true);
        await processNext(frames);
        assert.equal((await frames.get(id))!.supplied_text, null);
        assert.deepEqual(await search.filteredIds({ url: 'EXAMPLE.ORG/gui' }, 10), new Set([id]));
        assert.equal((await search.rows([id])).get(id)!.browser_url, 'https://docs.example.org/guide');

        const reported = await clients.report({ ...client('myrecall', true), kind: 'myrecall-v3', report: JSON.stringify({ queue_depth: 3 }) }, 10);
        assert.deepEqual(JSON.parse(reported.report!), { queue_depth: 3 });
        assert.equal((await clients.report(client('plain', null), 11)).report, null);
      }));

    it('settings: one revision sequence shared with the clients’ switches', () =>
      withStore(kind, async ({ settings, clients }) => {
        assert.deepEqual(await settings.all(), []);
        assert.equal(await settings.nextRevision(), 1);
        assert.equal(await settings.set({ capture_interval: 5, paused: false }), 1);
        await clients.report(client('laptop', false), 100);
        await clients.desirePaused('laptop', true, await settings.nextRevision());
        assert.equal((await clients.get('laptop'))?.desired_revision, 2);
        assert.equal(await settings.nextRevision(), 3);
        assert.equal(await settings.set({ paused: true }), 3);
        const stored = new Map((await settings.all()).map((s) => [s.key, s]));
        assert.equal(stored.get('paused')?.value, 'true');
        assert.equal(stored.get('paused')?.revision, 3);
        assert.equal(stored.get('capture_interval')?.value, '5');
        assert.equal(stored.get('capture_interval')?.revision, 1);
        assert.ok(stored.get('paused')!.updated_at > 1_700_000_000);
      }));
  });
}

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CorruptItemError, decodeItem, encodeItem, FrameBuffer, type FrameMeta } from '../../src/client/buffer.js';
import { newCaptureId } from '../../src/client/client.js';
import { listFilesRecursive, tempDir } from '../helpers/temp-dir.js';

let clock = Date.UTC(2026, 0, 1);
const meta = (overrides: Partial<FrameMeta> = {}): FrameMeta => {
  clock += 1000;
  return { captureId: newCaptureId(clock, 0), timestamp: clock / 1000, app: 'Editor', title: 'notes.txt', monitor: 0, contentType: 'image/png', ...overrides };
};

function recorder() {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m) };
}

test('capture ids sort by capture time and are unique', () => {
  const ids = [newCaptureId(1_000, 0), newCaptureId(1_001, 1), newCaptureId(99_999_999_999, 0), newCaptureId(1_800_000_000_000, 0)];
  assert.deepEqual([...ids].sort(), ids);
  assert.notEqual(newCaptureId(5, 0), newCaptureId(5, 0));
  assert.match(ids[0]!, /^[0-9a-z]{9}-0-[0-9a-f]{10}$/);
});

test('an item round-trips; damage of any kind is detected', () => {
  const m = meta({ title: 'naïve ☕ title\nwith newline' });
  const image = Buffer.from('image bytes');
  const bytes = encodeItem(m, image);
  const decoded = decodeItem(bytes);
  assert.deepEqual(decoded.meta, m);
  assert.deepEqual(decoded.image, image);
  assert.throws(() => decodeItem(bytes.subarray(0, bytes.length - 1)), CorruptItemError);
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 1]! ^= 1;
  assert.throws(() => decodeItem(flipped), /checksum/);
  assert.throws(() => decodeItem(Buffer.from('PNG...')), /bad magic/);
  assert.throws(() => decodeItem(bytes.subarray(0, 30)), CorruptItemError);
});

test('frames are written whole, listed oldest first and survive a reopen', () => {
  const dir = path.join(tempDir(), 'buffer');
  const buffer = new FrameBuffer(dir, 10 * 1024 * 1024, () => {});
  buffer.open();
  const metas = [meta(), meta(), meta()];
  for (const m of metas) assert.equal(buffer.write(m, Buffer.alloc(100, 1)), true);
  assert.deepEqual(
    listFilesRecursive(dir),
    metas.map((m) => `${m.captureId}.orf`),
  );
  const reopened = new FrameBuffer(dir, 10 * 1024 * 1024, () => {});
  reopened.open();
  assert.equal(reopened.stats().items, 3);
  assert.equal(reopened.next(), `${metas[0]!.captureId}.orf`);
  assert.equal(reopened.read(reopened.next()!).meta.captureId, metas[0]!.captureId);
  reopened.remove(`${metas[0]!.captureId}.orf`);
  assert.equal(reopened.next(), `${metas[1]!.captureId}.orf`);
  assert.equal(reopened.stats().items, 2);
});

test('leftovers of a crash and stray files are quarantined with a reason on start, and do not block the queue', () => {
  const dir = path.join(tempDir(), 'buffer');
  const first = new FrameBuffer(dir, 10 * 1024 * 1024, () => {});
  first.open();
  const good = meta();
  first.write(good, Buffer.alloc(10, 2));
  // What a kill -9 between write and rename leaves, and something that does not belong.
  fs.writeFileSync(path.join(dir, `.tmp-${newCaptureId(clock + 5000, 0)}-123`), 'OPENRECALL-FRAME 1\n{"captureId":');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
  const { lines, log } = recorder();
  const buffer = new FrameBuffer(dir, 10 * 1024 * 1024, log);
  buffer.open();
  assert.equal(buffer.stats().items, 1);
  assert.equal(buffer.next(), `${good.captureId}.orf`);
  const quarantined = listFilesRecursive(buffer.quarantineDir);
  assert.equal(quarantined.length, 4, quarantined.join(','));
  const reasons = quarantined.filter((f) => f.endsWith('.reason.txt')).map((f) => fs.readFileSync(path.join(buffer.quarantineDir, f), 'utf8'));
  assert.ok(reasons.some((r) => /incomplete write/.test(r)));
  assert.ok(reasons.some((r) => /orphaned/.test(r)));
  assert.equal(lines.filter((l) => /quarantined/.test(l)).length, 2);

  // A damaged item in the queue: read() says so and quarantine() moves it out of the way.
  const damaged = `${good.captureId}.orf`;
  fs.appendFileSync(path.join(dir, damaged), 'junk');
  assert.throws(() => buffer.read(damaged), CorruptItemError);
  buffer.quarantine(damaged, 'corrupt: test');
  assert.equal(buffer.next(), undefined);
  assert.ok(fs.existsSync(path.join(buffer.quarantineDir, damaged)));
  assert.match(fs.readFileSync(path.join(buffer.quarantineDir, `${damaged}.reason.txt`), 'utf8'), /corrupt: test/);
});

test('when full, the oldest frames are dropped, counted and logged; the new frame is kept', () => {
  const dir = path.join(tempDir(), 'buffer');
  const itemSize = encodeItem(meta(), Buffer.alloc(1000)).length;
  const { lines, log } = recorder();
  const buffer = new FrameBuffer(dir, itemSize * 3 + 10, log);
  buffer.open();
  const metas = Array.from({ length: 5 }, () => meta());
  for (const m of metas) assert.equal(buffer.write(m, Buffer.alloc(1000)), true);
  const stats = buffer.stats();
  assert.equal(stats.items, 3);
  assert.equal(stats.dropped, 2);
  assert.ok(stats.bytes <= stats.maxBytes);
  assert.deepEqual(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.orf'))
      .sort(),
    metas.slice(2).map((m) => `${m.captureId}.orf`),
  );
  const drops = lines.filter((l) => /dropped the oldest frame/.test(l));
  assert.equal(drops.length, 2);
  assert.ok(drops[0]!.includes(metas[0]!.captureId) && drops[1]!.includes('2 dropped so far'));

  // The item being uploaded is never dropped from under the uploader.
  const inFlight = buffer.next();
  buffer.write(meta(), Buffer.alloc(1000));
  assert.ok(fs.existsSync(path.join(dir, inFlight!)));
  // A frame bigger than the whole cap cannot be kept: dropped and counted.
  assert.equal(buffer.write(meta(), Buffer.alloc(itemSize * 4)), false);
  assert.equal(buffer.stats().dropped, 4);
});

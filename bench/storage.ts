// Stored bytes of a realistic capture sequence (bench/fixtures/storage, recorded with the real client under
// Xvfb by bench/record-storage-fixture.ts), side by side: PNG, per-frame lossless WebP (what ingest stores),
// JPEG q80 (what screenpipe stores) and compaction (shared tiles; the real server process does it). Then the
// time to first byte of GET /api/entries/:id/image on compacted frames, and OCR word retention on rebuilt frames.
//   node --import tsx bench/storage.ts [--ocr-frames 12]
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { STORED_WEBP } from '../src/images/codec.js';
import { CompactedFrameReader } from '../src/images/compaction/frame-reader.js';
import { ImageStore } from '../src/images/image-store.js';
import { TesseractJsEngine } from '../src/pipeline/ocr/tesseract-js-engine.js';
import { decodeGreyscale } from '../src/pipeline/stage.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { compactAndFetch, recordedFrames } from './frame-fetch.js';

const { values } = parseArgs({ options: { 'ocr-frames': { type: 'string', default: '12' } } });
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const frames = recordedFrames();
const raws = await Promise.all(frames.map((f) => sharp(f.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
const { width, height } = raws[0]!.info;
console.error(
  `storage benchmark: ${frames.length} frames of ${width}x${height} from bench/fixtures/storage (${os.availableParallelism()} cores, shared machine)`,
);

// Per-frame encoders.
const encoded = { png: [] as number[], webp: [] as number[], jpeg: [] as number[] };
for (const { data, info } of raws) {
  const input = () => sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } });
  encoded.png.push((await input().png().toBuffer()).length);
  encoded.webp.push((await input().webp(STORED_WEBP).toBuffer()).length);
  encoded.jpeg.push((await input().jpeg({ quality: 80 }).toBuffer()).length);
}
const pngBytes = sum(encoded.png);

// Compaction by the real server (processor process), then the frames fetched through the real route.
const dataDir = tempDir('openrecall-bench-storage-');
const { ids, compactSeconds, compaction, cold, coldOrder: shuffled, scrub } = await compactAndFetch(dataDir, frames);

// The rebuild alone, in this process (no HTTP): fresh reader (nothing cached), frames in random order.
const store = new ImageStore(dataDir);
const paths: string[] = [];
{
  const { default: Database } = await import('better-sqlite3-multiple-ciphers');
  const db = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true });
  const select = db.prepare(`SELECT image_path FROM entries WHERE id = ?`).pluck();
  for (const [i, id] of ids.entries()) paths[i] = select.get(id) as string;
  db.close();
}
const reader = new CompactedFrameReader(store);
const rebuild = { pixels: [] as number[], png: [] as number[], cpu: [] as number[] };
for (const i of shuffled) {
  // CPU time of this process's threads (libvips decodes, the copy, the encode): what the rebuild costs whatever
  // else the machine is doing; wall times on a shared machine include waiting for a core.
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const pixels = await reader.pixels(paths[i]!);
  rebuild.pixels.push(performance.now() - started);
  const { encodeServed } = await import('../src/images/codec.js');
  const encodeStart = performance.now();
  await encodeServed(pixels);
  rebuild.png.push(performance.now() - encodeStart);
  const cpu = process.cpuUsage(cpuBefore);
  rebuild.cpu.push((cpu.user + cpu.system) / 1000);
}

// Lossless check on every frame, OCR (the project's tesseract.js engine) on a sample.
let identical = 0;
for (const [i, { data }] of raws.entries()) {
  const rebuilt = await sharp(cold.images.get(i)!).removeAlpha().raw().toBuffer();
  if (rebuilt.equals(data)) identical++;
}
const ocrFrames = Math.min(frames.length, Number(values['ocr-frames']));
const step = frames.length / ocrFrames;
const engine = await TesseractJsEngine.create(1);
const words = (text: string) =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length >= 2);
let originalWords = 0;
let kept = 0;
for (let k = 0; k < ocrFrames; k++) {
  const i = Math.floor(k * step);
  const before = words(await engine.recognize(await decodeGreyscale(frames[i]!.bytes)));
  const after = new Map<string, number>();
  for (const w of words(await engine.recognize(await decodeGreyscale(cold.images.get(i)!)))) after.set(w, (after.get(w) ?? 0) + 1);
  originalWords += before.length;
  for (const w of before) {
    const n = after.get(w) ?? 0;
    if (n > 0) kept++, after.set(w, n - 1);
  }
}
await engine.close();

const ratio = (bytes: number) => round(bytes / pngBytes);
const summary = {
  benchmark: 'storage',
  machine: `${os.availableParallelism()} cores, ${os.cpus()[0]?.model} (shared with other work)`,
  frames: frames.length,
  resolution: `${width}x${height}`,
  png_mb: round(pngBytes / 1024 / 1024, 2),
  bytes_over_png: {
    png: 1,
    webp_lossless_per_frame: ratio(sum(encoded.webp)),
    jpeg_q80: ratio(sum(encoded.jpeg)),
    compacted: ratio(compaction.stored_bytes),
  },
  compacted_bytes_per_frame_kb: round(compaction.stored_bytes / frames.length / 1024, 1),
  compaction_seconds: round(compactSeconds, 1),
  fetch_ms_fresh_server_random_order: {
    ttfb_p50: round(percentile(cold.ttfb, 50), 1),
    ttfb_p95: round(percentile(cold.ttfb, 95), 1),
    total_p95: round(percentile(cold.total, 95), 1),
  },
  fetch_ms_scrubbing_in_order: {
    ttfb_p50: round(percentile(scrub.ttfb, 50), 1),
    ttfb_p95: round(percentile(scrub.ttfb, 95), 1),
    total_p95: round(percentile(scrub.total, 95), 1),
  },
  rebuild_in_process_ms: {
    decode_and_composite_p50: round(percentile(rebuild.pixels, 50), 1),
    decode_and_composite_p95: round(percentile(rebuild.pixels, 95), 1),
    png_encode_p50: round(percentile(rebuild.png, 50), 1),
    png_encode_p95: round(percentile(rebuild.png, 95), 1),
    cpu_p50: round(percentile(rebuild.cpu, 50), 1),
    cpu_p95: round(percentile(rebuild.cpu, 95), 1),
  },
  load_average_during_run: os.loadavg().map((l) => round(l, 1)),
  pixel_identical_frames: `${identical}/${frames.length}`,
  ocr: { frames: ocrFrames, words_on_originals: originalWords, word_retention: originalWords ? round(kept / originalWords) : null },
};
console.log(JSON.stringify(summary, null, 2));

// OCR throughput and accuracy: the real server pipeline (upload -> stored WebP -> tesseract.js workers) versus
// the native `tesseract` CLI (Debian tesseract-ocr) on the same rendered 1080p screenshots, in the same run.
//   node --import tsx bench/ocr.ts [--frames 8] [--workers N]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { uploadFrame } from '../src/api-client/upload.js';
import { defaultWorkers } from '../src/config.js';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { wordRecall } from '../test/helpers/words.js';
import { renderScreenshots, round } from './fixtures.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '8' }, workers: { type: 'string', default: String(defaultWorkers()) } } });
const frames = Number(values.frames);
const shots = await renderScreenshots(frames);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// Native CLI, one process per frame as a script would run it.
const dir = tempDir('openrecall-bench-ocr-');
const cliRecall: number[] = [];
const cliStart = performance.now();
for (const [i, shot] of shots.entries()) {
  const file = path.join(dir, `${i}.png`);
  fs.writeFileSync(file, shot.png);
  const { stdout } = await promisify(execFile)('tesseract', [file, 'stdout', '-l', 'eng'], { maxBuffer: 16 * 1024 * 1024 });
  cliRecall.push(wordRecall(shot.words, stdout));
}
const cliSeconds = (performance.now() - cliStart) / 1000;

// The pipeline: real server process, frames uploaded at once, timed until the last one is COMPLETED.
const server = await startServerProcess(tempDir('openrecall-bench-'), { OPENRECALL_WORKERS: values.workers! });
const pipelineStart = performance.now();
const ids: number[] = [];
for (const [i, shot] of shots.entries()) {
  const response = await uploadFrame(server.api, { image: shot.png, contentType: 'image/png', timestamp: Date.now() / 1000, app: 'bench', title: `ocr ${i}` });
  ids.push(response.body.task_id!);
}
await waitUntil(async () => (await getJson(`${server.api}/queue/status`)).body.queue.completed === frames, { timeoutMs: 600_000, intervalMs: 50, what: 'OCR' });
const pipelineSeconds = (performance.now() - pipelineStart) / 1000;
const pipelineRecall: number[] = [];
let storedBytes = 0;
for (const [i, id] of ids.entries()) {
  const entry = (await getJson(`${server.api}/entries/${id}`)).body;
  pipelineRecall.push(wordRecall(shots[i]!.words, entry.text ?? ''));
  storedBytes += entry.bytes;
}
await server.stop();

const pngBytes = shots.reduce((a, s) => a + s.png.length, 0);
console.log(
  JSON.stringify(
    {
      benchmark: 'ocr',
      machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model}`,
      frames,
      words_per_frame: round(mean(shots.map((s) => s.words.length)), 0),
      pipeline: {
        engine: 'tesseract-js',
        workers: Number(values.workers),
        seconds: round(pipelineSeconds),
        frames_per_second: round(frames / pipelineSeconds, 3),
        word_recall: round(mean(pipelineRecall), 3),
      },
      native_cli: {
        engine: 'tesseract CLI',
        seconds: round(cliSeconds),
        frames_per_second: round(frames / cliSeconds, 3),
        word_recall: round(mean(cliRecall), 3),
      },
      speed_ratio_vs_cli: round(cliSeconds / pipelineSeconds, 2),
      stored_bytes_per_frame: Math.round(storedBytes / frames),
      png_bytes_per_frame: Math.round(pngBytes / frames),
      stored_vs_png: round(storedBytes / pngBytes, 3),
    },
    null,
    2,
  ),
);

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { getJson } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { runCli, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const MiB = 1024 * 1024;

/** Writes a zip the way `openrecall export` does (fflate, streamed); `entries` yields name, chunks, compress. */
async function writeZip(file: string, entries: Array<{ name: string; chunks: () => Iterable<Uint8Array>; compress: boolean }>): Promise<void> {
  const out = fs.createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  const zip = new Zip((error, chunk, final) => {
    if (error) throw error;
    out.write(chunk);
    if (final) out.end();
  });
  for (const entry of entries) {
    const file = entry.compress ? new ZipDeflate(entry.name, { level: 9 }) : new ZipPassThrough(entry.name);
    zip.add(file);
    for (const chunk of entry.chunks()) file.push(chunk);
    file.push(new Uint8Array(0), true);
  }
  zip.end();
  await done;
}

const once = (bytes: Uint8Array | string) =>
  function* () {
    yield typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  };
const header = { name: 'export.json', chunks: once(JSON.stringify({ format: 'openrecall-export', version: 1 })), compress: true };
const frameJson = (id: number, image: string) => ({
  name: `frames/${id}.json`,
  chunks: once(JSON.stringify({ id, timestamp: 1_767_000_000 + id, app: 'Notes', title: `frame ${id}`, monitor: 0, capture_id: `bomb-${id}`, image })),
  compress: true,
});

/**
 * Runs `openrecall import` as its own process and reads its peak resident memory when it exits (the kernel's
 * high-water mark, as getrusage reports it), through a preloaded hook: no sampling to miss the peak.
 */
async function importMeasured(zip: string, api: string): Promise<{ code: number | null; output: string; peakMiB: number }> {
  const hook = path.join(tempDir(), 'peak-rss.cjs');
  const report = 'require("fs").writeSync(2, "peak-rss-kib=" + process.resourceUsage().maxRSS + "\\n")';
  fs.writeFileSync(hook, `process.on('exit', () => ${report});\n`);
  const run = runCli(['import', zip], { OPENRECALL_API_URL: api, OPENRECALL_DATA_DIR: tempDir(), NODE_OPTIONS: `--require ${hook}` });
  const { code } = await run.exited;
  const match = /peak-rss-kib=(\d+)/.exec(run.output());
  assert.ok(match, run.output());
  return { code, output: run.output(), peakMiB: Number(match[1]) / 1024 };
}

describe('openrecall import of a hostile zip', () => {
  let server: ServerProcess;
  let png: Buffer;
  before(async () => {
    server = await startServerProcess(tempDir(), { OPENRECALL_OCR_ENGINE: 'none' });
    png = await solidPng(320, 200, '#446688');
  });
  after(() => server?.stop());
  const titles = async () => ((await getJson(`${server.api}/entries?limit=100`)).body.entries as Array<{ title: string }>).map((e) => e.title).sort();

  it('a 256 MiB frames.jsonl packed into a few hundred KB is never inflated: peak memory stays that of a small import', async () => {
    const zip = path.join(tempDir(), 'bomb.zip');
    const zeros = new Uint8Array(MiB).fill(0x61);
    await writeZip(zip, [
      header,
      frameJson(1, 'frames/1.png'),
      { name: 'frames/1.png', chunks: once(png), compress: false },
      {
        name: 'frames.jsonl',
        chunks: function* () {
          for (let i = 0; i < 256; i++) yield zeros;
        },
        compress: true,
      },
    ]);
    assert.ok(fs.statSync(zip).size < 400 * 1024, `the bomb is small: ${fs.statSync(zip).size} bytes`);

    const run = await importMeasured(zip, server.api);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /imported 1, skipped 0/);
    console.log(`import of a zip holding 256 MiB of frames.jsonl: peak RSS ${run.peakMiB.toFixed(0)} MiB`);
    // A whole inflated frames.jsonl alone is 256 MiB (its UTF-8 string again as much); a plain import of a small zip is ~100 MiB.
    assert.ok(run.peakMiB < 250, `peak RSS ${run.peakMiB.toFixed(0)} MiB`);
  });

  it('a bomb in an entry that is read stops at its limit, names it, and nothing after it is uploaded', async () => {
    const zip = path.join(tempDir(), 'bad-middle.zip');
    const zeros = new Uint8Array(MiB).fill(0x20);
    await writeZip(zip, [
      header,
      frameJson(11, 'frames/11.png'),
      { name: 'frames/11.png', chunks: once(png), compress: false },
      {
        name: 'frames/12.json',
        chunks: function* () {
          yield Buffer.from('{"id": 12, "image": "frames/12.png"');
          for (let i = 0; i < 64; i++) yield zeros;
          yield Buffer.from('}');
        },
        compress: true,
      },
      { name: 'frames/12.png', chunks: once(png), compress: false },
      frameJson(13, 'frames/13.png'),
      { name: 'frames/13.png', chunks: once(png), compress: false },
    ]);
    // The central directory lies: it says frames/12.json is 100 bytes, so only the streaming limit can stop it.
    const bytes = fs.readFileSync(zip);
    const name = bytes.lastIndexOf('frames/12.json');
    assert.equal(bytes.readUInt32LE(name - 46), 0x02014b50, 'the central directory entry');
    bytes.writeUInt32LE(100, name - 46 + 24);
    fs.writeFileSync(zip, bytes);
    const run = await importMeasured(zip, server.api);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /frames\/12\.json: inflates past 1048576 bytes/);
    assert.ok(run.peakMiB < 250, `peak RSS ${run.peakMiB.toFixed(0)} MiB`);

    const damaged = path.join(tempDir(), 'damaged-middle.zip');
    await writeZip(damaged, [
      header,
      frameJson(21, 'frames/21.png'),
      { name: 'frames/21.png', chunks: once(png), compress: false },
      { name: 'frames/22.json', chunks: once('{"id": 22, "image": "frames/22.png", '), compress: true },
      { name: 'frames/22.png', chunks: once(png), compress: false },
      frameJson(23, 'frames/23.png'),
      { name: 'frames/23.png', chunks: once(png), compress: false },
    ]);
    const second = await importMeasured(damaged, server.api);
    assert.equal(second.code, 1, second.output);
    assert.match(second.output, /frames\/22\.json: not valid JSON/);

    // The frames before each bad entry arrived; none after it did.
    const imported = await titles();
    for (const before of ['frame 11', 'frame 21']) assert.ok(imported.includes(before), `${before} in ${imported}`);
    for (const later of ['frame 12', 'frame 13', 'frame 22', 'frame 23']) assert.ok(!imported.includes(later), `${later} not in ${imported}`);
  });
});

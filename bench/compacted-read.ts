// What an /image of a compacted frame costs the server, in-process, plain vs encrypted, interleaved (issue 20).
// bench/frame-fetch.ts measures it over HTTP, where the machine's load decides most of a TTFB; this one times the
// server's own work, CPU and wall per frame, with a cold reader (as a fresh server) each pass:
//   - rebuild: CompactedFrameReader.png (manifest, layers read and opened, chunks decoded, tiles composited, PNG);
//   - files: only the reads (the manifest and every layer the frame uses, opened through the data dir's cipher).
// The two data dirs (the recorded sequence compacted by a real server, as bench/frame-fetch.ts does) are built once
// in --fixtures (image-plain-<frames>, image-encrypted-<frames> and its key file) and reused.
//   node --import tsx bench/compacted-read.ts [--frames 49] [--rounds 4] [--fixtures /work/bench-fixtures]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openEncryption } from '../src/encryption/open-encryption.js';
import type { FileCipher } from '../src/files/file-cipher.js';
import { openDataDir } from '../src/files/open-data-dir.js';
import { CompactedFrameReader } from '../src/images/compaction/frame-reader.js';
import { decodeManifest } from '../src/images/compaction/manifest.js';
import { ImageStore } from '../src/images/image-store.js';
import { openStore } from '../src/store/open-store.js';
import { percentile, round } from './fixtures.js';
import { compactAndFetch, recordedFrames } from './frame-fetch.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '49' },
    rounds: { type: 'string', default: '4' },
    fixtures: { type: 'string', default: '/work/bench-fixtures' },
  },
});
const FRAMES = Number(values.frames);
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

type Mode = 'plain' | 'encrypted';
const dirOf = (mode: Mode) => path.join(values.fixtures, `image-${mode}-${FRAMES}`);
const keyFile = `${dirOf('encrypted')}.key`;
const envOf = (mode: Mode): Record<string, string> =>
  mode === 'plain' ? { OPENRECALL_ENCRYPTION: 'off' } : { OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile };

interface Opened {
  images: ImageStore;
  /** Each frame's manifest path. */
  manifests: string[];
}

async function open(mode: Mode): Promise<Opened> {
  const dataDir = dirOf(mode);
  if (!fs.existsSync(path.join(dataDir, 'compacted.json'))) {
    console.error(`== compacting ${FRAMES} frames into ${dataDir} (once); loadavg ${loadavg()}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
    const { ids } = await compactAndFetch(dataDir, recordedFrames().slice(0, FRAMES), envOf(mode));
    fs.writeFileSync(path.join(dataDir, 'compacted.json'), JSON.stringify({ ids }));
  }
  const { ids } = JSON.parse(fs.readFileSync(path.join(dataDir, 'compacted.json'), 'utf8')) as { ids: number[] };
  const opened = await openEncryption(mode === 'plain' ? { mode: 'off' } : { mode: 'on', keyFile }, dataDir);
  if (opened.encrypted && opened.locked) throw new Error('locked');
  const keys = opened.encrypted ? opened.keys : undefined;
  const cipher: FileCipher | undefined = keys?.fileCipher;
  const images = new ImageStore(openDataDir(dataDir, cipher));
  const store = await openStore({ sqliteFile: images.paths.dbFile, dataDir, ...(keys ? { databaseKey: keys.databaseKey } : {}) });
  const manifests = await Promise.all(ids.map(async (id) => (await store.frames.get(id))!.image_path!));
  await store.close();
  return { images, manifests };
}

/** CPU (this process, all threads: sharp decodes on libuv's) and wall time of `run`, in ms. */
async function timed(run: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await run();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { cpu: (cpu.user + cpu.system) / 1000, wall };
}

const opened = { plain: await open('plain'), encrypted: await open('encrypted') };
const samples: Record<string, Record<Mode, { cpu: number[]; wall: number[] }>> = {};
const add = (what: string, mode: Mode, t: { cpu: number; wall: number }) => {
  samples[what] ??= { plain: { cpu: [], wall: [] }, encrypted: { cpu: [], wall: [] } };
  samples[what][mode].cpu.push(t.cpu);
  samples[what][mode].wall.push(t.wall);
};
const loads: string[] = [loadavg()];
for (let r = 1; r <= Number(values.rounds); r++) {
  for (const mode of (r % 2 ? ['plain', 'encrypted'] : ['encrypted', 'plain']) as Mode[]) {
    const { images, manifests } = opened[mode];
    const order = manifests.map((_, i) => i).sort(() => Math.random() - 0.5);
    // A cold reader each pass (its caches start empty, as in a fresh server).
    const reader = new CompactedFrameReader(images);
    for (const i of order) add('rebuild', mode, await timed(() => reader.png(manifests[i]!)));
    for (const i of order) {
      add(
        'files',
        mode,
        await timed(async () => {
          const manifest = decodeManifest(await images.read(manifests[i]!));
          await Promise.all(manifest.layers.map((layer) => images.read(layer)));
        }),
      );
    }
    console.error(`round ${r} ${mode} done; loadavg ${loadavg()}`);
  }
}
loads.push(loadavg());

const p = (xs: number[], at: number) =>
  round(
    percentile(
      [...xs].sort((a, b) => a - b),
      at,
    ),
    2,
  );
const figures = Object.fromEntries(
  Object.entries(samples).map(([what, byMode]) => [
    what,
    Object.fromEntries(
      (['plain', 'encrypted'] as Mode[]).map((mode) => [
        mode,
        { cpu_p50: p(byMode[mode].cpu, 50), cpu_p95: p(byMode[mode].cpu, 95), wall_p50: p(byMode[mode].wall, 50), wall_p95: p(byMode[mode].wall, 95) },
      ]),
    ),
  ]),
);
console.log(JSON.stringify({ benchmark: 'compacted-read', frames: FRAMES, rounds: Number(values.rounds), loadavg: loads, figures }, null, 2));

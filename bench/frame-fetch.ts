// GET /api/entries/:id/image on compacted frames through the real server process: the recorded sequence of
// bench/fixtures/storage uploaded, compacted by the server's processor, then fetched from a fresh server (no
// decoded layer cached) in random order and again in capture order (scrubbing). Used by bench/storage.ts and
// bench/encryption.ts (the same with OPENRECALL_ENCRYPTION=on).
import fs from 'node:fs';
import path from 'node:path';
import { uploadFrame } from '../src/api-client/upload.js';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { startServerProcess } from '../test/helpers/server-process.js';

export interface RecordedFrame {
  file: string;
  timestamp: number;
  app: string;
  title: string;
  monitor: number | null;
  bytes: Buffer;
}

/** The frames recorded by bench/record-storage-fixture.ts, in capture order. */
export function recordedFrames(): RecordedFrame[] {
  const fixture = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'storage');
  const meta = JSON.parse(fs.readFileSync(path.join(fixture, 'frames.json'), 'utf8')) as { frames: Array<Omit<RecordedFrame, 'bytes'>> };
  return meta.frames.map((f) => ({ ...f, bytes: fs.readFileSync(path.join(fixture, f.file)) }));
}

export interface FetchTimes {
  ttfb: number[];
  total: number[];
  /** The served image of each frame, by its index in the sequence. */
  images: Map<number, Buffer>;
}

export interface CompactedFetch {
  ids: number[];
  compactSeconds: number;
  /** /api/queue/status's `compaction` after the run. */
  compaction: { stored_bytes: number; compacted_frames: number };
  /** Fresh server, random order (`coldOrder`: the frames' indexes in that order). */
  cold: FetchTimes;
  coldOrder: number[];
  /** The same server again, capture order. */
  scrub: FetchTimes;
}

/** Uploads `frames` to a server on `dataDir` (extra `env`: e.g. encryption), waits until all are compacted, fetches them. */
export async function compactAndFetch(dataDir: string, frames: RecordedFrame[], env: Record<string, string> = {}): Promise<CompactedFetch> {
  const serverEnv = { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_COMPACT_AFTER_MINUTES: '0', ...env };
  let server = await startServerProcess(dataDir, serverEnv);
  const ids: number[] = [];
  for (const f of frames) {
    const response = await uploadFrame(server.api, {
      image: f.bytes,
      contentType: 'image/webp',
      timestamp: f.timestamp,
      app: f.app,
      title: f.title,
      ...(f.monitor !== null ? { monitor: f.monitor } : {}),
    });
    ids.push(response.body.task_id!);
  }
  const compactStart = performance.now();
  await waitUntil(async () => (await getJson(`${server.api}/queue/status`)).body.compaction.compacted_frames === frames.length, {
    timeoutMs: 900_000,
    intervalMs: 250,
    what: 'compaction',
  });
  const compactSeconds = (performance.now() - compactStart) / 1000;
  const compaction = (await getJson(`${server.api}/queue/status`)).body.compaction;
  await server.stop();

  server = await startServerProcess(dataDir, serverEnv);
  const fetchTimes = async (order: number[]): Promise<FetchTimes> => {
    const ttfb: number[] = [];
    const total: number[] = [];
    const images = new Map<number, Buffer>();
    for (const i of order) {
      const started = performance.now();
      const response = await fetch(`${server.api}/entries/${ids[i]}/image`);
      ttfb.push(performance.now() - started);
      const body = Buffer.from(await response.arrayBuffer());
      total.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`frame ${ids[i]}: ${response.status} ${body.toString()}`);
      images.set(i, body);
    }
    return { ttfb, total, images };
  };
  try {
    const shuffled = frames.map((_, i) => i).sort(() => Math.random() - 0.5);
    // A thumbnail first (a file read, no decode): the server answers its first request slower (route compilation).
    await fetch(`${server.api}/entries/${ids[shuffled.at(-1)!]}/thumbnail`).then((r) => r.arrayBuffer());
    const cold = await fetchTimes(shuffled);
    const scrub = await fetchTimes(frames.map((_, i) => i));
    return { ids, compactSeconds, compaction, cold, coldOrder: shuffled, scrub };
  } finally {
    await server.stop();
  }
}

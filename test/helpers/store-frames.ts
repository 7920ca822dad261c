import type { FramesRepository, NewFrame } from '../../src/store/ports.js';

let sequence = 0;

/** A capture as the upload route records it; each call has its own capture id. */
export function newFrame(timestamp: number, overrides: Partial<NewFrame> = {}): NewFrame {
  return {
    captureId: `capture-${process.pid}-${sequence++}`,
    timestamp,
    app: 'Editor',
    title: 'notes.txt',
    monitor: 0,
    imagePath: `screenshots/incoming/${sequence}.webp`,
    width: 1920,
    height: 1080,
    bytes: 1000,
    receivedAt: timestamp + 1,
    ...overrides,
  };
}

/** Inserts frames in a shuffled order so that id order and capture-time order differ; returns id by timestamp. */
export async function insertShuffled(frames: FramesRepository, timestamps: number[]): Promise<Map<number, number>> {
  const shuffled = [...timestamps].sort((a, b) => ((a * 7919) % 13) - ((b * 7919) % 13));
  const ids = new Map<number, number>();
  for (const timestamp of shuffled) ids.set(timestamp, (await frames.insertPending(newFrame(timestamp))).id);
  return ids;
}

/** Claims the next frame and completes it as worker `workerId`. */
export async function processNext(frames: FramesRepository, workerId = 'worker-1'): Promise<number> {
  const claim = await frames.claimNext(1000, { workerId, seconds: 60 });
  if (!claim) throw new Error('nothing to claim');
  if (!(await frames.complete(claim.entry.id, workerId))) throw new Error('complete refused');
  return claim.entry.id;
}

import type { ServerConfig } from '../config.js';
import type { ImageStore } from '../images/image-store.js';
import type { Logger } from '../log.js';
import type { CompactionRepository } from '../store/ports.js';
import { CompactionService } from './compaction-service.js';

/** Frames compacted per turn: a turn ends within a second or two, so newly uploaded frames never wait long. */
const BATCH = 4;
/**
 * The longest wait between looks for frames that became old enough, and for layers that lost their last frame
 * (compaction at once looks every 2 s).
 */
const CHECK_MS = 30_000;

/**
 * Compaction in the processor: finishes what a crash interrupted, then compacts a few frames whenever the
 * queue is idle (the processor runs niced). Returns the work hook for ProcessingWorker's idle turns.
 */
export async function startBackgroundCompaction(
  repo: CompactionRepository,
  images: ImageStore,
  config: Pick<ServerConfig, 'compactAfterMinutes'>,
  log: Logger,
  /** Runs a task unless another process holds the compaction lock (then false): one compactor per data dir. */
  exclusive: (task: () => Promise<void>) => Promise<boolean> = async (task) => (await task(), true),
): Promise<{ service: CompactionService; idleWork: () => Promise<number> | undefined }> {
  const service = new CompactionService(repo, images, {
    afterMinutes: config.compactAfterMinutes,
    log,
  });
  // What a crash interrupted (its journal is in the shared data dir) is finished by whoever holds the lock next.
  await exclusive(async () => {
    await service.recover();
    await service.sweep();
  });
  // Compaction at once (0 minutes, as tests and eager users set it): frames and layers alike every 2 s.
  const checkMs = Math.min(CHECK_MS, config.compactAfterMinutes * 60_000 || 2000);
  let nextCheck = 0;
  let lastSweep = Date.now();
  const idleWork = (): Promise<number> | undefined => {
    if (Date.now() < nextCheck && !service.hasUrgentWork()) return undefined;
    return (async () => {
      let done = 0;
      const held = await exclusive(async () => {
        await service.recover();
        if (Date.now() - lastSweep > checkMs) {
          lastSweep = Date.now();
          await service.sweep();
        }
        done = await service.runBatch(BATCH);
      });
      if (!held || done === 0) nextCheck = Date.now() + checkMs;
      return done;
    })();
  };
  return { service, idleWork };
}

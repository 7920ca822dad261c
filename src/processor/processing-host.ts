import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { type LoadedEmbedder, loadEmbedder, type SemanticStatus } from '../ai/semantic-status.js';
import type { ServerConfig } from '../config.js';
import { type FrameFiles, LocalFrameFiles } from '../images/frame-files.js';
import { ImageStore } from '../images/image-store.js';
import { openDataDir } from '../files/open-data-dir.js';
import type { FileCipher } from '../files/file-cipher.js';
import type { Logger } from '../log.js';
import { createPipeline } from '../pipeline/index.js';
import { startBackgroundCompaction } from '../services/background-compaction.js';
import type { CompactionService } from '../services/compaction-service.js';
import type { Store } from '../store/ports.js';
import { newWorkerId, ProcessingWorker, type ShutdownReport } from './processing-worker.js';
import { CRASH_LIMIT_FACTOR } from './processor-protocol.js';
import { withRedactionScrub } from './redaction-scrub.js';
import { withWordIndexUpkeep } from './word-index-upkeep.js';

/** The processing stages at work: in the server's processor child, or alone as `openrecall worker`. */
export interface ProcessingHost {
  workerId: string;
  worker: ProcessingWorker;
  semantic: SemanticStatus;
  /** The loaded embedding model (the server embeds its queries with it over IPC). */
  embedder: EmbeddingProvider | undefined;
  /** Absent in a worker without the data dir. */
  compaction: CompactionService | undefined;
  /** Stops claiming, lets frames in flight finish within `graceMs`, hands the rest back; the store stays open. */
  stop(graceMs: number): Promise<ShutdownReport>;
}

export interface ProcessingOptions {
  onStage?: (stage: string, seconds: number, ok: boolean) => void;
  /**
   * Where frames are read and written: the mounted data dir (default), or the server's HTTP API for a worker
   * without it. Compaction works on the data dir itself, so it runs only where the data dir is mounted.
   */
  remoteFiles?: FrameFiles;
  /** An encrypted data dir's file cipher (plain when not given). */
  fileCipher?: FileCipher;
  /** The id this host's claims record (the one remoteFiles sends); default: a new one. */
  workerId?: string;
  /** The embedding model loaded already (the server's processor loads it first); default: loaded here. */
  embedder?: LoadedEmbedder;
}

export async function startProcessing(config: ServerConfig, store: Store, log: Logger, options: ProcessingOptions = {}): Promise<ProcessingHost> {
  const images = new ImageStore(openDataDir(config.dataDir, options.fileCipher));
  const files = options.remoteFiles ?? new LocalFrameFiles(images);
  const crashLimit = config.maxAttempts * CRASH_LIMIT_FACTOR;
  if (store.kind === 'sqlite') {
    // Only one processor runs per SQLite data dir, so whatever is PROCESSING now was interrupted (a crash or
    // kill -9 of the server or of a previous processor): back to the queue before anything is claimed.
    const recovered = await store.frames.recoverInterrupted(crashLimit);
    log(`recovered ${recovered.requeued} interrupted frame(s) to PENDING${recovered.failed ? `, failed ${recovered.failed} that kept crashing` : ''}`);
  }
  // With a shared database other workers are alive: only frames whose lease ran out return (the worker does that).
  const semantic = options.embedder ?? (await loadEmbedder(config.ai.embedding));
  if (!semantic.status.enabled && semantic.status.provider !== 'none') log(`semantic search off: ${semantic.status.reason}`);
  const pipeline = await createPipeline(config, files, store, semantic.provider ?? null);
  if (options.onStage) pipeline.onStage = options.onStage;
  // Several processes may share one data dir (PostgreSQL): compaction and its journal belong to one at a time.
  const background = options.remoteFiles
    ? undefined
    : await startBackgroundCompaction(store.compaction, images, config, log, (task) => store.withExclusiveLock('compaction', task));
  const workerId = options.workerId ?? newWorkerId();
  const worker = new ProcessingWorker(store.frames, pipeline, files, {
    // One frame more than OCR workers: the next frame is decoded while the others are being read.
    concurrency: config.workers + 1,
    lifoThreshold: config.lifoThreshold,
    maxAttempts: config.maxAttempts,
    lease: { workerId, seconds: config.leaseSeconds },
    crashLimit,
    log,
    idleWork: withRedactionScrub(
      store,
      log,
      withWordIndexUpkeep(store, log, () => background?.idleWork()),
    ),
  });
  worker.start();
  // PostgreSQL: frames queued by any server wake this worker at once (LISTEN/NOTIFY).
  const unsubscribe = await store.onPendingFrames(() => worker.notify());
  return {
    workerId,
    worker,
    semantic: semantic.status,
    embedder: semantic.provider,
    compaction: background?.service,
    stop: async (graceMs) => {
      await unsubscribe();
      const report = await worker.stop(graceMs);
      await pipeline.close();
      return report;
    },
  };
}

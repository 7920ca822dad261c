import type { ServerConfig } from '../config.js';
import { ImageStore } from '../images/image-store.js';
import { createLogger, type Logger } from '../log.js';
import { createOcrEngine } from '../pipeline/ocr/index.js';
import { OcrStage } from '../pipeline/ocr-stage.js';
import { Pipeline, type PipelineStage } from '../pipeline/stage.js';
import { StoreImageStage } from '../pipeline/store-image-stage.js';
import { ProcessingWorker } from '../queue/processing-worker.js';
import { EntriesService } from '../services/entries-service.js';
import { IngestService } from '../services/ingest-service.js';
import { QueueService } from '../services/queue-service.js';
import { acquireDataDirLock } from '../store/data-dir-lock.js';
import { openDatabase, type Db } from '../store/database.js';
import { EntriesRepository } from '../store/entries-repository.js';
import { VERSION } from '../version.js';
import { buildApp, type App } from './app.js';

export interface RunningServer {
  app: App;
  db: Db;
  url: string;
  worker: ProcessingWorker;
  /** Stops taking requests, lets in-flight frames finish within the grace period, closes everything. */
  close(): Promise<void>;
}

/** Frames interrupted this many times by crashes are failed rather than retried forever. */
const CRASH_LIMIT_FACTOR = 2;

/** Wires the server together: data dir, database, recovery, pipeline, worker, HTTP. */
export async function startServer(config: ServerConfig, log: Logger = createLogger('server')): Promise<RunningServer> {
  const images = new ImageStore(config.dataDir);
  images.ensureDirectories();
  const releaseLock = acquireDataDirLock(config.dataDir);
  let db: Db | undefined;
  try {
    db = openDatabase(images.paths.dbFile, { dataDir: config.dataDir, log });
    const repo = new EntriesRepository(db);

    const recovered = repo.recoverInterrupted(config.maxAttempts * CRASH_LIMIT_FACTOR);
    log(`recovered ${recovered.requeued} interrupted frame(s) to PENDING${recovered.failed ? `, failed ${recovered.failed} that kept crashing` : ''}`);
    const orphans = images.removeOrphanIncoming(repo.referencedPaths('screenshots/incoming/'));
    if (orphans) log(`removed ${orphans} orphan upload file(s)`);

    const stages: PipelineStage[] = [new StoreImageStage(images)];
    const ocr = await createOcrEngine(config.ocrEngine, config.workers);
    if (ocr) stages.push(new OcrStage(ocr));
    const pipeline = new Pipeline(stages);
    const worker = new ProcessingWorker(repo, pipeline, images, {
      // One frame more than OCR workers: the next frame is decoded while the others are being read.
      concurrency: config.workers + 1,
      lifoThreshold: config.lifoThreshold,
      maxAttempts: config.maxAttempts,
      log,
    });

    const onQueued = () => worker.notify();
    const app = await buildApp(
      {
        ingest: new IngestService(repo, images, {
          maxImagePixels: config.maxImagePixels,
          lifoThreshold: config.lifoThreshold,
          maxClockSkewSeconds: 24 * 3600,
          onAccepted: onQueued,
        }),
        queue: new QueueService(repo, {
          lifoThreshold: config.lifoThreshold,
          workers: config.workers,
          maxAttempts: config.maxAttempts,
          ocrEngine: config.ocrEngine,
          version: VERSION,
          onRequeued: onQueued,
        }),
        entries: new EntriesService(repo, images),
      },
      { version: VERSION, debug: config.debug, maxUploadBytes: config.maxUploadBytes, logger: config.debug ? { level: 'debug' } : false },
    );
    const url = await app.listen({ host: config.host, port: config.port });
    worker.start();
    log(`OpenRecall ${VERSION} listening on ${url} (data: ${config.dataDir}, OCR: ${config.ocrEngine} x${config.workers})`);

    const openDb = db;
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const [, report] = await Promise.all([app.close(), worker.stop(config.shutdownGraceMs)]);
        log(`shutdown: ${report.finished} frame(s) finished, ${report.released} returned to PENDING`);
        await pipeline.close();
        openDb.close();
        releaseLock();
      })());
    return { app, db, url, worker, close };
  } catch (error) {
    db?.close();
    releaseLock();
    throw error;
  }
}

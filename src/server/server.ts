import { ConfigError, isLoopbackHost, redactionPolicy, type ServerConfig } from '../config.js';
import { RULES_VERSION } from '../redaction/index.js';
import { AuthService } from '../services/auth-service.js';
import { cachedStorage, MetricsService } from '../services/metrics-service.js';
import { UploadGate } from '../services/upload-gate.js';
import { ImageStore } from '../images/image-store.js';
import { createLogger, type Logger } from '../log.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { loadEmbedder, type SemanticStatus } from '../ai/semantic-status.js';
import { ProcessorQueryEmbedder } from '../search/processor-query-embedder.js';
import { checkOcrLanguages } from '../pipeline/ocr/languages.js';
import { ProcessorSupervisor } from '../processor/processor-supervisor.js';
import { SearchService } from '../search/search-service.js';
import { VectorIndex } from '../search/vector-index.js';
import { FramesService } from '../services/frames-service.js';
import { IngestService } from '../services/ingest-service.js';
import { QueueService } from '../services/queue-service.js';
import { RetentionService } from '../services/retention-service.js';
import { CompactionService } from '../services/compaction-service.js';
import { compactionRoutes } from './routes/compaction.js';
import { lockDataDir } from '../store/data-dir-lock.js';
import type { Db } from '../store/sqlite/database.js';
import type { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/ports.js';
import { VERSION } from '../version.js';
import { buildApp, type App } from './app.js';
import { storageRoutes } from './routes/storage.js';
import { timelineRoutes } from './routes/timeline.js';
import { webRoutes } from './routes/web.js';
import { workerFilesRoutes } from './routes/worker-files.js';
import { DataFilesService } from '../services/data-files-service.js';
import { configRoutes } from './routes/config.js';
import { heartbeatRoutes } from './routes/heartbeat.js';
import { activityRoutes } from './routes/activity.js';
import { mcpRoutes } from './routes/mcp.js';
import { ActivityService } from '../services/activity-service.js';
import { ClientsService } from '../services/clients-service.js';
import { effectiveServerSettings } from '../services/server-settings.js';

/** An unreferenced upload this old on a shared data dir belongs to no server's request in flight. */
const ORPHAN_AGE_SHARED_MS = 3_600_000;

export interface RunningServer {
  app: App;
  store: Store;
  /** The SQLite connection (tests inspect it). */
  db: Db;
  url: string;
  processor: ProcessorSupervisor;
  /** Stops taking requests, lets in-flight frames finish within the grace period, closes everything. */
  close(): Promise<void>;
}

/** Wires the server together: data dir, database, recovery, processor child process, HTTP. */
export async function startServer(config: ServerConfig, log: Logger = createLogger('server')): Promise<RunningServer> {
  checkExposure(config, log);
  checkOcrLanguages(config.ocrEngine, config.ocrLanguages);
  const images = new ImageStore(config.dataDir);
  images.ensureDirectories();
  const releaseLock = lockDataDir(config.dataDir, config.databaseUrl);
  let store: Store | undefined;
  let processor: ProcessorSupervisor | undefined;
  try {
    const opened = await openStore({
      databaseUrl: config.databaseUrl,
      sqliteFile: images.paths.dbFile,
      dataDir: config.dataDir,
      log,
      checkpoints: false,
      applicationName: 'openrecall-server',
    });
    store = opened;
    const repo = store.frames;

    // Another server's upload in flight is an unreferenced file too: on a shared data dir only old ones go.
    const orphans = images.removeOrphanIncoming(await repo.referencedPaths('screenshots/incoming/'), config.databaseUrl ? ORPHAN_AGE_SHARED_MS : 0);
    if (orphans) log(`removed ${orphans} orphan upload file(s)`);

    // The built-in model lives in the processor only (queries are embedded there, over IPC). Other providers are
    // loaded here too, and the built-in one when this server has no processor: a bad local model stops start-up.
    const inProcessor = config.ai.embedding.provider === 'builtin' && !config.noProcessing;
    const own = inProcessor ? undefined : await loadEmbedder(config.ai.embedding);
    let embedder: EmbeddingProvider | undefined = own?.provider;
    const embeddings = store.embeddings;

    const uploadGate = new UploadGate(config.maxConcurrentUploads);
    const metrics = new MetricsService({
      frameCounts: async () => ({ ...(await repo.counts()) }),
      storage: cachedStorage(images.paths),
      uploadsInFlight: () => uploadGate.inFlight,
    });
    const running = new ProcessorSupervisor(config, repo, log, (stage, seconds, ok) => metrics.observeStage(stage, seconds, ok));
    processor = running;
    if (config.noProcessing) log('processing off (--no-processing): frames wait for `openrecall worker` processes');
    else await running.start();
    const semanticStatus = (): SemanticStatus =>
      (inProcessor ? running.semantic : own?.status) ?? {
        enabled: false,
        provider: config.ai.embedding.provider,
        model: null,
        reason: 'the processor has not started',
      };
    if (inProcessor && running.semantic?.enabled && running.semantic.model) embedder = new ProcessorQueryEmbedder(running.semantic.model, running);
    const semantic = semanticStatus();
    if (!semantic.enabled && semantic.provider !== 'none') log(`semantic search off: ${semantic.reason}; keyword search works`);
    const search = new SearchService(store.search, embedder ? { provider: embedder, index: new VectorIndex(embedder.model, embeddings) } : undefined);

    const onQueued = () => running.notify();
    const retention = new RetentionService(store.storage, images, {
      retentionDays: config.retentionDays,
      maxStorageBytes: config.maxStorageBytes,
      log,
      exclusive: (task) => opened.withExclusiveLock('retention', task),
    });
    const queue = new QueueService(repo, {
      lifoThreshold: config.lifoThreshold,
      workers: config.workers,
      maxAttempts: config.maxAttempts,
      ocrEngine: config.ocrEngine,
      version: VERSION,
      onRequeued: onQueued,
      backfill: async () => ({
        embedding: embedder ? await embeddings.missingCount(embedder.model) : null,
        description: config.ai.vlm.url ? await repo.completedWithoutDescription() : null,
        redaction: config.redact === 'off' ? null : await repo.unredacted(RULES_VERSION),
      }),
      storage: () => retention.status(),
      semantic: semanticStatus,
      compaction: () => compaction.status(),
    });
    const frames = new FramesService(repo, images);
    const activity = new ActivityService(store.activity);
    const clients = new ClientsService(store.clients, store.settings, {
      recording_enabled: true,
      upload_enabled: true,
      ai_processing_enabled: true,
      ui_show_ai: config.ai.showAiDescription,
    });
    // Status and the `compact` request only: the compaction itself runs in the processor.
    const compaction = new CompactionService(store.compaction, images, { afterMinutes: config.compactAfterMinutes, log });
    const app = await buildApp(
      {
        ingest: new IngestService(repo, images, {
          maxImagePixels: config.maxImagePixels,
          lifoThreshold: config.lifoThreshold,
          maxClockSkewSeconds: 24 * 3600,
          redaction: redactionPolicy(config.redact),
          onAccepted: (bytes) => {
            onQueued();
            retention.onUploaded(bytes);
          },
        }),
        queue,
        frames,
        search,
        auth: new AuthService(config.apiToken),
        uploadGate,
        metrics,
      },
      {
        version: VERSION,
        debug: config.debug,
        maxUploadBytes: config.maxUploadBytes,
        showAiDescription: config.ai.showAiDescription,
        logger: config.debug ? { level: 'debug' } : false,
        requestTimeoutMs: config.requestTimeoutMs,
        log,
        plugins: [
          timelineRoutes(store.timeline),
          storageRoutes(retention),
          configRoutes(clients, () => effectiveServerSettings(config)),
          heartbeatRoutes(clients),
          activityRoutes(activity),
          mcpRoutes({ search, frames, activity, queue }),
          compactionRoutes(() => {
            running.compactNow();
            return compaction.status();
          }),
          workerFilesRoutes(new DataFilesService(images), config.maxUploadBytes),
          webRoutes(),
        ],
      },
    );
    const url = await app.listen({ host: config.host, port: config.port });
    log(
      `OpenRecall ${VERSION} listening on ${url} (data: ${config.dataDir}, OCR: ${config.ocrEngine} ${config.ocrLanguages} x${config.workers}, semantic search: ${semantic.enabled ? semantic.model : 'off'})`,
    );
    // Retention's first run (and the walk of thumbnails/) happens in the background: start-up does not wait for it.
    retention.start().catch((error: unknown) => log(`retention run failed: ${(error as Error).message}`));

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const [, report] = await Promise.all([app.close(), running.stop(config.shutdownGraceMs), retention.stop()]);
        log(`shutdown: ${report.finished} frame(s) finished, ${report.released} returned to PENDING`);
        await embedder?.close?.();
        await opened.close();
        releaseLock();
      })());
    return {
      app,
      store: opened,
      get db(): Db {
        if (opened.kind !== 'sqlite') throw new Error('server.db exists with SQLite only');
        return (opened as SqliteStore).db;
      },
      url,
      processor: running,
      close,
    };
  } catch (error) {
    await processor?.stop(0);
    await store?.close();
    releaseLock();
    throw error;
  }
}

/**
 * Without a token the server must stay on this machine: a non-loopback OPENRECALL_HOST needs
 * OPENRECALL_API_TOKEN, or an explicit --insecure-no-auth (which is logged loudly).
 */
function checkExposure(config: ServerConfig, log: Logger): void {
  if (config.apiToken !== undefined || isLoopbackHost(config.host)) return;
  if (!config.insecureNoAuth) {
    throw new ConfigError(
      `OPENRECALL_HOST="${config.host}" exposes the server beyond this machine without OPENRECALL_API_TOKEN: set a token (openssl rand -hex 32), or pass --insecure-no-auth to run open anyway`,
    );
  }
  log(
    `WARNING: --insecure-no-auth: serving every screenshot and search on ${config.host} WITHOUT AUTHENTICATION; anyone who can reach this port can read your screen history`,
  );
}

import fs from 'node:fs';
import { ConfigError, redactionPolicy, type ServerConfig } from '../config.js';
import { RULES_VERSION } from '../redaction/index.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import type { SemanticStatus } from '../ai/semantic-status.js';
import type { ImageStore } from '../images/image-store.js';
import type { Logger } from '../log.js';
import { SearchService } from '../search/search-service.js';
import { VectorIndex, vectorIndexFileName } from '../search/vector-index.js';
import { vectorFloor } from '../search/vector-floor.js';
import { AskService } from '../services/ask-service.js';
import { ChatClient } from '../ai/chat-client.js';
import { ActivityService } from '../services/activity-service.js';
import { AuthService } from '../services/auth-service.js';
import { ClientsService } from '../services/clients-service.js';
import { CompactionService } from '../services/compaction-service.js';
import { DataFilesService } from '../services/data-files-service.js';
import { FramesService } from '../services/frames-service.js';
import { IngestService } from '../services/ingest-service.js';
import { cachedStorage, MetricsService } from '../services/metrics-service.js';
import { QueueService } from '../services/queue-service.js';
import { RetentionService } from '../services/retention-service.js';
import { effectiveServerSettings } from '../services/server-settings.js';
import { UploadGate } from '../services/upload-gate.js';
import type { Store } from '../store/ports.js';
import { VERSION } from '../version.js';
import { HostPolicy } from './allowed-hosts.js';
import { buildApp, type App } from './app.js';
import { activityRoutes } from './routes/activity.js';
import { compactionRoutes } from './routes/compaction.js';
import { configRoutes } from './routes/config.js';
import { heartbeatRoutes } from './routes/heartbeat.js';
import { mcpRoutes } from './routes/mcp.js';
import { askRoutes } from './routes/ask.js';
import { storageRoutes } from './routes/storage.js';
import { timelineRoutes } from './routes/timeline.js';
import { webRoutes } from './routes/web.js';
import { workerFilesRoutes } from './routes/worker-files.js';
import { lockRoutes, type LockControl } from './routes/lock.js';
import { describeSettings, v1Routes } from './routes/v1.js';
import { MyRecallV1Service } from '../services/myrecall-v1-service.js';

/** What the HTTP process asks of its processor; none (in-process test apps): frames stay PENDING. */
export interface ProcessorLink {
  notify(): void;
  compactNow(): void;
}

export interface AppParts {
  store: Store;
  images: ImageStore;
  log: Logger;
  processor?: ProcessorLink;
  /** Query embeddings for search by meaning; none: keyword search only. */
  embedder?: EmbeddingProvider;
  semantic?: () => SemanticStatus;
  version?: string;
  /** Fastify's request log; default: on with OPENRECALL_DEBUG. */
  requestLog?: boolean;
  /** An encrypted data dir's server: `openrecall lock` (POST /api/lock); none: GET /api/encryption says not lockable. */
  lock?: LockControl & { locking(): boolean };
}

export interface ComposedApp {
  app: App;
  retention: RetentionService;
  uploadGate: UploadGate;
  metrics: MetricsService;
}

/**
 * The one composition root of the HTTP app: services over a store, every route, and the security hooks
 * (Host/Origin, form bodies, token, session) that `buildApp` installs on the root. The server and the
 * in-process test apps are both built here, so nothing serves requests without those hooks.
 */
export async function composeApp(config: ServerConfig, parts: AppParts): Promise<ComposedApp> {
  const { store, images, log, processor, embedder } = parts;
  const repo = store.frames;
  const onQueued = () => processor?.notify();
  const uploadGate = new UploadGate(config.maxConcurrentUploads);
  const metrics = new MetricsService({
    frameCounts: async () => ({ ...(await repo.counts()) }),
    storage: cachedStorage(images.paths),
    uploadsInFlight: () => uploadGate.inFlight,
  });
  // SQLite: this server alone uses the data dir (server.lock), so it keeps the sign bits in files there, through the
  // DataDir (sealed when the data dir is encrypted). PostgreSQL servers share one data dir: each reads the bits from
  // the database.
  const vectorIndex = embedder
    ? new VectorIndex(embedder.model, store.embeddings, {
        ...(store.kind === 'sqlite' ? { file: { dataDir: images.files, path: `index/${vectorIndexFileName(embedder.model)}` } } : {}),
        log,
      })
    : undefined;
  const search = new SearchService(
    store.search,
    embedder && vectorIndex ? { provider: embedder, index: vectorIndex, floor: vectorFloor(embedder.model, config.ai.vectorFloor) } : undefined,
  );
  const ask = new AskService(search, store.search, config.ai.chat.url ? new ChatClient(config.ai.chat) : undefined, {
    contextTokens: config.ai.chat.contextTokens,
  });
  const retention = new RetentionService(store.storage, images, {
    retentionDays: config.retentionDays,
    maxStorageBytes: config.maxStorageBytes,
    log,
    exclusive: (task) => store.withExclusiveLock('retention', task),
  });
  // Status and the `compact` request only: the compaction itself runs in the processor.
  const compaction = new CompactionService(store.compaction, images, { afterMinutes: config.compactAfterMinutes, log });
  const version = parts.version ?? VERSION;
  const queue = new QueueService(repo, {
    lifoThreshold: config.lifoThreshold,
    workers: config.workers,
    maxAttempts: config.maxAttempts,
    ocrEngine: config.ocrEngine,
    version,
    onRequeued: onQueued,
    backfill: async () => ({
      embedding: embedder && (embedder.available?.() ?? true) ? await store.embeddings.missingCount(embedder.model) : null,
      description: config.ai.vlm.url ? await repo.completedWithoutDescription() : null,
      redaction: config.redact === 'off' ? null : await repo.unredacted(RULES_VERSION),
      redaction_scrub_due: (await store.maintenance.scrubDue()) !== undefined,
    }),
    storage: () => retention.status(),
    ...(parts.semantic ? { semantic: parts.semantic } : {}),
    compaction: () => compaction.status(),
  });
  const frames = new FramesService(repo, images, log);
  const activity = new ActivityService(store.activity);
  const clients = new ClientsService(store.clients, store.settings, {
    recording_enabled: true,
    upload_enabled: true,
    ai_processing_enabled: true,
    ui_show_ai: config.ai.showAiDescription,
  });
  const hosts = new HostPolicy({ bindHost: config.host, allowedHosts: config.allowedHosts });
  const ingest = new IngestService(repo, images, {
    maxImagePixels: config.maxImagePixels,
    lifoThreshold: config.lifoThreshold,
    maxClockSkewSeconds: 24 * 3600,
    redaction: redactionPolicy(config.redact),
    // SQLite: one server, whose start-up deletes a row a crash left without its file (services/lost-uploads.ts).
    uploadsInPlace: !config.databaseUrl,
    onAccepted: (bytes) => {
      onQueued();
      retention.onUploaded(bytes);
    },
  });
  const app = await buildApp(
    {
      ingest,
      queue,
      frames,
      search,
      auth: new AuthService(config.apiToken, store.settings),
      uploadGate,
      metrics,
    },
    {
      version,
      debug: config.debug,
      maxUploadBytes: config.maxUploadBytes,
      maxMetadataBytes: config.maxMetadataBytes,
      showAiDescription: config.ai.showAiDescription,
      logger: (parts.requestLog ?? config.debug) ? { level: 'debug' } : false,
      requestTimeoutMs: config.requestTimeoutMs,
      log,
      hosts,
      trustProxy: config.trustProxy,
      ...(parts.lock ? { locking: parts.lock.locking } : {}),
      ...(config.tls ? { tls: { cert: readPem('OPENRECALL_TLS_CERT', config.tls.certFile), key: readPem('OPENRECALL_TLS_KEY', config.tls.keyFile) } } : {}),
      plugins: [
        timelineRoutes(store.timeline),
        storageRoutes(retention),
        configRoutes(clients, () => effectiveServerSettings(config)),
        heartbeatRoutes(clients),
        v1Routes({
          ingest,
          frames,
          v1: new MyRecallV1Service(repo, search, clients),
          gate: uploadGate,
          maxMetadataBytes: config.maxMetadataBytes,
          description: describeSettings(config.ai.vlm),
          hosts,
        }),
        activityRoutes(activity),
        mcpRoutes({ search, frames, activity, queue, ask }, hosts, config.trustProxy),
        askRoutes(ask),
        compactionRoutes(() => {
          processor?.compactNow();
          return compaction.status();
        }),
        workerFilesRoutes(new DataFilesService(images, store.frames), config.maxUploadBytes, config.workerToken),
        lockRoutes(parts.lock ?? notLockable(images)),
        webRoutes(),
      ],
    },
  );
  if (vectorIndex) {
    // Loaded at start, not at the first search; a rebuild runs in the background while keyword search works.
    vectorIndex.refresh().catch((error: Error) => log(`vector index: ${error.message}`));
    app.addHook('onClose', async () => vectorIndex.close());
  }
  return { app, retention, uploadGate, metrics };
}

/** A server without `openrecall lock`: a plain data dir (or an in-process test app). */
function notLockable(images: ImageStore): LockControl {
  const encrypted = images.files.cipher.kind === 'aead';
  return { status: () => ({ encrypted, source: null, lockable: false }), lock: () => null };
}

function readPem(variable: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new ConfigError(
      `${variable}="${file}" cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the path of a PEM file`,
    );
  }
}

import { askRoutes } from '../../src/server/routes/ask.js';
import { AskService } from '../../src/services/ask-service.js';
import type { InjectOptions } from 'fastify';
import { loadServerConfig, type ServerConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { ImageStore } from '../../src/images/image-store.js';
import { buildApp, type App } from '../../src/server/app.js';
import { storageRoutes } from '../../src/server/routes/storage.js';
import { timelineRoutes } from '../../src/server/routes/timeline.js';
import { AuthService } from '../../src/services/auth-service.js';
import { FramesService } from '../../src/services/frames-service.js';
import { IngestService } from '../../src/services/ingest-service.js';
import { QueueService } from '../../src/services/queue-service.js';
import { RetentionService } from '../../src/services/retention-service.js';
import { UploadGate } from '../../src/services/upload-gate.js';
import { SearchService } from '../../src/search/search-service.js';
import type { Db } from '../../src/store/sqlite/database.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { TestFrame } from './api.js';
import { multipart, type Part, type RawBody } from './multipart.js';
import { tempDir } from './temp-dir.js';

export interface InjectServer {
  app: App;
  db: Db;
  dataDir: string;
  uploadGate: UploadGate;
  /** Requests go through Fastify's inject: routing, hooks, validation and serialization, without a socket. */
  request(options: InjectOptions): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  postUpload(raw: RawBody, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  /** A well-formed upload with the fields the capture client sends. */
  upload(frame: InjectFrame): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The fields of an upload, as the other test helpers take them. */
export type InjectFrame = TestFrame;

let counter = 0;

/**
 * The HTTP app with its real services and routes on a fresh SQLite data dir, in this process: no listening
 * socket, no processor (frames stay PENDING). For the request-validation matrix, which needs nothing else.
 */
export async function startInjectServer(overrides: Partial<ServerConfig> = {}): Promise<InjectServer> {
  const config: ServerConfig = { ...loadServerConfig({}), dataDir: tempDir(), ocrEngine: 'none', workers: 1, ...overrides };
  const images = new ImageStore(config.dataDir);
  images.ensureDirectories();
  const store = openSqliteStore(images.paths.dbFile, { dataDir: config.dataDir, log: silentLogger, checkpoints: false });
  const { db, frames: repo } = store;
  const uploadGate = new UploadGate(config.maxConcurrentUploads);
  const retention = new RetentionService(store.storage, images, {
    retentionDays: config.retentionDays,
    maxStorageBytes: config.maxStorageBytes,
    log: silentLogger,
  });
  const search = new SearchService(store.search);
  const app = await buildApp(
    {
      ingest: new IngestService(repo, images, {
        maxImagePixels: config.maxImagePixels,
        lifoThreshold: config.lifoThreshold,
        maxClockSkewSeconds: 24 * 3600,
        onAccepted: () => {},
      }),
      queue: new QueueService(repo, {
        lifoThreshold: config.lifoThreshold,
        workers: config.workers,
        maxAttempts: config.maxAttempts,
        ocrEngine: config.ocrEngine,
        version: 'test',
        onRequeued: () => {},
      }),
      frames: new FramesService(repo, images),
      search,
      auth: new AuthService(config.apiToken),
      uploadGate,
    },
    {
      version: 'test',
      debug: config.debug,
      maxUploadBytes: config.maxUploadBytes,
      showAiDescription: true,
      plugins: [timelineRoutes(store.timeline), storageRoutes(retention), askRoutes(new AskService(search, store.search, undefined, { contextTokens: 3000 }))],
    },
  );
  await app.ready();
  const request = async (options: InjectOptions) => {
    const response = await app.inject(options);
    let body: unknown = response.body;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      // not JSON (an image, the Prometheus text): kept as text
    }
    return { status: response.statusCode, body, headers: response.headers as Record<string, unknown> };
  };
  return {
    app,
    db,
    dataDir: config.dataDir,
    uploadGate,
    request,
    postUpload: (raw, headers = {}) =>
      request({ method: 'POST', url: '/api/upload', payload: raw.body, headers: { 'content-type': raw.contentType, ...headers } }),
    upload: (frame) => {
      const parts: Part[] = [
        { name: 'timestamp', value: String(frame.timestamp ?? Date.now() / 1000 - 60 + counter++ / 1000) },
        { name: 'active_app', value: frame.app ?? 'TestApp' },
        { name: 'active_window', value: frame.title ?? 'Test window' },
        ...(frame.captureId !== undefined ? [{ name: 'capture_id', value: frame.captureId }] : []),
        ...(frame.monitor !== undefined ? [{ name: 'monitor', value: String(frame.monitor) }] : []),
        { name: 'image', value: frame.image, filename: 'frame.png', type: 'image/png' },
      ];
      const raw = multipart(parts);
      return request({ method: 'POST', url: '/api/upload', payload: raw.body, headers: { 'content-type': raw.contentType } });
    },
    close: async () => {
      await app.close();
      await retention.stop();
      db.close();
    },
  };
}

import type { InjectOptions } from 'fastify';
import { loadServerConfig, type ServerConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { ImageStore } from '../../src/images/image-store.js';
import type { UploadGate } from '../../src/services/upload-gate.js';
import type { App } from '../../src/server/app.js';
import { composeApp } from '../../src/server/compose.js';
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
 * Built by the server's own composition root (src/server/compose.ts), so every security hook is on.
 */
export async function startInjectServer(overrides: Partial<ServerConfig> = {}): Promise<InjectServer> {
  const config: ServerConfig = { ...loadServerConfig({}), dataDir: tempDir(), ocrEngine: 'none', workers: 1, ...overrides };
  const images = new ImageStore(config.dataDir);
  images.ensureDirectories();
  const store = openSqliteStore(images.paths.dbFile, { dataDir: config.dataDir, log: silentLogger, checkpoints: false });
  const { db } = store;
  // The composition root of the server: the same services, routes and security hooks, without a processor.
  const { app, retention, uploadGate } = await composeApp(config, { store, images, log: silentLogger, version: 'test', requestLog: false });
  await app.ready();
  const request = async (options: InjectOptions) => {
    // No socket, so no port: the Host a local client sends on the default port (a foreign one is refused).
    const response = await app.inject({ authority: '127.0.0.1', ...options });
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

import { loadServerConfig, type ServerConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { createTestDatabase } from './postgres.js';
import type { StoreKind } from './stores.js';
import { tempDir } from './temp-dir.js';

export interface InProcessOptions {
  /** SQLite (a file in the data dir, the default) or a fresh PostgreSQL database, dropped when the server closes. */
  store?: StoreKind;
}

/**
 * A test server's config: loopback on a free port, no OCR, no embedding model, one worker, a fresh data dir;
 * `overrides` win. For tests that start the server themselves (e.g. with startServerOrLocked).
 */
export function testServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    ...loadServerConfig({ OPENRECALL_EMBEDDING_PROVIDER: 'none' }),
    dataDir: tempDir(),
    host: '127.0.0.1',
    port: 0,
    ocrEngine: 'none',
    workers: 1,
    ...overrides,
  };
}

/**
 * The real server (SQLite file or PostgreSQL database, HTTP on loopback) inside the test process. Close it in
 * an `after` hook of the suite (node:test hooks registered inside `before` would run right after it).
 */
export async function startInProcessServer(
  overrides: Partial<ServerConfig> = {},
  options: InProcessOptions = {},
): Promise<RunningServer & { api: string; dataDir: string }> {
  const dataDir = overrides.dataDir ?? tempDir();
  const database = options.store === 'postgres' && overrides.databaseUrl === undefined ? await createTestDatabase() : undefined;
  const config = testServerConfig({ dataDir, ...(database ? { databaseUrl: database.url } : {}), ...overrides });
  let server: RunningServer;
  try {
    server = await startServer(config, silentLogger);
  } catch (error) {
    await database?.drop();
    throw error;
  }
  if (options.store && server.store.kind !== options.store) throw new Error(`asked for a ${options.store} server, got ${server.store.kind}`);
  const close = async () => {
    try {
      await server.close();
    } finally {
      await database?.drop();
    }
  };
  // Not a spread: `db` is a getter that throws on PostgreSQL, so it stays a getter here.
  return {
    app: server.app,
    store: server.store,
    get db() {
      return server.db;
    },
    url: server.url,
    processor: server.processor,
    close,
    api: `${server.url}/api`,
    dataDir,
  };
}

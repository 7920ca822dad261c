import { loadServerConfig, type ServerConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { tempDir } from './temp-dir.js';

/**
 * The real server (SQLite file, HTTP on loopback) inside the test process. Close it in an `after` hook of the
 * suite (node:test hooks registered inside `before` would run right after it).
 */
export async function startInProcessServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer & { api: string; dataDir: string }> {
  const dataDir = overrides.dataDir ?? tempDir();
  const config: ServerConfig = {
    ...loadServerConfig({ OPENRECALL_EMBEDDING_PROVIDER: 'none' }),
    dataDir,
    host: '127.0.0.1',
    port: 0,
    ocrEngine: 'none',
    workers: 1,
    ...overrides,
  };
  const server = await startServer(config, silentLogger);
  return { ...server, api: `${server.url}/api`, dataDir };
}

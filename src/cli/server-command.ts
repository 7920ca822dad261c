import { loadServerConfig } from '../config.js';
import { createLogger } from '../log.js';
import { startServer } from '../server/server.js';

/** Runs until SIGINT/SIGTERM, then shuts down gracefully and resolves with exit code 0. */
export async function serverCommand(): Promise<number> {
  const config = loadServerConfig();
  const log = createLogger('server');
  const server = await startServer(config, log);
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log(`${signal} again: exiting now`);
        process.exit(1);
      }
      signalled = true;
      log(`${signal} received: shutting down (grace ${config.shutdownGraceMs / 1000} s)`);
      server.close().then(
        () => resolve(0),
        (error: unknown) => {
          log(`shutdown failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Server plus capture client; until the client exists, the server alone. */
export async function startCommand(): Promise<number> {
  return serverCommand();
}

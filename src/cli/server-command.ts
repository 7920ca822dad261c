import { ConfigError, loadServerConfig, type ServerConfig } from '../config.js';
import { UsageError } from './usage-error.js';
import { createLogger, type Logger } from '../log.js';

/**
 * Resolves with the exit code once SIGINT/SIGTERM has run `stop`: 0 after a clean stop, 1 if it failed.
 * A second signal exits at once.
 */
export function runUntilSignal(log: Logger, what: string, stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log(`${signal} again: exiting now`);
        process.exit(1);
      }
      signalled = true;
      log(`${signal} received: ${what}`);
      stop().then(
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

/** Runs until SIGINT/SIGTERM, then shuts down gracefully and resolves with exit code 0. */
export async function serverCommand(args: string[] = []): Promise<number> {
  const config = withFlags(loadServerConfig(), args);
  const log = createLogger('server');
  // Loaded once the settings are read: a bad one is refused without loading the server's modules.
  const { startServerOrLocked } = await import('../server/server.js');
  const server = await startServerOrLocked(config, log);
  return runUntilSignal(log, `shutting down (grace ${config.shutdownGraceMs / 1000} s)`, () => server.close());
}

/**
 * Server plus capture client in one process, for one machine. Without a usable display (no X11 session,
 * Wayland, a headless box) the server runs alone and says why.
 */
export async function startCommand(args: string[] = []): Promise<number> {
  const { checkDisplay } = await import('../client/display.js');
  const display = await checkDisplay();
  if (!display.ok) {
    createLogger('start')(`running the server without the capture client: ${display.reason}`);
    return serverCommand(args);
  }
  const config = withFlags(loadServerConfig(), args);
  const log = createLogger('server');
  const { startServer } = await import('../server/server.js');
  const server = await startServer(config, log);
  const { startClient } = await import('../client/run-client.js');
  const client = await startClient(createLogger('client'), `${server.url}/api`, display).catch((error: unknown) => {
    createLogger('start')(`running the server without the capture client: ${(error as Error).message}`);
    return undefined;
  });
  return runUntilSignal(log, `stopping the capture client, then the server (grace ${config.shutdownGraceMs / 1000} s)`, async () => {
    await client?.stop();
    await server.close();
  });
}

const FLAGS = ['--insecure-no-auth', '--no-processing'];

/**
 * `--insecure-no-auth`: serve a non-loopback OPENRECALL_HOST without a token (logged as a warning).
 * `--no-processing`: ingest and serve only; `openrecall worker` processes (PostgreSQL).
 */
function withFlags(config: ServerConfig, args: string[]): ServerConfig {
  const unknown = args.find((a) => !FLAGS.includes(a));
  if (unknown) throw new UsageError(`unknown option ${unknown}; usage: openrecall server [--no-processing] [--insecure-no-auth]`);
  const noProcessing = args.includes('--no-processing');
  if (noProcessing && !config.databaseUrl) {
    throw new ConfigError(
      '--no-processing needs OPENRECALL_DATABASE_URL: with SQLite in the data dir only this server can process its frames (workers share a PostgreSQL database)',
    );
  }
  return { ...config, ...(args.includes('--insecure-no-auth') ? { insecureNoAuth: true } : {}), ...(noProcessing ? { noProcessing } : {}) };
}

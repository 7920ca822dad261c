import { createLogger, type Logger } from '../log.js';
import { openBufferCipher } from './buffer-cipher.js';
import { CaptureClient, realDeps } from './client.js';
import { loadClientConfig } from './config.js';
import { ClientAlreadyRunningError } from './control.js';
import type { DisplayCheck } from './display.js';

/** A stopped client must be gone within this long: everything unsent is already safe in the buffer. */
const STOP_DEADLINE_MS = 5000;

/**
 * For `openrecall start`: the client inside the server's process, uploading to that server. Undefined (and
 * logged) when another client already runs for this data dir; the server then runs alone.
 */
export async function startClient(log: Logger, apiUrl: string, display: Extract<DisplayCheck, { ok: true }>): Promise<{ stop(): Promise<void> } | undefined> {
  const config = { ...loadClientConfig(), apiUrl };
  const cipher = await openBufferCipher(config.encryption, config.bufferDir);
  log(`capture backend: ${display.kind} (${display.reason})`);
  const client = new CaptureClient(config, await realDeps(process.env, log, display.kind, config), log, cipher);
  try {
    await client.start();
  } catch (error) {
    if (!(error instanceof ClientAlreadyRunningError)) throw error;
    log(`${error.message}: not starting a second one`);
    return undefined;
  }
  return {
    stop: () => Promise.race([client.stop(), new Promise<void>((resolve) => setTimeout(resolve, STOP_DEADLINE_MS).unref())]),
  };
}

/** Starts the client and resolves with the exit code once SIGINT/SIGTERM has stopped it. */
export async function runClient(display: Extract<DisplayCheck, { ok: true }>, log: Logger = createLogger('client')): Promise<number> {
  const config = loadClientConfig();
  // Before anything else: a key that does not open the buffer stops here, with one line, the buffer untouched.
  const cipher = await openBufferCipher(config.encryption, config.bufferDir);
  log(`capture backend: ${display.kind} (${display.reason})${cipher.kind === 'aead' ? '; buffer encrypted' : ''}`);
  const client = new CaptureClient(config, await realDeps(process.env, log, display.kind, config), log, cipher);
  try {
    await client.start();
  } catch (error) {
    if (error instanceof ClientAlreadyRunningError) {
      console.error(`openrecall: ${error.message}`);
      return 1;
    }
    throw error;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) {
        log(`${why} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      log(`${why}: stopping capture`);
      const deadline = setTimeout(() => {
        log('stop took too long: exiting (buffered frames are safe on disk)');
        process.exit(0);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      client.stop().then(
        () => {
          clearTimeout(deadline);
          resolve(0);
        },
        (error: unknown) => {
          log(`stop failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT received'));
    process.on('SIGTERM', () => stop('SIGTERM received'));
  });
}

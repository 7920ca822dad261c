import { UsageError } from '../cli/usage-error.js';
import { createLogger, type Logger } from '../log.js';
import { openBufferCipher } from './buffer-cipher.js';
import { CaptureClient, realDeps } from './client.js';
import { loadClientConfig } from './config.js';
import { ClientAlreadyRunningError, controlSocketPath, readPausedFlag, sendControl, writePausedFlag, type ControlCommand } from './control.js';
import { checkDisplay, type DisplayCheck } from './display.js';

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

// biome-ignore lint/suspicious/noExplicitAny: the control socket's JSON answer, printed field by field
function printStatus(status: Record<string, any>): void {
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const { frames, buffer, uploader } = status;
  console.log(
    [
      `capture client pid ${status.pid}, up since ${status.started_at}`,
      `  state       ${status.paused ? `paused since ${status.paused_since}` : status.state}${status.state_detail ? ` (${status.state_detail})` : ''}`,
      `  frames      ${frames.captured} captured; skipped: ${frames.skippedSimilar} unchanged, ${frames.skippedExcluded} excluded, ${frames.skippedIdle} idle, ${frames.skippedPaused} paused`,
      `  buffer      ${buffer.items} frame(s), ${mb(buffer.bytes)} of ${mb(buffer.maxBytes)} MB; ${buffer.dropped} dropped (full), ${buffer.quarantined} quarantined`,
      `  upload      ${uploader.state} to ${status.api_url}; ${uploader.delivered} delivered (${uploader.duplicates} duplicate)` +
        (uploader.lastError ? `\n  last error  ${uploader.lastError} (next try ${uploader.nextRetryAt})` : ''),
    ].join('\n'),
  );
}

async function control(command: ControlCommand, json: boolean): Promise<number> {
  const config = loadClientConfig();
  try {
    const answer = await sendControl(controlSocketPath(config.dataDir), command);
    if (!answer.ok) {
      console.error(`openrecall: the capture client refused: ${answer.error}`);
      return 1;
    }
    if (json) console.log(JSON.stringify(answer.status, null, 2));
    else {
      if (command === 'pause') console.log('capture paused');
      if (command === 'resume') console.log('capture resumed');
      printStatus(answer.status);
    }
    return 0;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw error;
    // No client running: the paused flag is what the next client start reads.
    if (command === 'pause') {
      writePausedFlag(config.dataDir, readPausedFlag(config.dataDir) ?? new Date());
      console.log(`no capture client is running for ${config.dataDir}; it will start paused`);
      return 0;
    }
    if (command === 'resume') {
      writePausedFlag(config.dataDir, undefined);
      console.log(`no capture client is running for ${config.dataDir}; it will start capturing`);
      return 0;
    }
    console.error(`openrecall: no capture client is running for ${config.dataDir} (start one with: openrecall client)`);
    return 1;
  }
}

/** `openrecall client [status [--json]]` */
export async function clientCommand(args: string[]): Promise<number> {
  const [sub] = args.filter((a) => !a.startsWith('--'));
  if (sub === 'status') return control('status', args.includes('--json'));
  if (sub !== undefined) throw new UsageError(`usage: openrecall client [status [--json]]`);
  const display = await checkDisplay();
  if (!display.ok) {
    console.error(`openrecall client: cannot capture the screen: ${display.reason}`);
    return 1;
  }
  return runClient(display);
}

export const pauseCommand = (args: string[]) => control('pause', args.includes('--json'));
export const resumeCommand = (args: string[]) => control('resume', args.includes('--json'));

import { UsageError } from '../cli/usage-error.js';
import { loadClientConfig } from './config.js';
import { controlSocketPath, readPausedFlag, sendControl, writePausedFlag, type ControlCommand } from './control.js';
import { checkDisplay } from './display.js';

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
  // Capture, the image codec and the buffer load only here: pause, resume and status talk to the socket.
  const { runClient } = await import('./run-client.js');
  return runClient(display);
}

export const pauseCommand = (args: string[]) => control('pause', args.includes('--json'));
export const resumeCommand = (args: string[]) => control('resume', args.includes('--json'));

import type { QueueStatus } from '../api/index.js';
import { ApiClient, ApiClientError } from '../api-client/client.js';
import { ProgressBar } from './progress.js';

const left = (s: QueueStatus) => s.backfill.redaction ?? 0;
/** Frames to redact, then the rewrite of the database files that drops the text they had (the last step). */
const unfinished = (s: QueueStatus) => left(s) > 0 || s.backfill.redaction_scrub_due === true;

/**
 * `openrecall redact`: the running server redacts frames stored before redaction existed (or by older rules)
 * whenever its queue is empty: text, index, embeddings, images and compacted layers, one frame at a time, each
 * marked with the rules version once done. This starts it now and follows the progress. Interrupted (the
 * command or the server), it resumes where it stopped: only unmarked frames are left.
 */
export async function redactCommand(): Promise<number> {
  const client = ApiClient.fromEnv();
  await client.startBackfill();
  let current = await client.queueStatus();
  if (current.backfill.redaction === null || current.backfill.redaction === undefined) {
    console.log('redaction is off on the server (OPENRECALL_REDACT=off): nothing to do');
    return 1;
  }
  const total = left(current);
  const bar = new ProgressBar(total, 'redacting');
  let last = total;
  let stalledSince = Date.now();
  while (unfinished(current)) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      current = await client.queueStatus();
    } catch (error) {
      if (!(error instanceof ApiClientError)) throw error;
      console.error(`\nlost contact with the server: ${error.message}; run openrecall redact again to resume`);
      return 1;
    }
    if (left(current) < last) stalledSince = Date.now();
    last = left(current);
    const note = current.queue.pending > 0 ? `(waiting: ${current.queue.pending} new frame(s) first)` : last === 0 ? '(scrubbing the database files)' : '';
    bar.update(total - Math.min(total, last), note);
    // The rewrite of the files takes a while on a large database (BENCHMARKS.md), without steps to show.
    if (Date.now() - stalledSince > (last === 0 ? 1_800_000 : 120_000)) {
      console.error(`\nno progress for 2 minutes (${last} left); see the server log and openrecall status`);
      return 1;
    }
  }
  bar.update(total);
  console.log(
    `redaction complete: ${total} frame(s) redacted${current.queue.failed ? `; ${current.queue.failed} frame(s) FAILED (see openrecall status)` : ''}`,
  );
  return 0;
}

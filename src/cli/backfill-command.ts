import type { QueueStatus } from '../api/index.js';
import { ApiClient, ApiClientError } from '../api-client/client.js';
import { ProgressBar } from './progress.js';

const remaining = (s: QueueStatus) => (s.backfill.embedding ?? 0) + (s.backfill.description ?? 0);

/**
 * `openrecall backfill`: the running server gives COMPLETED frames the stages switched on later (AI
 * description, embedding) whenever its queue is empty; this asks it to start now and follows the progress.
 */
export async function backfillCommand(): Promise<number> {
  const client = ApiClient.fromEnv();
  await client.startBackfill();
  let current = await client.queueStatus();
  if (current.backfill.embedding === null && current.backfill.description === null) {
    console.log('nothing to backfill: no AI description or embedding provider is configured');
    return 0;
  }
  const total = remaining(current);
  const bar = new ProgressBar(total, 'backfilling');
  let last = total;
  let stalledSince = Date.now();
  while (remaining(current) > 0) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      current = await client.queueStatus();
    } catch (error) {
      if (!(error instanceof ApiClientError)) throw error;
      console.error(`\nlost contact with the server: ${error.message}; the backfill goes on whenever it runs`);
      return 1;
    }
    const left = remaining(current);
    if (left < last) stalledSince = Date.now();
    last = left;
    bar.update(total - Math.min(total, left), current.queue.pending > 0 ? `(waiting: ${current.queue.pending} new frame(s) first)` : '');
    if (Date.now() - stalledSince > 120_000) {
      console.error(`\nno progress for 2 minutes (${left} left); is the provider reachable? See the server log and the queue page.`);
      return 1;
    }
  }
  bar.update(total);
  console.log(`backfill complete: ${total} frame(s) updated${current.queue.failed ? `; ${current.queue.failed} frame(s) FAILED (see openrecall status)` : ''}`);
  return 0;
}

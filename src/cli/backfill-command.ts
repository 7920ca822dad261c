import { apiUrl, authHeaders } from '../config.js';
import type { QueueStatus } from '../api/index.js';
import { ProgressBar } from './progress.js';

async function status(base: string): Promise<QueueStatus> {
  const response = await fetch(`${base}/queue/status`, { headers: authHeaders(), signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${base}/queue/status answered ${response.status}`);
  return (await response.json()) as QueueStatus;
}

const remaining = (s: QueueStatus) => (s.backfill.embedding ?? 0) + (s.backfill.description ?? 0);

/**
 * `openrecall backfill`: the running server gives COMPLETED frames the stages switched on later (AI
 * description, embedding) whenever its queue is empty; this asks it to start now and follows the progress.
 */
export async function backfillCommand(): Promise<number> {
  const base = apiUrl();
  let current: QueueStatus;
  try {
    const response = await fetch(`${base}/queue/backfill`, { method: 'POST', headers: authHeaders(), signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`${base}/queue/backfill answered ${response.status}`);
    current = await status(base);
  } catch (error) {
    console.error(`openrecall: no server answering at ${base} (${(error as Error).cause ?? (error as Error).message}); start it with: openrecall server`);
    return 1;
  }
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
      current = await status(base);
    } catch (error) {
      console.error(`\nlost contact with the server at ${base} (${(error as Error).cause ?? (error as Error).message}); the backfill goes on whenever it runs`);
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

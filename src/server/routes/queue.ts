import type { FastifyInstance } from 'fastify';
import type { QueueService } from '../../services/queue-service.js';
import { BackfillStarted, QueueStatus, RetriedCount } from '../../api/index.js';

export async function queueRoutes(app: FastifyInstance, options: { queue: QueueService }): Promise<void> {
  app.get(
    '/api/queue/status',
    { schema: { summary: 'Queue counts, processing mode, throughput and system facts', tags: ['queue'], response: { 200: QueueStatus } } },
    async () => options.queue.status(),
  );
  app.post(
    '/api/queue/backfill',
    {
      schema: {
        summary: 'Start backfilling stages switched on later (AI description, embedding) now; progress shows in queue status',
        tags: ['queue'],
        response: { 200: BackfillStarted },
      },
    },
    async () => ({ started: options.queue.startBackfill() }),
  );
  app.post(
    '/api/queue/retry_failed',
    {
      schema: {
        summary: 'Move every FAILED frame back to PENDING',
        tags: ['queue'],
        response: { 200: RetriedCount },
      },
    },
    async () => ({ retried: await options.queue.retryFailed() }),
  );
}

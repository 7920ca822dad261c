import type { FastifyInstance } from 'fastify';
import type { MetricsService } from '../../services/metrics-service.js';

/** GET /metrics: Prometheus text exposition format (requires the token when one is set). */
export async function metricsRoutes(app: FastifyInstance, options: { metrics: MetricsService }): Promise<void> {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics: frames by status, ingest latency, stage durations and failures, storage, client buffers',
        tags: ['system'],
        produces: ['text/plain'],
      },
    },
    async (_request, reply) =>
      reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(await options.metrics.render()),
  );
}

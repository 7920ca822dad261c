import type { FastifyInstance } from 'fastify';
import { Health } from '../../api/index.js';

export async function healthRoutes(app: FastifyInstance, options: { version: string }): Promise<void> {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'Liveness check',
        tags: ['system'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const, version: options.version }),
  );
}

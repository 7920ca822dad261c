import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

export async function healthRoutes(app: FastifyInstance, options: { version: string }): Promise<void> {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'Liveness check',
        tags: ['system'],
        response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }) },
      },
    },
    async () => ({ status: 'ok' as const, version: options.version }),
  );
}

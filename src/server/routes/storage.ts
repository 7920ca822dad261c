import type { FastifyInstance } from 'fastify';
import type { RetentionService } from '../../services/retention-service.js';
import { PruneQuery, PruneReport } from '../../api/index.js';

/** Retention on demand (`openrecall prune` while the server runs). */
export function storageRoutes(retention: RetentionService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Querystring: PruneQuery }>(
      '/api/storage/prune',
      {
        schema: {
          summary: 'Apply retention (OPENRECALL_RETENTION_DAYS, OPENRECALL_MAX_STORAGE_GB) now, or report what it would delete',
          tags: ['storage'],
          querystring: PruneQuery,
          response: { 200: PruneReport },
        },
      },
      async (request) => retention.run({ dryRun: request.query.dry_run ?? false }),
    );
  };
}

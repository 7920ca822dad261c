import type { FastifyInstance } from 'fastify';
import type { CompactionStatus as Status } from '../../services/compaction-service.js';
import { CompactionStatus } from '../schemas.js';

/** Compaction on demand (`openrecall compact` while the server runs); progress shows in queue status. */
export function compactionRoutes(compactNow: () => Promise<Status>) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/api/storage/compact',
      {
        schema: {
          summary: 'Compact every processed frame now, whatever its age (the processor does it in the background)',
          tags: ['storage'],
          response: { 200: CompactionStatus },
        },
      },
      async () => compactNow(),
    );
  };
}

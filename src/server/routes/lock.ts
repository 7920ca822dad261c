import type { FastifyInstance } from 'fastify';
import { EncryptionStatus, LockRequest, LockResult } from '../../api/index.js';
import { ApiError } from '../../errors.js';

/** What the running server offers to `openrecall lock` and the web UI's Lock button. */
export interface LockControl {
  status(): EncryptionStatus;
  /** Starts the lock (after this reply goes out); null when this server cannot be locked (not encrypted). */
  lock(): LockResult | null;
}

export function lockRoutes(control: LockControl) {
  return async function lockPlugin(app: FastifyInstance): Promise<void> {
    app.get(
      '/api/encryption',
      { schema: { summary: 'Whether the memory is encrypted and this server can be locked', tags: ['system'], response: { 200: EncryptionStatus } } },
      async () => control.status(),
    );
    app.post<{ Body: LockRequest }>(
      '/api/lock',
      {
        schema: {
          summary: 'Lock: stop serving the memory, close the database, wipe the keys from memory, serve the unlock page',
          description: 'Takes an empty JSON object. Uploads meanwhile answer 503 with Retry-After (clients keep their frames); other routes 423.',
          tags: ['system'],
          body: LockRequest,
          response: { 200: LockResult },
        },
      },
      async () => {
        const result = control.lock();
        if (result) return result;
        if (control.status().encrypted)
          throw new ApiError(409, 'this server process cannot be locked (it was not started by `openrecall server`)', 'NOT_LOCKABLE');
        throw new ApiError(409, 'the memory is not encrypted: there is no key to wipe (see `openrecall encrypt`)', 'NOT_ENCRYPTED');
      },
    );
  };
}

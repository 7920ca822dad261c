import type { Logger } from '../log.js';
import { RULES_VERSION } from '../redaction/index.js';
import type { Store } from '../store/ports.js';

/** How often an idle processor asks whether a scrub is due (one small query). */
const CHECK_MS = 2000;

/**
 * Idle work that runs before `next` (compaction): once the old frames are all redacted, the database files
 * are rewritten so that none of their old text survives (MaintenanceRepository.scrub). Resolves to 1 after
 * a scrub (the worker comes back at once), otherwise to what `next` did.
 */
export function withRedactionScrub(
  store: Pick<Store, 'maintenance' | 'frames' | 'withExclusiveLock' | 'wordIndex'>,
  log: Logger,
  next: () => Promise<unknown> | undefined,
): () => Promise<unknown> | undefined {
  let nextCheck = 0;
  return () => {
    if (Date.now() < nextCheck) return next();
    nextCheck = Date.now() + CHECK_MS;
    return (async () => {
      const due = await store.maintenance.scrubDue();
      if (due === undefined || (await store.frames.unredacted(RULES_VERSION)) > 0) return next();
      const started = performance.now();
      // The packed word index holds the old words of the frames redacted since it was built: they go first.
      const { wordIndex } = store;
      const repaired = !wordIndex || (await store.withExclusiveLock('word-index', () => wordIndex.repairAll()));
      if (!repaired) return next();
      const ran = await store.withExclusiveLock('redaction-scrub', () => store.maintenance.scrub(due));
      if (ran) log(`database scrubbed of the text redaction replaced (${Math.round(performance.now() - started)} ms)`);
      return ran ? 1 : next();
    })();
  };
}

import type { Logger } from '../log.js';
import type { Store } from '../store/ports.js';

/** How long an idle processor waits, once the index is up to date, before it looks again (one small query). */
const CHECK_MS = 2000;

/**
 * Idle work that runs before `next`: builds the packed word index (PostgreSQL) a segment at a time, one processor at a
 * time. Resolves to 1 after a segment (the worker comes back at once, after any frame that came in meanwhile),
 * otherwise to what `next` did. Without a word index (SQLite) it is `next` itself.
 */
export function withWordIndexUpkeep(
  store: Pick<Store, 'wordIndex' | 'withExclusiveLock'>,
  log: Logger,
  next: () => Promise<unknown> | undefined,
): () => Promise<unknown> | undefined {
  const wordIndex = store.wordIndex;
  if (!wordIndex) return next;
  let nextCheck = 0;
  let segments = 0;
  let started = 0;
  return () => {
    if (Date.now() < nextCheck) return next();
    return (async () => {
      let built = false;
      if (segments === 0) started = performance.now();
      await store.withExclusiveLock('word-index', async () => {
        built = await wordIndex.step();
      });
      if (built) return ++segments;
      if (segments > 0) log(`word index: ${segments} segment(s) packed or repaired (${Math.round(performance.now() - started)} ms)`);
      segments = 0;
      nextCheck = Date.now() + CHECK_MS;
      return next();
    })();
  };
}

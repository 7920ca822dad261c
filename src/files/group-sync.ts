/**
 * Group commit: callers that ask for a sync while the syncs in flight are at their limit share the next one, so N
 * uploads in flight cost a few fsyncs, not N. A caller is only answered by a sync that started after it asked (a
 * running one may have started before the caller's write, so it would not cover it).
 *
 * Pipelined: up to `maxInFlight` syncs run at once, so a caller that arrives while one runs starts its own at once
 * instead of waiting for the running one to finish first (which made it wait for up to two fsyncs). The kernel
 * joins concurrent fsyncs of one file system into one journal commit anyway; the limit only bounds the threads.
 */
export class GroupSync {
  private inFlight = 0;
  /** The next sync, not started yet: every caller that asks meanwhile is answered by it. */
  private queued: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(
    private readonly flush: () => Promise<void>,
    private readonly maxInFlight = 2,
  ) {}

  sync(): Promise<void> {
    if (this.queued) return this.queued.promise;
    if (this.inFlight < this.maxInFlight) return this.start();
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.queued = { promise, resolve, reject };
    return promise;
  }

  private start(): Promise<void> {
    this.inFlight++;
    return new Promise<void>((resolve) => resolve(this.flush())).finally(() => {
      this.inFlight--;
      const queued = this.queued;
      if (!queued) return;
      this.queued = undefined;
      this.start().then(queued.resolve, queued.reject);
    });
  }
}

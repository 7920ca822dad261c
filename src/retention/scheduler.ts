/**
 * The only timers of retention: a periodic run, and one sooner check at a time (after an upload crossed the
 * budget, or a run left frames that were still waiting). The runs themselves are plain calls.
 */
export class RetentionScheduler {
  private periodic: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: { intervalMs: number; recheckMs: number }) {}

  periodically(task: () => void): void {
    if (this.stopped) return;
    this.periodic = setInterval(task, this.options.intervalMs);
    this.periodic.unref();
  }

  /** Runs `task` after the recheck delay, unless a check is already due. */
  recheck(task: () => void): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      task();
    }, this.options.recheckMs);
    this.soon.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.periodic);
    clearTimeout(this.soon);
  }
}

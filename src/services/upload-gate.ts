/**
 * Bounds the uploads being received and stored at once. Past the bound the server answers 503 with
 * Retry-After at once, rather than queueing connections (and their bodies in memory) without limit.
 */
export class UploadGate {
  private active = 0;

  constructor(
    readonly limit: number,
    /** What the 503 tells the client to wait, in seconds. */
    readonly retryAfterSeconds = 2,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  /** A release function (idempotent) when a slot is free, else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.limit) return undefined;
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}

import pg from 'pg';

export const PENDING_CHANNEL = 'openrecall_frames';
/** `openrecall lock` and unlock (pg-memory-lock-repository.ts). */
export const LOCK_CHANNEL = 'openrecall_lock';
const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 30_000;

/**
 * One connection that LISTENs on a channel (by default frames becoming PENDING: a trigger NOTIFYs) and wakes every listener.
 * When the connection drops it reconnects with backoff and then wakes the listeners once, since
 * notifications sent meanwhile were lost.
 */
export class PendingListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private closed = false;
  /** Notifications may have been sent while not listening: wake everyone once listening again. */
  private missed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly log: (message: string) => void,
    private readonly channel: string = PENDING_CHANNEL,
  ) {}

  /** Adds a listener; resolves once the connection listens (or failed once, then retries in the background). */
  async subscribe(listener: () => void): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    if (!this.client && !this.retryTimer) await (this.connecting ??= this.connect());
    return async () => {
      this.listeners.delete(listener);
    };
  }

  private get what(): string {
    return this.channel === LOCK_CHANNEL ? 'lock' : 'frame';
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.wake();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      this.log(`${this.what} notifications unavailable (${(error as Error).message}); retrying`);
      client.end().catch(() => {});
      this.connecting = undefined;
      this.missed = true;
      this.scheduleRetry();
      return;
    }
    this.connecting = undefined;
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    if (this.missed) (this.missed = false), this.wake();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    if (this.closed) return;
    this.log(`${this.what} notifications: connection lost; reconnecting`);
    this.missed = true;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connecting ??= this.connect();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, LAST_RETRY_MS);
  }

  private wake(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the others still wake.
      }
    }
  }
}

import { ApiClient } from '../api-client/client.js';
import type { FrameUpload, UploadResponse } from '../api-client/upload.js';
import type { Logger } from '../log.js';
import { CorruptItemError, type FrameBuffer } from './buffer.js';
import { systemClock, type Clock } from './clock.js';

export interface UploaderOptions {
  apiUrl: string;
  /** OPENRECALL_API_TOKEN: sent as Authorization: Bearer. */
  token?: string;
  timeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  log: Logger;
  clock?: Clock;
  /** The HTTP call; the API client's upload unless replaced. */
  upload?: (frame: FrameUpload, options: { timeoutMs: number; signal: AbortSignal }) => Promise<UploadResponse>;
  random?: () => number;
}

export interface UploaderStatus {
  state: 'idle' | 'uploading' | 'retrying' | 'held' | 'stopped';
  delivered: number;
  duplicates: number;
  quarantined: number;
  failedAttempts: number;
  lastError?: string;
  nextRetryAt?: string;
}

/** Retry-After is honoured up to this long (a misbehaving proxy must not park the client for days). */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

export type Verdict = { kind: 'delivered'; duplicate: boolean } | { kind: 'retry'; reason: string } | { kind: 'reject'; reason: string };

/**
 * What a server answer means for the item:
 * - 202 accepted and 200 duplicate (any 2xx): delivered, the item leaves the buffer.
 * - 408, 429, 5xx (507 disk full, 503 busy...): transient, retried with backoff.
 * - 401, 403, 404, 405: the request never reached the upload endpoint as configured (wrong URL, missing
 *   token). That is a setup problem, not a bad frame, so it is retried too, rather than quarantining every
 *   frame the client will ever take.
 * - Any other 4xx: this frame is rejected; it is quarantined with the server's message.
 */
export function classify(response: UploadResponse): Verdict {
  const { status, body } = response;
  const message = typeof body.message === 'string' && body.message ? body.message : typeof body.error === 'string' ? body.error : '';
  const reason = `HTTP ${status}${message ? `: ${message}` : ''}`;
  if (status >= 200 && status < 300) return { kind: 'delivered', duplicate: body.status === 'duplicate' };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', reason };
  if ([401, 403, 404, 405].includes(status)) return { kind: 'retry', reason: `${reason} (check OPENRECALL_API_URL / credentials)` };
  if (status >= 400) return { kind: 'reject', reason };
  return { kind: 'retry', reason: `unexpected ${reason}` };
}

/** Exponential backoff with "equal jitter": between half and all of min(max, initial * 2^attempt). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Sends buffered frames one at a time, oldest first. Never gives up on a transient failure; never lets one
 * bad frame block the others.
 */
export class Uploader {
  private readonly clock: Clock;
  private readonly upload: NonNullable<UploaderOptions['upload']>;
  private readonly random: () => number;
  private readonly stopController = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly info: UploaderStatus = { state: 'idle', delivered: 0, duplicates: 0, quarantined: 0, failedAttempts: 0 };
  private unsubscribe: (() => void) | undefined;
  private held = false;

  constructor(
    private readonly buffer: FrameBuffer,
    private readonly options: UploaderOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    const client = new ApiClient(options.apiUrl, options.token !== undefined ? { token: options.token } : {});
    this.upload = options.upload ?? ((frame, o) => client.upload(frame, o));
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.unsubscribe = this.buffer.onWrite(() => this.notify());
    this.loop = this.run();
  }

  /** A new item is waiting. */
  notify(): void {
    this.wake?.();
  }

  /** Holds uploads (the server's upload_enabled is false): frames stay in the buffer until released. */
  hold(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    if (!held) this.wake?.();
  }

  status(): UploaderStatus {
    return { ...this.info };
  }

  /** Interrupts any upload or backoff wait; unsent items stay in the buffer. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.stopController.abort();
    this.wake?.();
    await this.loop;
    this.info.state = 'stopped';
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    const { log } = this.options;
    let attempt = 0;
    while (!this.stopped) {
      const name = this.held ? undefined : this.buffer.next();
      if (!name) {
        this.info.state = this.held ? 'held' : 'idle';
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      let frame;
      try {
        frame = this.buffer.read(name);
      } catch (error) {
        if (!(error instanceof CorruptItemError)) throw error;
        this.buffer.quarantine(name, `corrupt: ${error.message}`);
        this.info.quarantined++;
        continue;
      }
      this.info.state = 'uploading';
      let verdict: Verdict;
      let retryAfterMs = 0;
      try {
        const response = await this.upload(
          {
            image: frame.image,
            contentType: frame.meta.contentType,
            timestamp: frame.meta.timestamp,
            app: frame.meta.app,
            title: frame.meta.title,
            captureId: frame.meta.captureId,
            monitor: frame.meta.monitor,
            bufferBytes: this.buffer.stats().bytes,
          },
          { timeoutMs: this.options.timeoutMs, signal: this.stopController.signal },
        );
        verdict = classify(response);
        if (response.retryAfter) retryAfterMs = Math.min(MAX_RETRY_AFTER_MS, response.retryAfter * 1000);
      } catch (error) {
        if (this.stopped) break;
        const e = error as Error & { cause?: { code?: string; message?: string } };
        const detail = e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
        verdict = { kind: 'retry', reason: `server unreachable at ${this.options.apiUrl} (${detail})` };
      }

      if (verdict.kind === 'delivered') {
        this.buffer.remove(name);
        this.info.delivered++;
        if (verdict.duplicate) this.info.duplicates++;
        if (attempt > 0) log(`upload works again after ${attempt} failed attempt(s); ${this.buffer.stats().items} frame(s) still buffered`);
        attempt = 0;
        delete this.info.lastError;
        delete this.info.nextRetryAt;
      } else if (verdict.kind === 'reject') {
        this.buffer.quarantine(name, `rejected by the server: ${verdict.reason}`);
        this.info.quarantined++;
        if (attempt > 0) log(`upload works again after ${attempt} failed attempt(s)`);
        attempt = 0;
      } else {
        const delay = Math.max(backoffDelay(attempt, this.options.backoffInitialMs, this.options.backoffMaxMs, this.random), retryAfterMs);
        this.info.state = 'retrying';
        this.info.failedAttempts++;
        if (attempt === 0 || verdict.reason !== this.info.lastError || attempt % 10 === 0) {
          log(`upload failed: ${verdict.reason}; ${this.buffer.stats().items} frame(s) kept in the buffer, retrying in ${(delay / 1000).toFixed(1)} s`);
        }
        this.info.lastError = verdict.reason;
        this.info.nextRetryAt = new Date(this.clock.now() + delay).toISOString();
        attempt++;
        await this.clock.sleep(delay, this.stopController.signal);
      }
    }
    this.info.state = 'stopped';
  }
}
